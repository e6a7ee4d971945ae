// Early-return helpers for absl::Status and absl::StatusOr.
//
// The Abseil release Debian ships (20220623) has no status macros of its own,
// so Kiln defines the two it needs here, once.
//
//   absl::StatusOr<Tensor> Load(const std::string& path) {
//     KILN_RETURN_IF_ERROR(CheckReadable(path));
//     KILN_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
//     return Parse(bytes);
//   }

#ifndef KILN_OPS_BASE_STATUS_MACROS_H_
#define KILN_OPS_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns the status of `expr` from the enclosing function if it is an error.
#define KILN_RETURN_IF_ERROR(expr)                 \
  do {                                             \
    ::absl::Status kiln_status_ = (expr);          \
    if (!kiln_status_.ok()) return kiln_status_;   \
  } while (false)

#define KILN_STATUS_CONCAT_INNER_(a, b) a##b
#define KILN_STATUS_CONCAT_(a, b) KILN_STATUS_CONCAT_INNER_(a, b)

// Evaluates `rexpr`, an absl::StatusOr<T>. On error, returns its status from
// the enclosing function; otherwise moves the value into `lhs`, which may be a
// declaration such as `Tensor t`.
#define KILN_ASSIGN_OR_RETURN(lhs, rexpr) \
  KILN_ASSIGN_OR_RETURN_IMPL_(            \
      KILN_STATUS_CONCAT_(kiln_statusor_, __LINE__), lhs, rexpr)

#define KILN_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = *std::move(statusor)

#endif  // KILN_OPS_BASE_STATUS_MACROS_H_
