#include "jit/thread_pool.h"

#include "ops/base/check.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace kiln::jit {
namespace {

// How long a waiting thread spins before it sleeps: a few microseconds,
// about as long as a small kernel, so that the next barrier or run of a
// step usually finds it awake, while a thread whose partner lost its core
// to another process soon gives the core up.
constexpr int kSpinIterations = 256;

void Pause() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

// Returns once `word` no longer holds `old`, spinning first and then
// sleeping until a notify.
template <typename T>
void AwaitChange(const std::atomic<T>& word, T old) {
  for (int i = 0; i < kSpinIterations; ++i) {
    if (word.load(std::memory_order_acquire) != old) return;
    Pause();
  }
  while (word.load(std::memory_order_acquire) == old) {
    word.wait(old, std::memory_order_acquire);
  }
}

}  // namespace

ThreadPool::ThreadPool(int num_threads) : num_threads_(num_threads) {
  KILN_CHECK(num_threads >= 1) << "a pool of " << num_threads << " threads";
  for (int part = 1; part < num_threads; ++part) {
    workers_.emplace_back([this, part] { WorkerLoop(part); });
  }
}

ThreadPool::~ThreadPool() {
  stopping_ = true;
  run_generation_.fetch_add(1, std::memory_order_release);
  run_generation_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ThreadPool::Run(Task task, void* context) {
  if (num_threads_ == 1) {
    task(context, 0);
    return;
  }
  task_ = task;
  context_ = context;
  unfinished_.store(num_threads_ - 1, std::memory_order_relaxed);
  // The release publishes the task, the context and the count.
  run_generation_.fetch_add(1, std::memory_order_release);
  run_generation_.notify_all();
  task(context, 0);
  for (int left = unfinished_.load(std::memory_order_acquire); left != 0;
       left = unfinished_.load(std::memory_order_acquire)) {
    AwaitChange(unfinished_, left);
  }
}

void ThreadPool::WorkerLoop(int part) {
  uint32_t seen = 0;
  while (true) {
    AwaitChange(run_generation_, seen);
    seen = run_generation_.load(std::memory_order_acquire);
    if (stopping_) return;
    task_(context_, part);
    if (unfinished_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      unfinished_.notify_one();
    }
  }
}

void ThreadPool::Barrier() {
  if (num_threads_ == 1) return;
  const uint32_t generation =
      barrier_generation_.load(std::memory_order_acquire);
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) == num_threads_ - 1) {
    // The last to arrive resets the count for the next barrier and then
    // releases everyone; the release also publishes the reset.
    arrived_.store(0, std::memory_order_relaxed);
    barrier_generation_.fetch_add(1, std::memory_order_release);
    barrier_generation_.notify_all();
    return;
  }
  AwaitChange(barrier_generation_, generation);
}

void ThreadPool::BarrierOf(void* pool) {
  static_cast<ThreadPool*>(pool)->Barrier();
}

}  // namespace kiln::jit
