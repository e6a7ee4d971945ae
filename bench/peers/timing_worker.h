// The timing protocol that the peer harness (run_peers.py) speaks with each
// contestant, so that every contestant stays loaded and warm in its own
// process while the harness runs them one after another, round after round.
//
// A worker sets itself up (data, weights, compilation, a warm-up epoch),
// prints "ready" and then answers each request line on stdin:
//   run N   runs N epochs and prints "WALL_MS CPU_MS": the wall-clock and
//           the process CPU milliseconds per epoch
//   quit    exits
// Anything else is an error, reported on stderr with a non-zero exit.
//
//   return kiln::bench::ServeTimingRequests([&] { RunOneEpoch(); });

#ifndef KILN_BENCH_PEERS_TIMING_WORKER_H_
#define KILN_BENCH_PEERS_TIMING_WORKER_H_

#include <time.h>

#include <cstdio>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>

namespace kiln::bench {

// Seconds on `clock`, one of the POSIX clock ids.
inline double ClockSeconds(clockid_t clock) {
  timespec now;
  clock_gettime(clock, &now);
  return static_cast<double>(now.tv_sec) +
         1e-9 * static_cast<double>(now.tv_nsec);
}

// Runs `run_epoch` once to warm up, says "ready", then serves requests until
// "quit" or the end of stdin. Returns the process's exit status.
inline int ServeTimingRequests(const std::function<void()>& run_epoch) {
  run_epoch();
  std::printf("ready\n");
  std::fflush(stdout);
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream request(line);
    std::string verb;
    long epochs = 0;
    request >> verb;
    if (verb == "quit") return 0;
    if (verb != "run" || !(request >> epochs) || epochs <= 0) {
      std::fprintf(stderr, "timing worker: bad request '%s'\n", line.c_str());
      return 2;
    }
    const double wall = ClockSeconds(CLOCK_MONOTONIC);
    const double cpu = ClockSeconds(CLOCK_PROCESS_CPUTIME_ID);
    for (long e = 0; e < epochs; ++e) run_epoch();
    const double wall_ms = 1e3 * (ClockSeconds(CLOCK_MONOTONIC) - wall) /
                           static_cast<double>(epochs);
    const double cpu_ms = 1e3 * (ClockSeconds(CLOCK_PROCESS_CPUTIME_ID) - cpu) /
                          static_cast<double>(epochs);
    std::printf("%.6f %.6f\n", wall_ms, cpu_ms);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace kiln::bench

#endif  // KILN_BENCH_PEERS_TIMING_WORKER_H_
