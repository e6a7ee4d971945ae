// ThreadPool: the threads that run the parts of a compiled program's run at
// the same time.
//
// A pool of n threads is the calling thread plus n − 1 workers that live as
// long as the pool. Run hands every thread one part of a task, of which the
// caller's part alone must be able to do all the work (as the parts of a
// KernelQueue can): a worker that has not started its part by the time the
// caller's part returns skips the run, so that a run never waits for a
// thread that the operating system has not scheduled. Workers wait for the
// next run as AwaitChange (jit/spin_wait.h) does: spinning, then yielding,
// then asleep, so that runs that follow each other closely find them awake
// and an idle pool soon costs no CPU.
//
// Run allocates nothing, so that compiled steps stay free of heap
// allocations however many threads they use.
//
//   ThreadPool pool(2);
//   pool.Run(&Task, &context);  // Task(&context, 0) here, Task(&context, 1)
//                               // on the worker, both at once

#ifndef KILN_JIT_THREAD_POOL_H_
#define KILN_JIT_THREAD_POOL_H_

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace kiln::jit {

class ThreadPool {
 public:
  using Task = void (*)(void* context, int part);

  // Starts num_threads − 1 workers; num_threads must be at least 1.
  explicit ThreadPool(int num_threads);
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  // Stops and joins the workers. No Run may be in progress.
  ~ThreadPool();

  int num_threads() const { return num_threads_; }

  // Calls task(context, 0) on the calling thread and, at the same time,
  // task(context, part) on the worker of each part in [1, num_threads())
  // that starts before the caller's call returns; a worker that would start
  // later skips the run. Everything the caller wrote before is visible to
  // the parts. Returns when the caller's call and every worker's that
  // started have returned; everything they wrote is then visible to the
  // caller. One Run at a time.
  void Run(Task task, void* context);

 private:
  void WorkerLoop(int part);

  const int num_threads_;
  std::vector<std::thread> workers_;

  // The current run: its generation in the high 32 bits, kClosed once the
  // caller's part has returned, and in the low bits the number of workers
  // that joined it. Run publishes the task and then a new generation;
  // workers wait for one and join it unless it is closed.
  static constexpr uint64_t kClosed = uint64_t{1} << 31;
  static constexpr uint64_t kJoinedMask = kClosed - 1;
  Task task_ = nullptr;
  void* context_ = nullptr;
  // Set by the destructor before it publishes a last generation; read by
  // workers at every generation, which may be a run's while it is set.
  std::atomic<bool> stopping_{false};
  uint32_t generation_ = 0;
  std::atomic<uint64_t> run_state_{0};
  // Workers of the current run that have returned from their part.
  std::atomic<int> finished_{0};
};

}  // namespace kiln::jit

#endif  // KILN_JIT_THREAD_POOL_H_
