// Memory budgets: a ceiling on the memory a program's buffers may take.
//
// A mistyped dimension can turn a graph of megabytes into one of terabytes.
// Left alone, such a program is killed by the operating system halfway
// through a run, or thrashes, or aborts on a failed allocation; nothing
// says which node was to blame. So executors add up, at compile time, the
// bytes their program's buffers would occupy while it runs, and refuse a
// program above the budget with kResourceExhausted, the figure it would
// need, and its largest buffer.
//
// The default budget is the memory of the machine (or of the container's
// cgroup, when that is smaller). KILN_MEMORY_BUDGET overrides it with a
// byte count, optionally with a suffix K, M, G or T for powers of 1024:
//
//   KILN_MEMORY_BUDGET=512M ./kiln train
//
//   KILN_ASSIGN_OR_RETURN(int64_t budget, DefaultMemoryBudget());
//   KILN_RETURN_IF_ERROR(CheckMemoryBudget(needed, budget, largest));

#ifndef KILN_AD_MEMORY_BUDGET_H_
#define KILN_AD_MEMORY_BUDGET_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kiln {

// Parses "1048576", "512K", "64M", "8G" or "1T" (powers of 1024). Fails with
// kInvalidArgument naming `text` if it is not a positive count that fits in
// int64_t.
absl::StatusOr<int64_t> ParseByteCount(absl::string_view text);

// KILN_MEMORY_BUDGET if it is set, else the memory of the machine or of the
// cgroup that holds this process, whichever is smaller. Fails with
// kInvalidArgument if KILN_MEMORY_BUDGET does not parse.
absl::StatusOr<int64_t> DefaultMemoryBudget();

// Resolves an executor option: `bytes` when positive, else the default.
absl::StatusOr<int64_t> ResolveMemoryBudget(int64_t bytes);

// "512 B", "1.5 KiB", "12.3 GiB": a size for people to read.
std::string FormatBytes(int64_t bytes);

// a + b for non-negative sizes, or INT64_MAX if that overflows. Sums of
// buffer sizes use it, so that a huge graph reads as "too much", never as
// a wrapped-around small number.
int64_t SaturatingAdd(int64_t a, int64_t b);

// The largest buffer of a program, named for messages.
struct LargestBuffer {
  int64_t bytes = 0;
  // Such as "matmul f64[100000,100000] (at model.cc:12)".
  std::string description;
};

// Fails with kResourceExhausted if `needed_bytes` exceeds `budget_bytes`,
// saying how much is needed, what the budget is and which buffer is the
// largest. `what` names the program, as "the interpreted program".
absl::Status CheckMemoryBudget(absl::string_view what, int64_t needed_bytes,
                               int64_t budget_bytes,
                               const LargestBuffer& largest);

}  // namespace kiln

#endif  // KILN_AD_MEMORY_BUDGET_H_
