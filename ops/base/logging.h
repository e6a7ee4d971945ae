// Quiet-by-default diagnostics on stderr.
//
// Library code never writes to stdout; that belongs to the command line tools.
// The environment variable KILN_VERBOSE sets how much goes to stderr:
//   0 (default)  nothing;
//   1            pass names and timings;
//   2            graph dumps after each pass;
//   3            generated code.
//
//   if (kiln::VerbosityAtLeast(1)) kiln::LogLine("dce removed 3 nodes");

#ifndef KILN_OPS_BASE_LOGGING_H_
#define KILN_OPS_BASE_LOGGING_H_

#include <string_view>

namespace kiln {

// The verbosity level, read once from KILN_VERBOSE.
int Verbosity();

inline bool VerbosityAtLeast(int level) { return Verbosity() >= level; }

// Writes `text` and a newline to stderr, prefixed with "kiln: ".
void LogLine(std::string_view text);

}  // namespace kiln

#endif  // KILN_OPS_BASE_LOGGING_H_
