#!/usr/bin/python3
"""NumPy reference for Kiln's MNIST trainer.

This is the textbook-chapter MLP written out by hand in NumPy: forward pass,
softmax with cross-entropy, backward pass and plain SGD, with nothing hidden in
a framework. Kiln's C++ trainer implements exactly the same semantics, so its
rows must match these row for row (up to floating-point rounding), and the
benchmarks time the two against each other. The flags mirror the trainer's.

Everything is deterministic: one seeded draw for the initial weights, batches
taken in file order with no shuffling, and no time limit, so a run stops only
after its last epoch.

Run with Debian's /usr/bin/python3, which has NumPy, for example:
  /usr/bin/python3 bench/peers/mnist_numpy.py --experiment=leaky_relu
"""

import argparse
import gzip
import os
import sys

import numpy as np

# The chapter's three experiments. Flags given on the command line override
# these; anything neither sets falls back to DEFAULTS.
EXPERIMENTS = {
    "sigmoid": dict(hidden="200", activation="sigmoid", seed=3,
                    init="uniform:-0.5:0.5,uniform:-0.5:0.5"),
    "leaky_relu": dict(hidden="200", activation="leaky_relu", seed=1,
                       init="uniform:-0.01:0.01,uniform:-0.1:0.1"),
    "no_hidden_nonneg": dict(hidden="", activation="", seed=3,
                             init="uniform:-0.5:0.5", clip_min=0.0),
}
DEFAULTS = dict(dataset="mnist", train_limit=1000, leaky_gamma=0.01, lr=0.05,
                batch=100, epochs=2000, eval_every=200, dtype="f64",
                clip_min=None)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def read_idx(folder, name):
    """Reads one IDX file, raw or gzipped, into a uint8 array of its shape."""
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        path += ".gz"
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big")
             for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load(folder, split, limit, dtype):
    """Returns (pixels scaled to [0, 1], one-hot labels, labels)."""
    images = read_idx(folder, f"{split}-images-idx3-ubyte")[:limit]
    labels = read_idx(folder, f"{split}-labels-idx1-ubyte")[:limit]
    # Scale in float64 first so that f32 and f64 runs start from the same
    # rounded pixels the C++ side computes.
    x = (images.reshape(len(images), -1) / 255.0).astype(dtype)
    y = np.eye(10, dtype=dtype)[labels]
    return x, y, labels.astype(np.int64)


def activation(name, gamma):
    """Returns (f, df) where df takes both z and f(z): sigmoid and tanh have
    derivatives cheapest to write from their output, the rest from z."""
    if name == "sigmoid":
        # d/dz s(z) = s(z) (1 - s(z)). exp(-z) overflows to inf for very
        # negative z, which still gives the right limit, 0.
        def f(z):
            with np.errstate(over="ignore"):
                return 1 / (1 + np.exp(-z))
        return f, lambda z, a: a * (1 - a)
    if name == "tanh":  # d/dz tanh(z) = 1 - tanh(z)^2
        return np.tanh, lambda z, a: 1 - a * a
    if name == "relu":  # d/dz max(z, 0) = [z > 0]
        return (lambda z: np.maximum(z, 0),
                lambda z, a: (z > 0).astype(z.dtype))
    if name == "leaky_relu":  # d/dz = 1 if z > 0 else gamma
        g = np.asarray(gamma)
        return (lambda z: np.where(z > 0, z, g.astype(z.dtype) * z),
                lambda z, a: np.where(z > 0, 1, g).astype(z.dtype))
    if name == "none":
        return lambda z: z, lambda z, a: np.ones_like(z)
    sys.exit(f"mnist_numpy: unknown activation '{name}'")


def init_params(sizes, inits, seed, dtype):
    """Draws each weight matrix [fan_in, fan_out] uniformly from its range, in
    layer order, from one seeded stream; biases start at zero."""
    if len(inits) != len(sizes) - 1:
        sys.exit(f"mnist_numpy: --init names {len(inits)} ranges for "
                 f"{len(sizes) - 1} weight matrices")
    np.random.seed(seed)
    params = []
    for fan_in, fan_out, spec in zip(sizes, sizes[1:], inits):
        kind, low, high = spec.split(":")
        if kind != "uniform":
            sys.exit(f"mnist_numpy: unknown init '{spec}'")
        low, high = float(low), float(high)
        w = low + (high - low) * np.random.random((fan_in, fan_out))
        params.append([w.astype(dtype), np.zeros(fan_out, dtype)])
    return params


def forward(params, acts, x):
    """Returns the pre-activations zs, the layer inputs hs, and the logits."""
    zs, hs = [], [x]
    for (w, b), (f, _) in zip(params, acts):
        zs.append(hs[-1] @ w + b)
        hs.append(f(zs[-1]))
    return zs, hs, hs[-1] @ params[-1][0] + params[-1][1]


