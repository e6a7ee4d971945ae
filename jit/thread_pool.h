// ThreadPool: the threads that run the parts of a compiled program's run at
// the same time.
//
// A pool of n threads is the calling thread plus n − 1 workers that live as
// long as the pool. Run hands every thread one part of a task and returns
// when all parts are done; Barrier lets the parts of a task wait for each
// other between kernels. Waiting threads spin briefly, since the next
// kernel or run usually follows within microseconds, and then sleep in the
// kernel so that an idle pool costs no CPU.
//
// Run and Barrier allocate nothing, so that compiled steps stay free of heap
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

  // Calls task(context, part) once for every part in [0, num_threads()),
  // all at once: part 0 on the calling thread, each other part on its own
  // worker. Returns when every part has returned; everything the parts
  // wrote is then visible to the caller. One Run at a time.
  void Run(Task task, void* context);

  // For the parts of a Run: returns once every part has called Barrier as
  // many times as the caller has, and makes everything written before the
  // barrier by any part visible to all of them after it.
  void Barrier();

  // Barrier() of the pool `pool` points to, for callers that take a plain
  // function (RunPart::barrier).
  static void BarrierOf(void* pool);

 private:
  void WorkerLoop(int part);

  const int num_threads_;
  std::vector<std::thread> workers_;

  // Run publishes the task, then bumps `run_generation_`; workers wait for
  // the bump. `unfinished_` counts the parts still running.
  Task task_ = nullptr;
  void* context_ = nullptr;
  bool stopping_ = false;
  std::atomic<uint32_t> run_generation_{0};
  std::atomic<int> unfinished_{0};

  // Parts arrived at the current barrier, and the barrier's generation,
  // bumped by the last part to arrive.
  std::atomic<int> arrived_{0};
  std::atomic<uint32_t> barrier_generation_{0};
};

}  // namespace kiln::jit

#endif  // KILN_JIT_THREAD_POOL_H_
