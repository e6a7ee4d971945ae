// ThreadPool runs every part of a task at once, once per Run, and its
// barrier orders what the parts write. Built with --config=tsan, these
// tests also check that the pool's synchronisation is race-free.

#include "jit/thread_pool.h"

#include <atomic>
#include <vector>

#include "gtest/gtest.h"

namespace kiln::jit {
namespace {

struct Counts {
  std::vector<int> runs_per_part;
};

TEST(ThreadPoolTest, RunsEveryPartOncePerRun) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    Counts counts{std::vector<int>(threads, 0)};
    for (int run = 0; run < 100; ++run) {
      pool.Run(
          [](void* context, int part) {
            ++static_cast<Counts*>(context)->runs_per_part[part];
          },
          &counts);
    }
    for (int part = 0; part < threads; ++part) {
      EXPECT_EQ(counts.runs_per_part[part], 100)
          << "part " << part << " of " << threads;
    }
  }
}

// Each part writes its own slot, waits, then reads every other part's: the
// barrier must make all the writes visible, in every round.
struct Rounds {
  ThreadPool* pool;
  std::vector<int> slots;
  std::vector<int> sums;
};

TEST(ThreadPoolTest, BarrierMakesEveryPartsWritesVisible) {
  constexpr int kThreads = 3;
  constexpr int kRounds = 200;
  ThreadPool pool(kThreads);
  Rounds rounds{&pool, std::vector<int>(kThreads), std::vector<int>(kThreads)};
  pool.Run(
      [](void* context, int part) {
        auto* state = static_cast<Rounds*>(context);
        for (int round = 1; round <= kRounds; ++round) {
          state->slots[part] = round * (part + 1);
          state->pool->Barrier();
          int sum = 0;
          for (int value : state->slots) sum += value;
          state->sums[part] += sum == round * (1 + 2 + 3) ? 1 : 0;
          // Nobody overwrites a slot before everyone has read it.
          state->pool->Barrier();
        }
      },
      &rounds);
  for (int part = 0; part < kThreads; ++part) {
    EXPECT_EQ(rounds.sums[part], kRounds) << "part " << part;
  }
}

// With one thread, Run calls the task on the caller and a barrier has no
// one to wait for.
TEST(ThreadPoolTest, OneThreadRunsOnTheCallerAndBarriersReturn) {
  ThreadPool pool(1);
  struct State {
    ThreadPool* pool;
    int calls = 0;
    int part_seen = -1;
  } state{&pool};
  pool.Run(
      [](void* context, int part) {
        auto* s = static_cast<State*>(context);
        ThreadPool::BarrierOf(s->pool);
        s->pool->Barrier();
        ++s->calls;
        s->part_seen = part;
      },
      &state);
  EXPECT_EQ(state.calls, 1);
  EXPECT_EQ(state.part_seen, 0);
}

}  // namespace
}  // namespace kiln::jit
