#include "jit/thread_pool.h"

#include "jit/spin_wait.h"
#include "ops/base/check.h"

namespace kiln::jit {

ThreadPool::ThreadPool(int num_threads) : num_threads_(num_threads) {
  KILN_CHECK(num_threads >= 1) << "a pool of " << num_threads << " threads";
  for (int part = 1; part < num_threads; ++part) {
    workers_.emplace_back([this, part] { WorkerLoop(part); });
  }
}

ThreadPool::~ThreadPool() {
  stopping_.store(true, std::memory_order_relaxed);
  run_state_.store(uint64_t{++generation_} << 32, std::memory_order_release);
  run_state_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ThreadPool::Run(Task task, void* context) {
  if (num_threads_ == 1) {
    task(context, 0);
    return;
  }
  task_ = task;
  context_ = context;
  finished_.store(0, std::memory_order_relaxed);
  // The release publishes the task, the context, the reset count and
  // whatever the caller wrote before.
  run_state_.store(uint64_t{++generation_} << 32, std::memory_order_release);
  run_state_.notify_all();
  task(context, 0);

  // Workers that have not joined yet never will; those that have are
  // waited for.
  const int joined = static_cast<int>(
      run_state_.fetch_or(kClosed, std::memory_order_acq_rel) & kJoinedMask);
  for (int done = finished_.load(std::memory_order_acquire); done != joined;
       done = finished_.load(std::memory_order_acquire)) {
    AwaitChange(finished_, done);
  }
}

void ThreadPool::WorkerLoop(int part) {
  // Generation 0 is the pool before its first run: a worker that starts
  // after Run has published the first generation still joins it.
  uint64_t state = run_state_.load(std::memory_order_acquire);
  uint32_t seen_generation = 0;
  while (true) {
    while (static_cast<uint32_t>(state >> 32) == seen_generation) {
      AwaitChange(run_state_, state);
      state = run_state_.load(std::memory_order_acquire);
    }
    seen_generation = static_cast<uint32_t>(state >> 32);
    if (stopping_.load(std::memory_order_relaxed)) return;
    // Joins the run unless the caller's part has already closed it; a
    // failed exchange reloads the state and tries again.
    bool joined = false;
    while ((state & kClosed) == 0 &&
           static_cast<uint32_t>(state >> 32) == seen_generation) {
      if (run_state_.compare_exchange_weak(state, state + 1,
                                           std::memory_order_acq_rel,
                                           std::memory_order_acquire)) {
        joined = true;
        break;
      }
    }
    if (joined) {
      task_(context_, part);
      finished_.fetch_add(1, std::memory_order_release);
      finished_.notify_one();
    }
    state = run_state_.load(std::memory_order_acquire);
  }
}

}  // namespace kiln::jit
