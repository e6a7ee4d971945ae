#include "jit/llvm_status.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace kiln::jit {

absl::Status ToStatus(llvm::Error error, absl::string_view doing,
                      absl::StatusCode code) {
  if (!error) return absl::OkStatus();
  // toString joins every payload of a compound error, so nothing LLVM said
  // is lost, and it marks the error as handled.
  const std::string message = llvm::toString(std::move(error));
  return absl::Status(code, absl::StrCat(doing, ": ", message));
}

}  // namespace kiln::jit
