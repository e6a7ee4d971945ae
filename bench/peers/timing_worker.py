"""The timing protocol that the peer harness (run_peers.py) speaks with each
contestant; the C++ twin is timing_worker.h, which documents the protocol.

A worker warms up with one epoch, prints "ready", and answers "run N" with the
wall-clock and process CPU milliseconds per epoch of N epochs, until "quit".
"""

import sys
import time


def serve(run_epoch):
    """Serves timing requests on stdin; returns the process exit status."""
    run_epoch()
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if words == ["quit"]:
            return 0
        if len(words) != 2 or words[0] != "run" or not words[1].isdigit() \
                or int(words[1]) <= 0:
            print(f"timing worker: bad request {line!r}", file=sys.stderr)
            return 2
        epochs = int(words[1])
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(epochs):
            run_epoch()
        wall = (time.perf_counter() - wall) * 1e3 / epochs
        cpu = (time.process_time() - cpu) * 1e3 / epochs
        print(f"{wall:.6f} {cpu:.6f}", flush=True)
    return 0
