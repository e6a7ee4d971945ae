// Conversion of LLVM's error values into absl::Status at the LLVM boundary.
//
// LLVM reports failures as llvm::Error and llvm::Expected<T>, which abort the
// process if they are destroyed unchecked (in builds with checks enabled) and
// which no other Kiln layer understands. Every call into LLVM that can fail
// passes its result through one of these helpers right away, so that the rest
// of the JIT only ever sees absl::Status values whose messages say what Kiln
// was doing when LLVM failed.
//
//   llvm::Expected<std::unique_ptr<llvm::orc::LLJIT>> jit = builder.create();
//   KILN_ASSIGN_OR_RETURN(std::unique_ptr<llvm::orc::LLJIT> owned,
//                         ToStatusOr(std::move(jit), "creating the JIT"));
//
// A failed conversion yields "<doing>: <LLVM's message>" under the given code,
// kInternal unless the caller knows better (kInvalidArgument for bad input).

#ifndef KILN_JIT_LLVM_STATUS_H_
#define KILN_JIT_LLVM_STATUS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "llvm/Support/Error.h"

namespace kiln::jit {

// Consumes `error`. Returns OkStatus for llvm::Error::success(), and
// otherwise a status with `code` whose message is `doing`, a colon and every
// message LLVM attached to the error.
absl::Status ToStatus(llvm::Error error, absl::string_view doing,
                      absl::StatusCode code = absl::StatusCode::kInternal);

// Moves the value out of `expected`, or converts its error as ToStatus does.
// For Expected<T&>, which StatusOr cannot hold, use TakeError below.
template <typename T>
absl::StatusOr<T> ToStatusOr(
    llvm::Expected<T> expected, absl::string_view doing,
    absl::StatusCode code = absl::StatusCode::kInternal) {
  if (!expected) return ToStatus(expected.takeError(), doing, code);
  return std::move(*expected);
}

// Checks `expected` in place: returns OkStatus and leaves the value for the
// caller when there is one, and otherwise consumes and converts the error.
// Either way `expected` counts as checked afterwards.
template <typename T>
absl::Status TakeError(llvm::Expected<T>& expected, absl::string_view doing,
                       absl::StatusCode code = absl::StatusCode::kInternal) {
  if (expected) return absl::OkStatus();
  return ToStatus(expected.takeError(), doing, code);
}

}  // namespace kiln::jit

#endif  // KILN_JIT_LLVM_STATUS_H_