def train_batch(params, acts, x, y, labels, lr, clip_min):
    """Runs one SGD step; returns (summed cross-entropy, correct count)."""
    zs, hs, logits = forward(params, acts, x)
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    p = e / e.sum(axis=1, keepdims=True)
    log_p = shifted - np.log(e.sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(len(labels)), labels].sum()
    correct = int((p.argmax(axis=1) == labels).sum())

    # d(mean cross-entropy)/d(logits) = (p - y) / batch. Every gradient is
    # taken before any parameter moves, so dh uses the old weights.
    delta = (p - y) / x.dtype.type(len(x))
    grads = []
    for i in reversed(range(len(params))):
        w = params[i][0]
        grads.append((hs[i].T @ delta, delta.sum(axis=0)))
        if i > 0:
            delta = (delta @ w.T) * acts[i - 1][1](zs[i - 1], hs[i])
    for (w, b), (dw, db) in zip(params, reversed(grads)):
        w -= lr * dw
        b -= lr * db
        if clip_min is not None:
            np.maximum(w, clip_min, out=w)
    return float(loss), correct


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--experiment", default="sigmoid", choices=EXPERIMENTS,
                   help="preset from the chapter (default sigmoid); the flags "
                        "below override it")
    p.add_argument("--data_dir", default=os.environ.get(
        "KILN_DATA", os.path.join(REPO, ".data")),
        help="folder holding mnist/ and fashion-mnist/ "
             "(default $KILN_DATA or <repo>/.data)")
    p.add_argument("--dataset", choices=["mnist", "fashion"],
                   help="mnist or fashion (default mnist)")
    p.add_argument("--train_limit", type=int,
                   help="train on the first N training images (default 1000)")
    p.add_argument("--hidden", help="comma list of hidden widths; empty for "
                                    "none (softmax regression)")
    p.add_argument("--activation", help="comma list, one per hidden layer: "
                   "sigmoid, tanh, relu, leaky_relu, none")
    p.add_argument("--leaky_gamma", type=float,
                   help="leaky_relu slope for z <= 0 (default 0.01)")
    p.add_argument("--init", help="comma list of uniform:LOW:HIGH, one per "
                                  "weight matrix, in layer order")
    p.add_argument("--seed", type=int, help="np.random.seed for the init")
    p.add_argument("--lr", type=float, help="SGD step size (default 0.05)")
    p.add_argument("--batch", type=int, help="batch size (default 100)")
    p.add_argument("--epochs", type=int, help="epochs (default 2000)")
    p.add_argument("--eval_every", type=int,
                   help="evaluate every N epochs and at the last (default 200)")
    p.add_argument("--dtype", choices=["f32", "f64"],
                   help="compute in float32 or float64 (default f64)")
    p.add_argument("--clip_min", type=float,
                   help="after each update, raise weight elements below this "
                        "to it (biases untouched); default off")
    p.add_argument("--metrics_out", help="also write the rows as CSV "
                   "(epoch,loss,train_acc,test_acc) to this path")
    args = p.parse_args()
    for key, value in {**DEFAULTS, **EXPERIMENTS[args.experiment]}.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def main():
    args = parse_args()
    dtype = np.float32 if args.dtype == "f32" else np.float64
    folder = os.path.join(args.data_dir, {"mnist": "mnist",
                                          "fashion": "fashion-mnist"}[
                                              args.dataset])
    x, y, labels = load(folder, "train", args.train_limit, dtype)
    tx, _, tlabels = load(folder, "t10k", None, dtype)

    hidden = [int(h) for h in args.hidden.split(",") if h]
    names = [a for a in args.activation.split(",") if a]
    if len(names) == 1:
        names *= len(hidden)
    if len(names) != len(hidden):
        sys.exit(f"mnist_numpy: {len(names)} activations for "
                 f"{len(hidden)} hidden layers")
    acts = [activation(n, args.leaky_gamma) for n in names]
    params = init_params([x.shape[1]] + hidden + [10],
                         args.init.split(","), args.seed, dtype)
    lr = dtype(args.lr)
    clip = None if args.clip_min is None else dtype(args.clip_min)
    print(f"mnist_numpy: {args.experiment}, {args.dataset}, {len(x)} train, "
          f"layers {[x.shape[1]] + hidden + [10]} {names}, {args.dtype}",
          file=sys.stderr)

    rows = []
    for epoch in range(args.epochs):
        loss, correct = 0.0, 0
        for start in range(0, len(x) - args.batch + 1, args.batch):
            s = slice(start, start + args.batch)
            batch_loss, batch_correct = train_batch(
                params, acts, x[s], y[s], labels[s], lr, clip)
            loss += batch_loss
            correct += batch_correct
        if epoch % args.eval_every and epoch != args.epochs - 1:
            continue
        test_acc = (forward(params, acts, tx)[2].argmax(axis=1) ==
                    tlabels).mean()
        rows.append((epoch, loss, correct / len(x), float(test_acc)))
        print(f"epoch {epoch:5d}  loss {loss:10.3f}  train_acc "
              f"{rows[-1][2]:.3f}  test_acc {test_acc:.3f}", flush=True)

    if args.metrics_out:
        with open(args.metrics_out, "w") as f:
            f.write("epoch,loss,train_acc,test_acc\n")
            for row in rows:
                f.write(",".join(repr(v) for v in row) + "\n")


if __name__ == "__main__":
    main()
