#!/usr/bin/python3
"""The peer harness: Kiln's MNIST training step against NumPy, PyTorch,
OpenBLAS and the FMA peak, measured side by side in one run.

Every contestant is a worker process speaking the protocol of
timing_worker.py. All of them start first and stay warm; then each round
asks every contestant in turn (in a rotated order) for one timed batch of
epochs, so that whatever else the machine is doing falls on all of them
alike. An epoch is ten training steps of batch 100 on the first 1000 MNIST
images, SGD updates included, no evaluation. The table gives the median over
the rounds of the wall-clock and the CPU milliseconds per epoch, and each
figure's ratio to Kiln's JIT in f32 on one thread. The OpenBLAS-based peers
run single-threaded with OPENBLAS_CORETYPE=SkylakeX.

With --full it also times whole runs of the chapter's experiment, 2000 epochs
with evaluations: Kiln's trainer in f32 on the JIT against the NumPy
reference in f64.

./kiln bench peers builds the binaries and runs this script:
  ./kiln bench peers --rounds=7 --out=peers.txt
"""

import argparse
import os
import resource
import shlex
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
# What the OpenBLAS-based peers run with; the table states it.
PEER_ENVIRONMENT = {
    "OPENBLAS_CORETYPE": "SkylakeX",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
}
REFERENCE = "Kiln JIT f32, 1 thread"


