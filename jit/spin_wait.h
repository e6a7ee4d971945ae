// AwaitChange: how a thread of a compiled program's run waits for another.
//
// A step of a compiled program is a few hundred microseconds of kernels;
// a thread waits at a kernel for others to finish earlier ones, typically
// for microseconds to tens of them, and runs follow each other within
// microseconds in a training loop. Waking a thread that sleeps in the
// kernel takes tens of microseconds (more in a virtual machine), as long as
// a whole kernel, so a waiting thread first spins for about as long as a
// wait usually lasts. Then it yields its core, which lets another thread
// of this process or of another run there if one is ready, and only after
// that sleeps, so that an idle pool soon costs no CPU. Whoever changes a
// word that a thread may await must notify_all() after the change.
//
//   while ((seen = done.load(std::memory_order_acquire)) != total) {
//     AwaitChange(done, seen);
//   }

#ifndef KILN_JIT_SPIN_WAIT_H_
#define KILN_JIT_SPIN_WAIT_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace kiln::jit {

// How long AwaitChange spins, and how long it spins and yields in all,
// before it sleeps.
inline constexpr int64_t kSpinNanoseconds = 100'000;
inline constexpr int64_t kYieldNanoseconds = 2'000'000;

namespace spin_wait_internal {

// Pauses between two reads of the clock: a pause takes tens of
// nanoseconds, a clock read about as long.
inline constexpr int kPausesPerClockRead = 16;

inline void Pause() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

inline int64_t Nanoseconds() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace spin_wait_internal

// Returns once `word` no longer holds `old` (an acquire load sees the new
// value): spinning, then yielding, then sleeping until a notify.
template <typename T>
void AwaitChange(const std::atomic<T>& word, T old) {
  using spin_wait_internal::Nanoseconds;
  auto changed = [&] { return word.load(std::memory_order_acquire) != old; };
  const int64_t start = Nanoseconds();
  while (Nanoseconds() - start < kSpinNanoseconds) {
    for (int i = 0; i < spin_wait_internal::kPausesPerClockRead; ++i) {
      if (changed()) return;
      spin_wait_internal::Pause();
    }
  }
  while (Nanoseconds() - start < kYieldNanoseconds) {
    if (changed()) return;
    std::this_thread::yield();
  }
  while (!changed()) word.wait(old, std::memory_order_acquire);
}

}  // namespace kiln::jit

#endif  // KILN_JIT_SPIN_WAIT_H_
