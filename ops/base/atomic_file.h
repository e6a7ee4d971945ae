// Reading whole files, and replacing a file so that a crash cannot tear it.
//
// WriteFileAtomically is how Kiln saves anything a user would hate to lose.
// The new contents go to a temporary file in the destination's directory,
// which is flushed to disk (fsync) and then renamed over the destination;
// the directory is flushed too, so that the rename itself survives a power
// cut. rename(2) within one file system is atomic, so at every moment the
// destination holds either its old contents, complete, or the new ones,
// complete. When anything fails the temporary file is removed and the
// destination is untouched.
//
//   KILN_RETURN_IF_ERROR(WriteFileAtomically("model.safetensors", bytes));
//   KILN_ASSIGN_OR_RETURN(std::string back, ReadFile("model.safetensors"));
//
// Contract: `path` must name a file (not a directory) in an existing,
// writable directory. If `path` is a symbolic link, the link itself is
// replaced by a regular file; its target is left alone. The file is created
// with mode 0644.

#ifndef KILN_OPS_BASE_ATOMIC_FILE_H_
#define KILN_OPS_BASE_ATOMIC_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kiln {

// Replaces `path` with `contents` as described above. Errors name the path
// and the failing system call with its reason.
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view contents);

// The bytes of the file at `path`. NotFound if it does not exist; other
// failures (a directory, no permission, a read error) are Unavailable or
// PermissionDenied, naming the path.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Whether a file could be created in the directory that would hold `path`:
// it exists, is a directory, and is writable, and `path` is not itself a
// directory. Commands call it before long work whose result they will save.
absl::Status CheckWritableDestination(const std::string& path);

}  // namespace kiln

#endif  // KILN_OPS_BASE_ATOMIC_FILE_H_