class Contestant:
    """One worker process and the timings it has reported."""

    def __init__(self, name, dtype, threads, command, environment):
        self.name, self.dtype, self.threads = name, dtype, threads
        self.command, self.environment = command, environment
        self.walls, self.cpus = [], []
        self.process = None
        self.epochs = 1

    def start(self):
        environment = dict(os.environ, **self.environment)
        self.process = subprocess.Popen(
            self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=environment, text=True, bufsize=1)
        line = self.process.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"{self.name}: expected 'ready', got {line!r} "
                               f"from {shlex.join(self.command)}")

    def run(self, epochs):
        """Times `epochs` epochs; returns (wall ms, CPU ms) per epoch."""
        self.process.stdin.write(f"run {epochs}\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        try:
            wall, cpu = (float(v) for v in line.split())
        except ValueError:
            raise RuntimeError(f"{self.name}: bad reply {line!r}") from None
        return wall, cpu

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.stdin.write("quit\n")
            self.process.stdin.flush()
            self.process.wait(timeout=60)


def contestants(args):
    """Everything the table compares, reference first."""
    def kiln(backend, dtype, threads, skip_zeros=1):
        return [os.path.join(args.bin_dir, "kiln_step_timer"),
                f"--data_dir={args.data_dir}", f"--backend={backend}",
                f"--dtype={dtype}", f"--threads={threads}",
                f"--skip_zeros={skip_zeros}"]

    # Kiln's own code ignores the OpenBLAS settings; the cache directory is
    # private so that compiling is part of no one's timing.
    kiln_environment = {"KILN_CACHE_DIR": args.cache_dir}
    numpy = [PYTHON, os.path.join(HERE, "numpy_step_timer.py"),
             f"--data_dir={args.data_dir}"]
    torch = [PYTHON, os.path.join(HERE, "mnist_torch.py"), "--serve",
             f"--data_dir={args.data_dir}", "--threads=1"]
    gemm = os.path.join(args.bin_dir, "gemm_bound")
    fma = os.path.join(args.bin_dir, "fma_peak")
    peers = PEER_ENVIRONMENT
    table = [
        ("Kiln JIT f32, 1 thread", "f32", 1, kiln("jit", "f32", 1),
         kiln_environment),
        ("Kiln JIT f32, 2 threads", "f32", 2, kiln("jit", "f32", 2),
         kiln_environment),
        ("Kiln JIT f64, 1 thread", "f64", 1, kiln("jit", "f64", 1),
         kiln_environment),
        ("Kiln JIT f64, 2 threads", "f64", 2, kiln("jit", "f64", 2),
         kiln_environment),
        ("Kiln JIT f32, no zero skip", "f32", 1, kiln("jit", "f32", 1, 0),
         kiln_environment),
        ("Kiln JIT f64, no zero skip", "f64", 1, kiln("jit", "f64", 1, 0),
         kiln_environment),
        ("Kiln interpreter f32", "f32", 1, kiln("interp", "f32", 1),
         kiln_environment),
        ("NumPy f32", "f32", 1, numpy + ["--dtype=f32"], peers),
        ("NumPy f64", "f64", 1, numpy + ["--dtype=f64"], peers),
        ("PyTorch eager f32", "f32", 1, torch + ["--dtype=f32"], peers),
        ("OpenBLAS sgemm only", "f32", 1, [gemm, "f32"], peers),
        ("OpenBLAS dgemm only", "f64", 1, [gemm, "f64"], peers),
        ("FMA peak f32, 1 core", "f32", 1, [fma, "f32", "1"], {}),
        ("FMA peak f32, 2 cores", "f32", 2, [fma, "f32", "2"], {}),
        ("FMA peak f64, 1 core", "f64", 1, [fma, "f64", "1"], {}),
    ]
    return [Contestant(*row) for row in table]


def measure(all_contestants, rounds, seconds):
    """Calibrates each contestant's batch of epochs, then runs the rounds."""
    for c in all_contestants:
        wall, _ = c.run(1)
        c.epochs = max(1, round(seconds * 1e3 / max(wall, 1e-3)))
    for r in range(rounds):
        # Rotating the order keeps any contestant from always following the
        # same neighbour.
        shift = r % len(all_contestants)
        for c in all_contestants[shift:] + all_contestants[:shift]:
            wall, cpu = c.run(c.epochs)
            c.walls.append(wall)
            c.cpus.append(cpu)
        print(f"run_peers: round {r + 1}/{rounds} done", file=sys.stderr)


def ratio(value, reference):
    return f"{value / reference:.2f}x"


def format_table(all_contestants, rounds, seconds):
    by_name = {c.name: c for c in all_contestants}
    reference = by_name[REFERENCE]
    ref_wall = statistics.median(reference.walls)
    ref_cpu = statistics.median(reference.cpus)
    lines = [
        "Kiln peer benchmark: the MNIST training step (784-200-10 sigmoid MLP,",
        "batch 100), in ms per epoch = 10 steps with SGD updates, no evaluation.",
        f"Medians of {rounds} interleaved rounds of about {seconds:g} s each.",
        "Peers built on OpenBLAS run with " + ", ".join(
            f"{k}={v}" for k, v in PEER_ENVIRONMENT.items()) + ".",
        f"Ratios are to {REFERENCE} (smaller is faster).",
        f"Host: {os.cpu_count()} CPUs; load average "
        f"{os.getloadavg()[0]:.1f} at the end.",
        "",
    ]
    header = (f"{'contestant':<26} {'dtype':<5} {'threads':>7} "
              f"{'wall ms':>9} {'CPU ms':>9} {'wall ratio':>10} "
              f"{'CPU ratio':>9}")
    lines += [header, "-" * len(header)]
    for c in all_contestants:
        wall, cpu = statistics.median(c.walls), statistics.median(c.cpus)
        lines.append(
            f"{c.name:<26} {c.dtype:<5} {c.threads:>7} {wall:>9.3f} "
            f"{cpu:>9.3f} {ratio(wall, ref_wall):>10} "
            f"{ratio(cpu, ref_cpu):>9}")
    lines += ["", "Targets (wall-clock ratios; CPU ratios in brackets):"]

    def check(label, numerator, denominator, target):
        n, d = by_name[numerator], by_name[denominator]
        wall = statistics.median(n.walls) / statistics.median(d.walls)
        cpu = statistics.median(n.cpus) / statistics.median(d.cpus)
        verdict = "met" if wall <= target else "MISSED"
        lines.append(f"  {label:<44} {wall:5.2f} ({cpu:4.2f})  "
                     f"target <= {target:<4}  {verdict}")

    check("JIT f32 1t / OpenBLAS sgemm-only bound", REFERENCE,
          "OpenBLAS sgemm only", 0.8)
    check("JIT f32 1t / FMA peak bound, 1 core", REFERENCE,
          "FMA peak f32, 1 core", 1.3)
    check("JIT f32 1t / NumPy f32", REFERENCE, "NumPy f32", 0.5)
    check("JIT f32 1t / PyTorch eager f32", REFERENCE, "PyTorch eager f32",
          0.35)
    check("JIT f32 2t / JIT f32 1t", "Kiln JIT f32, 2 threads", REFERENCE,
          0.6)
    check("JIT f64 1t / OpenBLAS dgemm-only bound", "Kiln JIT f64, 1 thread",
          "OpenBLAS dgemm only", 0.8)
    # What two threads can gain here at all: another process on the second
    # core takes its share from every two-thread figure alike.
    fma1 = statistics.median(by_name["FMA peak f32, 1 core"].walls)
    fma2 = statistics.median(by_name["FMA peak f32, 2 cores"].walls)
    lines.append(f"  (the FMA loop itself takes {fma2 / fma1:.2f}x as long on "
                 "2 cores as on 1, where two free cores would take 0.5x)")
    return "\n".join(lines) + "\n"


def timed_run(command, environment):
    """Runs `command` to completion; returns (wall s, CPU s)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=dict(os.environ, **environment), check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime -
                                                before.ru_stime)
    return wall, cpu


def full_runs(args):
    """Times whole 2000-epoch runs, Kiln f32 JIT against NumPy f64."""
    kiln = [args.mnist, f"--data_dir={args.data_dir}", "--dtype=f32",
            "--backend=jit", "--quiet"]
    kiln_environment = {"KILN_CACHE_DIR": args.cache_dir}
    runs = {
        "Kiln train f32, JIT, 1 thread": (kiln, kiln_environment),
        "NumPy reference f64": (
            [PYTHON, os.path.join(HERE, "mnist_numpy.py"),
             f"--data_dir={args.data_dir}", "--dtype=f64"], PEER_ENVIRONMENT),
        "Kiln train f32, JIT, 2 threads": (kiln + ["--threads=2"],
                                           kiln_environment),
    }
    times = {name: [] for name in runs}
    for r in range(args.full_rounds):
        for name, (command, environment) in runs.items():
            times[name].append(timed_run(command, environment))
        print(f"run_peers: full round {r + 1}/{args.full_rounds} done",
              file=sys.stderr)
    lines = ["", "Full runs of the chapter's experiment (2000 epochs, "
             "evaluations included), "
             f"medians of {args.full_rounds}:"]
    medians = {}
    for name, values in times.items():
        wall = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        medians[name] = wall
        lines.append(f"  {name:<32} wall {wall:8.2f} s  CPU {cpu:8.2f} s")
    kiln = medians["Kiln train f32, JIT, 1 thread"]
    numpy = medians["NumPy reference f64"]
    verdict = "met" if kiln / numpy < 0.2 else "MISSED"
    lines.append(f"  Kiln (1 thread) / NumPy wall ratio {kiln / numpy:.3f}  "
                 f"target < 0.2  {verdict}")
    lines.append("  Kiln (2 threads) / NumPy wall ratio "
                 f"{medians['Kiln train f32, JIT, 2 threads'] / numpy:.3f}")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin_dir", required=True,
                   help="folder of kiln_step_timer, gemm_bound, fma_peak")
    p.add_argument("--mnist", help="the mnist trainer binary, for --full")
    p.add_argument("--data_dir", required=True, help="KILN_DATA")
    p.add_argument("--cache_dir", default="/tmp/kiln_peers_cache",
                   help="the JIT's object cache for Kiln's workers")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=float, default=0.5,
                   help="target length of one timed batch of epochs")
    p.add_argument("--out", default="kiln_peers.txt",
                   help="file the table is written to as well")
    p.add_argument("--full", action="store_true",
                   help="also time full 2000-epoch training runs")
    p.add_argument("--full_rounds", type=int, default=1)
    args = p.parse_args()
    if args.rounds < 1 or args.seconds <= 0 or args.full_rounds < 1:
        p.error("--rounds, --seconds and --full_rounds must be positive")
    if args.full and not args.mnist:
        p.error("--full needs --mnist")

    all_contestants = contestants(args)
    try:
        for c in all_contestants:
            print(f"run_peers: starting {c.name}", file=sys.stderr)
            c.start()
        measure(all_contestants, args.rounds, args.seconds)
    finally:
        for c in all_contestants:
            c.stop()
    text = format_table(all_contestants, args.rounds, args.seconds)
    if args.full:
        text += full_runs(args)
    sys.stdout.write(text)
    with open(args.out, "w") as f:
        f.write(text)
    print(f"run_peers: table written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
