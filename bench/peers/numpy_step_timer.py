#!/usr/bin/python3
"""Peer-harness worker (see timing_worker.py) for the NumPy reference.

Times the reference's own training step, mnist_numpy.train_batch, on the
chapter's sigmoid experiment: the first 1000 MNIST training images in ten
batches of 100 per epoch, SGD updates included, no evaluation. NumPy's matrix
products go to the BLAS that Debian's alternatives select (OpenBLAS); the
harness pins its threads and core type through the environment.

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 numpy_step_timer.py --dtype=f64
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mnist_numpy  # noqa: E402
import timing_worker  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data_dir", default=os.environ.get(
        "KILN_DATA", os.path.join(mnist_numpy.REPO, ".data")))
    p.add_argument("--dtype", choices=["f32", "f64"], default="f32")
    args = p.parse_args()
    dtype = np.float32 if args.dtype == "f32" else np.float64

    preset = mnist_numpy.EXPERIMENTS["sigmoid"]
    x, y, labels = mnist_numpy.load(os.path.join(args.data_dir, "mnist"),
                                    "train", 1000, dtype)
    acts = [mnist_numpy.activation(preset["activation"], 0.01)]
    params = mnist_numpy.init_params([784, 200, 10],
                                     preset["init"].split(","),
                                     preset["seed"], dtype)
    lr = dtype(0.05)
    batches = [(x[s:s + 100], y[s:s + 100], labels[s:s + 100])
               for s in range(0, len(x), 100)]

    def run_epoch():
        for bx, by, bl in batches:
            mnist_numpy.train_batch(params, acts, bx, by, bl, lr, None)

    return timing_worker.serve(run_epoch)


if __name__ == "__main__":
    sys.exit(main())
