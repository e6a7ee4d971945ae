// Internal-invariant checks.
//
// Kiln separates two kinds of failure. Mistakes a user can make (a bad shape,
// a malformed file, a missing feed) come back as absl::Status values. A
// broken invariant inside Kiln itself is a bug, and KILN_CHECK aborts on it
// with the file, the line and the failed condition, so that the bug is seen
// where it happens rather than as a wrong number later.
//
//   KILN_CHECK(index < size) << "index " << index << " of " << size;

#ifndef KILN_OPS_BASE_CHECK_H_
#define KILN_OPS_BASE_CHECK_H_

#include <sstream>

namespace kiln::internal {

// Collects the message of a failed check and aborts when destroyed, at the end
// of the full expression that streamed into it.
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  CheckFailure(const CheckFailure&) = delete;
  CheckFailure& operator=(const CheckFailure&) = delete;
  [[noreturn]] ~CheckFailure();

  template <typename T>
  CheckFailure& operator<<(const T& value) {
    message_ << value;
    return *this;
  }

 private:
  std::ostringstream message_;
};

[[noreturn]] void FailUnreachable(const char* file, int line,
                                  const char* what);

// Lets `KILN_CHECK(c) << ...` be an expression of type void in both branches
// of the conditional operator.
struct Voidify {
  void operator&(const CheckFailure&) {}
};

}  // namespace kiln::internal

#define KILN_CHECK(condition)                                      \
  (condition) ? (void)0                                            \
              : ::kiln::internal::Voidify() &                      \
                    ::kiln::internal::CheckFailure(__FILE__, __LINE__, \
                                                   #condition)

// Marks code that a correct program never reaches, such as the end of a
// switch that covers every enumerator.
#define KILN_UNREACHABLE(what) \
  ::kiln::internal::FailUnreachable(__FILE__, __LINE__, what)

#endif  // KILN_OPS_BASE_CHECK_H_
