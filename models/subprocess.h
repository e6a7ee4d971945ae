// Running the external programs that turn Kiln's text output into pictures:
// Graphviz's `dot` for graphs and `gnuplot` for plots.
//
// RunProgram starts a program found on PATH with the given arguments, no
// shell in between (so file names need no quoting), and waits for it. The
// child's stdout is sent to stderr: Kiln's stdout carries results only, and
// a program's chatter must not land among them.
//
//   KILN_RETURN_IF_ERROR(RunProgram({"dot", "-Tsvg", "-o", "g.svg", "g.dot"}));

#ifndef KILN_MODELS_SUBPROCESS_H_
#define KILN_MODELS_SUBPROCESS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace kiln {

// Runs argv[0] with `argv` and waits. Fails with NotFound when the program
// is not on PATH, and with Internal naming the command when it exits
// non-zero or dies from a signal. `argv` must not be empty (checked).
absl::Status RunProgram(const std::vector<std::string>& argv);

}  // namespace kiln

#endif  // KILN_MODELS_SUBPROCESS_H_
