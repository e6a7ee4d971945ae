#!/usr/bin/python3
"""PyTorch eager version of the chapter's MNIST training step, for the peer
harness.

The same 784-200-10 sigmoid MLP as Kiln's trainer and the NumPy reference
(mnist_numpy.py), with the same initial weights (seed 3, uniform on ±0.5,
drawn by the reference's own code): PyTorch's autograd computes the
gradients of the mean softmax cross-entropy, and plain SGD, p -= lr·∂p,
updates the parameters. Each step also counts the batch's correct
predictions, as the other implementations do.

  # Print the summed loss and train accuracy of each epoch:
  /usr/bin/python3 mnist_torch.py --epochs=5
  # Serve the harness's timing requests (see timing_worker.py):
  /usr/bin/python3 mnist_torch.py --serve --dtype=f32 --threads=1
"""

import argparse
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mnist_numpy  # noqa: E402
import timing_worker  # noqa: E402


def build(args):
    """Returns (parameters, batches) for the sigmoid experiment."""
    np_dtype = {"f32": "float32", "f64": "float64"}[args.dtype]
    preset = mnist_numpy.EXPERIMENTS["sigmoid"]
    x, _, labels = mnist_numpy.load(os.path.join(args.data_dir, "mnist"),
                                    "train", 1000, np_dtype)
    params = []
    for w, b in mnist_numpy.init_params([784, 200, 10],
                                        preset["init"].split(","),
                                        preset["seed"], np_dtype):
        params += [torch.from_numpy(w).requires_grad_(),
                   torch.from_numpy(b).requires_grad_()]
    x, labels = torch.from_numpy(x), torch.from_numpy(labels)
    batches = [(x[s:s + 100], labels[s:s + 100])
               for s in range(0, len(x), 100)]
    return params, batches


def train_batch(params, x, labels, lr):
    """One SGD step; returns (summed cross-entropy, correct count)."""
    w1, b1, w2, b2 = params
    logits = torch.sigmoid(x @ w1 + b1) @ w2 + b2
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None
    correct = (logits.detach().argmax(dim=1) == labels).sum()
    return loss.detach() * len(x), correct


def main():
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data_dir", default=os.environ.get(
        "KILN_DATA", os.path.join(mnist_numpy.REPO, ".data")))
    p.add_argument("--dtype", choices=["f32", "f64"], default="f32")
    p.add_argument("--threads", type=int, default=1,
                   help="torch.set_num_threads (default 1)")
    p.add_argument("--epochs", type=int, default=1,
                   help="epochs to train and report without --serve")
    p.add_argument("--serve", action="store_true",
                   help="serve timing requests instead of reporting")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    params, batches = build(args)
    lr = 0.05

    def run_epoch():
        loss, correct = 0.0, 0
        for x, labels in batches:
            batch_loss, batch_correct = train_batch(params, x, labels, lr)
            loss += float(batch_loss)
            correct += int(batch_correct)
        return loss, correct

    if args.serve:
        return timing_worker.serve(run_epoch)
    for epoch in range(args.epochs):
        loss, correct = run_epoch()
        print(f"epoch {epoch:5d}  loss {loss:10.3f}  train_acc "
              f"{correct / 1000:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
