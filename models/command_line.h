// A small command-line parser for Kiln's tools.
//
// Flags are declared in one table with their defaults and help text, and
// given as --name=value. A boolean flag may also be given as plain --name,
// meaning --name=true. Unknown flags, positional arguments and a flag given
// twice are errors. --help prints the table.
//
//   CommandLine flags({{"epochs", "2000", "number of epochs"}});
//   absl::Status parsed = flags.Parse(argc, argv);
//   int epochs = ...;  // flags.Get("epochs"), then a typed parse

#ifndef KILN_MODELS_COMMAND_LINE_H_
#define KILN_MODELS_COMMAND_LINE_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kiln {

struct FlagSpec {
  std::string name;
  std::string default_value;
  std::string help;
  // Whether the flag takes "true" or "false", and plain --name means true.
  bool boolean = false;
};

class CommandLine {
 public:
  explicit CommandLine(std::vector<FlagSpec> flags);

  // Reads argv[1..]. Afterwards help_requested() tells whether --help was
  // among them.
  absl::Status Parse(int argc, const char* const* argv);

  bool help_requested() const { return help_requested_; }

  // The value given for `name`, or its default.
  const std::string& Get(absl::string_view name) const;

  // Whether `name` was given explicitly.
  bool WasSet(absl::string_view name) const;

  // Replaces a flag's value unless the user set it explicitly. Presets such
  // as an experiment's use this so that explicit flags still win.
  void SetDefault(absl::string_view name, std::string value);

  // Typed views of Get(name), failing with a message naming the flag.
  absl::StatusOr<double> GetDouble(absl::string_view name) const;
  absl::StatusOr<int64_t> GetInt(absl::string_view name) const;
  absl::StatusOr<bool> GetBool(absl::string_view name) const;

  // The table as "--name=default  help" lines.
  std::string Usage() const;

 private:
  std::vector<FlagSpec> flags_;
  std::map<std::string, std::string, std::less<>> values_;
  std::set<std::string, std::less<>> explicitly_set_;
  std::set<std::string, std::less<>> boolean_;
  bool help_requested_ = false;
};

// Makes the directory the user ran `bazel run` from the working directory,
// so that relative paths in flags (--save=model.safetensors) mean what they
// say; `bazel run` itself starts programs in their runfiles tree. Does
// nothing outside `bazel run`. Fails with the directory's name if it cannot
// be entered.
absl::Status EnterBuildWorkingDirectory();

}  // namespace kiln

#endif  // KILN_MODELS_COMMAND_LINE_H_
