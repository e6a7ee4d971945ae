// KernelProfile: where the time of a compiled program's runs goes, kernel by
// kernel and thread by thread.
//
// A program compiled with JitOptions::profile_kernels (KILN_PROFILE=1)
// times, in every part of every run, each kernel and each wait for earlier
// kernels (see jit/kernel_queue.h), and the wait at the end of the run for
// the other parts. The table it logs when the program dies says, per
// kernel, the mean microseconds per run each part spent computing and
// waiting, which shows the kernels that run serially, the waits that cost
// the most and any imbalance between the parts. Profiling costs a few
// clock reads per kernel; without it none of this runs.
//
//   KernelProfile profile({"k0_matmul", "k1_add"}, /*num_parts=*/2);
//   profile.AddKernel(/*part=*/0, /*kernel=*/1, /*nanoseconds=*/5300);
//   profile.AddRun();
//   LogLine(profile.ToString());

#ifndef KILN_JIT_KERNEL_PROFILE_H_
#define KILN_JIT_KERNEL_PROFILE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::jit {

class KernelProfile {
 public:
  KernelProfile(std::vector<std::string> kernel_names, int num_parts);

  int num_parts() const { return num_parts_; }

  // Adds time that `part` spent in `kernel`, or waiting before it for the
  // kernels it depends on. Each part writes only its own entries, so the parts
  // of one run may call these at the same time; nothing is allocated.
  void AddKernel(int part, int kernel, int64_t nanoseconds);
  void AddWait(int part, int kernel, int64_t nanoseconds);
  // Records that `part` took part in the current run and then waited,
  // after its last kernel, `nanoseconds` for the other parts to finish it.
  // A part whose thread started too late to take part in a run (see
  // ThreadPool::Run) records nothing.
  void AddFinalWait(int part, int64_t nanoseconds);

  // Counts one run of the program; called once per run, between runs.
  void AddRun() { ++runs_; }
  int64_t runs() const { return runs_; }

  // Mean microseconds per run, for tests and the table.
  double KernelMicros(int part, int kernel) const;
  double WaitMicros(int part, int kernel) const;
  double FinalWaitMicros(int part) const;
  // The fraction of runs in which `part` took part.
  double JoinedFraction(int part) const;

  // One line per kernel with each part's compute and waiting time, then a
  // line of totals: a multi-line table for the log.
  std::string ToString() const;

 private:
  int64_t& Entry(std::vector<int64_t>& table, int part, int kernel) {
    return table[static_cast<size_t>(part) * kernel_names_.size() + kernel];
  }
  double Mean(const std::vector<int64_t>& table, int part, int kernel) const;

  std::vector<std::string> kernel_names_;
  int num_parts_;
  int64_t runs_ = 0;
  // Nanoseconds by part, then kernel.
  std::vector<int64_t> kernel_nanos_;
  std::vector<int64_t> wait_nanos_;
  // By part: the waits at the end of the runs it took part in, and how
  // many those were.
  std::vector<int64_t> final_wait_nanos_;
  std::vector<int64_t> runs_joined_;
};

}  // namespace kiln::jit

#endif  // KILN_JIT_KERNEL_PROFILE_H_
