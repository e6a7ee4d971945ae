#include "ops/base/check.h"

#include <cstdio>
#include <cstdlib>

namespace kiln::internal {

CheckFailure::CheckFailure(const char* file, int line, const char* condition) {
  message_ << file << ":" << line << ": internal error: check failed: "
           << condition << " ";
}

CheckFailure::~CheckFailure() {
  std::string text = message_.str();
  std::fprintf(stderr, "%s\n", text.c_str());
  std::fflush(stderr);
  std::abort();
}

void FailUnreachable(const char* file, int line, const char* what) {
  std::fprintf(stderr, "%s:%d: internal error: unreachable: %s\n", file, line,
               what);
  std::fflush(stderr);
  std::abort();
}

}  // namespace kiln::internal
