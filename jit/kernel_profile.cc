#include "jit/kernel_profile.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ops/base/check.h"

namespace kiln::jit {

KernelProfile::KernelProfile(std::vector<std::string> kernel_names,
                             int num_parts)
    : kernel_names_(std::move(kernel_names)),
      num_parts_(num_parts),
      kernel_nanos_(kernel_names_.size() * num_parts, 0),
      wait_nanos_(kernel_names_.size() * num_parts, 0),
      final_wait_nanos_(num_parts, 0),
      runs_joined_(num_parts, 0) {
  KILN_CHECK(num_parts >= 1) << num_parts << " parts";
}

void KernelProfile::AddKernel(int part, int kernel, int64_t nanoseconds) {
  Entry(kernel_nanos_, part, kernel) += nanoseconds;
}

void KernelProfile::AddWait(int part, int kernel, int64_t nanoseconds) {
  Entry(wait_nanos_, part, kernel) += nanoseconds;
}

void KernelProfile::AddFinalWait(int part, int64_t nanoseconds) {
  final_wait_nanos_[part] += nanoseconds;
  ++runs_joined_[part];
}

double KernelProfile::Mean(const std::vector<int64_t>& table, int part,
                           int kernel) const {
  if (runs_ == 0) return 0;
  const size_t at = static_cast<size_t>(part) * kernel_names_.size() + kernel;
  return 1e-3 * static_cast<double>(table[at]) / static_cast<double>(runs_);
}

double KernelProfile::KernelMicros(int part, int kernel) const {
  return Mean(kernel_nanos_, part, kernel);
}

double KernelProfile::WaitMicros(int part, int kernel) const {
  return Mean(wait_nanos_, part, kernel);
}

double KernelProfile::FinalWaitMicros(int part) const {
  if (runs_ == 0) return 0;
  return 1e-3 * static_cast<double>(final_wait_nanos_[part]) /
         static_cast<double>(runs_);
}

double KernelProfile::JoinedFraction(int part) const {
  if (runs_ == 0) return 0;
  return static_cast<double>(runs_joined_[part]) / static_cast<double>(runs_);
}

std::string KernelProfile::ToString() const {
  size_t width = 6;
  for (const std::string& name : kernel_names_) {
    width = std::max(width, name.size());
  }
  const int name_width = static_cast<int>(width);
  std::string text = absl::StrFormat(
      "kernel profile: mean us per run over %d runs, each part's compute "
      "time and its wait before the kernel for earlier ones\n%-*s",
      runs_, name_width, "kernel");
  for (int part = 0; part < num_parts_; ++part) {
    absl::StrAppendFormat(&text, "  %9s %9s", absl::StrCat("part", part),
                          "wait");
  }
  absl::StrAppend(&text, "\n");
  std::vector<double> compute(num_parts_, 0), waiting(num_parts_, 0);
  for (size_t k = 0; k < kernel_names_.size(); ++k) {
    absl::StrAppendFormat(&text, "%-*s", name_width, kernel_names_[k]);
    for (int part = 0; part < num_parts_; ++part) {
      const double run = KernelMicros(part, static_cast<int>(k));
      const double wait = WaitMicros(part, static_cast<int>(k));
      compute[part] += run;
      waiting[part] += wait;
      absl::StrAppendFormat(&text, "  %9.2f %9.2f", run, wait);
    }
    absl::StrAppend(&text, "\n");
  }
  absl::StrAppendFormat(&text, "%-*s", name_width, "end of run");
  for (int part = 0; part < num_parts_; ++part) {
    const double wait = FinalWaitMicros(part);
    waiting[part] += wait;
    absl::StrAppendFormat(&text, "  %9s %9.2f", "", wait);
  }
  absl::StrAppendFormat(&text, "\n%-*s", name_width, "total");
  for (int part = 0; part < num_parts_; ++part) {
    absl::StrAppendFormat(&text, "  %9.2f %9.2f", compute[part], waiting[part]);
  }
  absl::StrAppendFormat(&text, "\n%-*s", name_width, "runs joined");
  for (int part = 0; part < num_parts_; ++part) {
    absl::StrAppendFormat(&text, "  %8.1f%% %9s", 100 * JoinedFraction(part),
                          "");
  }
  return text;
}

}  // namespace kiln::jit
