// ThreadPool runs the caller's part of every task and each worker's part at
// most once per run, waits for the workers that joined, and publishes what
// the parts wrote. Built with --config=tsan, these tests also check that
// the pool's synchronisation is race-free.

#include "jit/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace kiln::jit {
namespace {

// The caller's part waits until every worker has started, so that every
// worker joins every run.
struct Joining {
  int threads = 0;
  std::atomic<int> started{0};
  std::vector<int> runs_per_part;
};

TEST(ThreadPoolTest, EveryWorkerThatStartsInTimeRunsOncePerRun) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    Joining joining{.threads = threads,
                    .runs_per_part = std::vector<int>(threads, 0)};
    for (int run = 0; run < 100; ++run) {
      joining.started.store(0);
      pool.Run(
          [](void* context, int part) {
            auto* state = static_cast<Joining*>(context);
            ++state->runs_per_part[part];
            if (part != 0) {
              state->started.fetch_add(1);
              return;
            }
            while (state->started.load() != state->threads - 1) {
              std::this_thread::yield();
            }
          },
          &joining);
    }
    for (int part = 0; part < threads; ++part) {
      EXPECT_EQ(joining.runs_per_part[part], 100)
          << "part " << part << " of " << threads;
    }
  }
}

// When the caller's part returns at once, workers may come too late and
// skip a run, but none runs twice, and the caller's part runs every time.
TEST(ThreadPoolTest, WorkersRunAtMostOncePerRun) {
  constexpr int kThreads = 3;
  constexpr int kRuns = 500;
  ThreadPool pool(kThreads);
  struct Counts {
    std::vector<int> this_run = std::vector<int>(kThreads, 0);
    int most = 0;
    int caller_runs = 0;
  } counts;
  for (int run = 0; run < kRuns; ++run) {
    std::fill(counts.this_run.begin(), counts.this_run.end(), 0);
    pool.Run([](void* context,
                int part) { ++static_cast<Counts*>(context)->this_run[part]; },
             &counts);
    for (int n : counts.this_run) counts.most = std::max(counts.most, n);
    counts.caller_runs += counts.this_run[0];
  }
  EXPECT_EQ(counts.most, 1);
  EXPECT_EQ(counts.caller_runs, kRuns);
}

// A worker that joined is waited for, and what it wrote is visible after
// Run returns.
TEST(ThreadPoolTest, RunWaitsForWorkersThatJoined) {
  ThreadPool pool(2);
  struct State {
    std::atomic<bool> worker_started{false};
    int written = 0;
  } state;
  pool.Run(
      [](void* context, int part) {
        auto* s = static_cast<State*>(context);
        if (part == 0) {
          while (!s->worker_started.load()) std::this_thread::yield();
          return;
        }
        s->worker_started.store(true);
        // Long after the caller's part has returned.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        s->written = 42;
      },
      &state);
  EXPECT_EQ(state.written, 42);
}

// With one thread, Run calls the task on the caller.
TEST(ThreadPoolTest, OneThreadRunsOnTheCaller) {
  ThreadPool pool(1);
  struct State {
    int calls = 0;
    int part_seen = -1;
  } state;
  pool.Run(
      [](void* context, int part) {
        auto* s = static_cast<State*>(context);
        ++s->calls;
        s->part_seen = part;
      },
      &state);
  EXPECT_EQ(state.calls, 1);
  EXPECT_EQ(state.part_seen, 0);
}

}  // namespace
}  // namespace kiln::jit
