#include "ad/memory_budget.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace kiln {
namespace {

constexpr int64_t kMaxBytes = std::numeric_limits<int64_t>::max();

// The cgroup v2 memory limit of this process, if it has one. "max" and a
// missing file both mean no limit.
int64_t CgroupMemoryLimit() {
  std::ifstream file("/sys/fs/cgroup/memory.max");
  std::string text;
  if (!(file >> text)) return kMaxBytes;
  int64_t limit = 0;
  if (!absl::SimpleAtoi(text, &limit) || limit <= 0) return kMaxBytes;
  return limit;
}

int64_t PhysicalMemory() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return kMaxBytes;
  int64_t bytes = 0;
  if (__builtin_mul_overflow(int64_t{pages}, int64_t{page_size}, &bytes)) {
    return kMaxBytes;
  }
  return bytes;
}

}  // namespace

absl::StatusOr<int64_t> ParseByteCount(absl::string_view text) {
  absl::string_view digits = text;
  int shift = 0;
  if (!digits.empty()) {
    switch (std::toupper(static_cast<unsigned char>(digits.back()))) {
      case 'K':
        shift = 10;
        break;
      case 'M':
        shift = 20;
        break;
      case 'G':
        shift = 30;
        break;
      case 'T':
        shift = 40;
        break;
    }
    if (shift != 0) digits.remove_suffix(1);
  }
  int64_t count = 0;
  const bool parsed =
      !digits.empty() &&
      std::all_of(
          digits.begin(), digits.end(),
          [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
      absl::SimpleAtoi(digits, &count);
  if (!parsed || count <= 0 || count > (kMaxBytes >> shift)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text,
                     "' is not a byte count: expected a positive number that "
                     "fits in 63 bits, optionally followed by K, M, G or T"));
  }
  return count << shift;
}

absl::StatusOr<int64_t> DefaultMemoryBudget() {
  if (const char* budget = std::getenv("KILN_MEMORY_BUDGET")) {
    absl::StatusOr<int64_t> bytes = ParseByteCount(budget);
    if (!bytes.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("KILN_MEMORY_BUDGET: ", bytes.status().message()));
    }
    return bytes;
  }
  return std::min(PhysicalMemory(), CgroupMemoryLimit());
}

absl::StatusOr<int64_t> ResolveMemoryBudget(int64_t bytes) {
  if (bytes > 0) return bytes;
  return DefaultMemoryBudget();
}

std::string FormatBytes(int64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB",
                                           "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit + 1 < 6) {
    value /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", value, kUnits[unit]);
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return kMaxBytes;
  return sum;
}

absl::Status CheckMemoryBudget(absl::string_view what, int64_t needed_bytes,
                               int64_t budget_bytes,
                               const LargestBuffer& largest) {
  if (needed_bytes <= budget_bytes) return absl::OkStatus();
  const std::string needed =
      needed_bytes == kMaxBytes
          ? std::string("more than 8 EiB, past what 64 bits can count")
          : absl::StrCat(FormatBytes(needed_bytes), " (", needed_bytes,
                         " bytes)");
  return absl::ResourceExhaustedError(absl::StrCat(
      what, " needs ", needed, " of buffers, more than the memory budget of ",
      FormatBytes(budget_bytes), " (", budget_bytes,
      " bytes; KILN_MEMORY_BUDGET sets it); its largest buffer is ",
      largest.description, ", ", FormatBytes(largest.bytes)));
}

}  // namespace kiln
