#!/usr/bin/python3
"""Kiln's checkpoints and Python agree, value for value, in both directions.

1. Kiln trains and saves; this script reads the file with the spec-written
   reader (safetensors_io.py) into NumPy arrays and, separately, PyTorch
   tensors; checks names, shapes, dtypes and metadata; and checks that a
   forward pass over the MNIST test set with those values, in NumPy and in
   PyTorch, gives the test accuracy Kiln reported.
2. This script writes a file from NumPy arrays (those values, perturbed, in
   f32; no Kiln metadata, tensors in reverse name order, header unpadded);
   Kiln loads it, evaluates it with
   --epochs=0 and saves it again; the values Kiln saved are bit for bit the
   ones written, and Kiln's test accuracy matches NumPy's.

Usage: safetensors_python_test.py MNIST_BINARY SAFETENSORS_IO MNIST_NUMPY
with KILN_DATA set.
"""

import importlib.util
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import torch


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MNIST, IO_PATH, REFERENCE_PATH = sys.argv[1:4]
st = load_module("safetensors_io", IO_PATH)
reference = load_module("mnist_numpy", REFERENCE_PATH)
DATA = os.environ["KILN_DATA"]
failures = []


def check(condition, message):
    print(("ok: " if condition else "FAIL: ") + message)
    if not condition:
        failures.append(message)


def kiln(*flags):
    """Runs the mnist command and returns its stdout."""
    command = [MNIST, f"--data_dir={DATA}", "--quiet", *flags]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"FAIL: {' '.join(command)}: {done.stderr}")
    return done.stdout


def test_accuracy(params, x, labels, lib):
    """The fraction of test images whose largest logit is the label, for the
    784-200-10 sigmoid model, in NumPy (lib=np) or PyTorch (lib=torch)."""
    if lib is torch:
        x = torch.from_numpy(x)
        h = torch.sigmoid(x @ params["hidden1.weight"] + params["hidden1.bias"])
        logits = h @ params["output.weight"] + params["output.bias"]
        predicted = torch.argmax(logits, dim=1).numpy()
    else:
        z = x @ params["hidden1.weight"] + params["hidden1.bias"]
        h = 1 / (1 + np.exp(-z))
        logits = h @ params["output.weight"] + params["output.bias"]
        predicted = np.argmax(logits, axis=1)
    return int(np.sum(predicted == labels))


def last_test_accuracy(csv_path):
    with open(csv_path) as f:
        return float(f.read().strip().splitlines()[-1].split(",")[3])


def kiln_to_python(work, x, labels):
    path = os.path.join(work, "kiln.safetensors")
    csv = os.path.join(work, "metrics.csv")
    kiln("--epochs=3", "--eval_every=1", f"--save={path}",
         f"--metrics_out={csv}")
    kiln_correct = round(last_test_accuracy(csv) * len(labels))

    arrays, metadata = st.read(path)
    expected = {"hidden1.weight": (784, 200), "hidden1.bias": (200,),
                "output.weight": (200, 10), "output.bias": (10,)}
    check({k: v.shape for k, v in arrays.items()} == expected,
          f"names and shapes are the layers': {sorted(arrays)}")
    check(all(v.dtype == np.float64 for v in arrays.values()),
          "every tensor is F64")
    check(metadata.get("architecture") ==
          "784-200:sigmoid-10:softmax_cross_entropy",
          f"metadata architecture: {metadata.get('architecture')}")
    check(metadata.get("dtype") == "f64" and
          metadata.get("epochs_completed") == "3",
          f"metadata dtype and epochs: {metadata}")

    tensors = st.read_torch(path)
    check(all(torch.equal(tensors[k], torch.from_numpy(arrays[k]))
              for k in arrays),
          "PyTorch decodes the same values as NumPy")
    numpy_correct = test_accuracy(arrays, x, labels, np)
    torch_correct = test_accuracy(tensors, x, labels, torch)
    # The three forward passes round differently inside their matrix
    # products, which may move an image whose top two logits nearly tie.
    check(abs(numpy_correct - kiln_correct) <= 1 and
          abs(torch_correct - kiln_correct) <= 1,
          f"test images right: kiln {kiln_correct}, numpy {numpy_correct}, "
          f"torch {torch_correct}")
    return arrays


def python_to_kiln(work, trained, x, labels):
    # The trained values in f32, nudged so that they are not Kiln's own
    # output, in reverse name order.
    rng = np.random.default_rng(7)
    written = {name: (trained[name] + rng.normal(0, 1e-3, trained[name].shape)
                      ).astype(np.float32)
               for name in sorted(trained, reverse=True)}
    path = os.path.join(work, "numpy.safetensors")
    st.write(path, written, metadata={"source": "numpy"}, align=0)

    back_path = os.path.join(work, "back.safetensors")
    out = kiln("--dtype=f32", f"--load={path}", "--epochs=0",
               f"--save={back_path}")
    match = re.search(r"test_acc (\d\.\d+)", out)
    check(match is not None, f"kiln evaluated the file: {out.strip()}")
    back, metadata = st.read(back_path)
    check(all(back[k].dtype == np.float32 and
              back[k].tobytes() == written[k].tobytes() for k in written),
          "kiln saved the values python wrote, bit for bit")
    check(metadata.get("architecture") ==
          "784-200:sigmoid-10:softmax_cross_entropy" and
          metadata.get("dtype") == "f32" and
          metadata.get("epochs_completed") == "0",
          f"kiln recorded what the values are: {metadata}")
    x32 = x.astype(np.float32)
    numpy_accuracy = test_accuracy(written, x32, labels, np) / len(labels)
    check(match is not None and
          abs(float(match.group(1)) - numpy_accuracy) <= 0.0015,
          f"test accuracy: kiln {match.group(1) if match else '?'}, "
          f"numpy {numpy_accuracy:.4f}")


def main():
    x, _, labels = reference.load(os.path.join(DATA, "mnist"), "t10k", None,
                                  np.float64)
    with tempfile.TemporaryDirectory() as work:
        trained = kiln_to_python(work, x, labels)
        python_to_kiln(work, trained, x, labels)
    print(f"{len(failures)} failures")
    sys.exit(1 if failures else 0)


main()
