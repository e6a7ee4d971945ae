#include "models/command_line.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "ops/base/check.h"

namespace kiln {

CommandLine::CommandLine(std::vector<FlagSpec> flags)
    : flags_(std::move(flags)) {
  for (const FlagSpec& flag : flags_) {
    values_[flag.name] = flag.default_value;
    if (flag.boolean) boolean_.insert(flag.name);
  }
}

absl::Status CommandLine::Parse(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view argument = argv[i];
    if (argument == "--help" || argument == "-h") {
      help_requested_ = true;
      continue;
    }
    if (!absl::ConsumePrefix(&argument, "--")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", argument,
                       "'; flags are written --name=value"));
    }
    const size_t equals = argument.find('=');
    const absl::string_view name = argument.substr(0, equals);
    auto value = values_.find(name);
    if (value == values_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, "; see --help"));
    }
    const bool plain_boolean =
        equals == absl::string_view::npos && boolean_.contains(name);
    if (equals == absl::string_view::npos && !plain_boolean) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", name, " needs a value: --", name, "=..."));
    }
    if (!explicitly_set_.insert(std::string(name)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", name, " is given twice"));
    }
    value->second =
        plain_boolean ? "true" : std::string(argument.substr(equals + 1));
  }
  return absl::OkStatus();
}

const std::string& CommandLine::Get(absl::string_view name) const {
  auto value = values_.find(name);
  KILN_CHECK(value != values_.end()) << "undeclared flag " << name;
  return value->second;
}

bool CommandLine::WasSet(absl::string_view name) const {
  return explicitly_set_.contains(name);
}

void CommandLine::SetDefault(absl::string_view name, std::string value) {
  auto entry = values_.find(name);
  KILN_CHECK(entry != values_.end()) << "undeclared flag " << name;
  if (!WasSet(name)) entry->second = std::move(value);
}

absl::StatusOr<double> CommandLine::GetDouble(absl::string_view name) const {
  double value;
  if (!absl::SimpleAtod(Get(name), &value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", name, "=", Get(name), " is not a number"));
  }
  return value;
}

absl::StatusOr<int64_t> CommandLine::GetInt(absl::string_view name) const {
  int64_t value;
  if (!absl::SimpleAtoi(Get(name), &value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", name, "=", Get(name), " is not an integer"));
  }
  return value;
}

absl::StatusOr<bool> CommandLine::GetBool(absl::string_view name) const {
  if (Get(name) == "true") return true;
  if (Get(name) == "false") return false;
  return absl::InvalidArgumentError(
      absl::StrCat("--", name, "=", Get(name), " is not true or false"));
}

std::string CommandLine::Usage() const {
  std::string usage;
  for (const FlagSpec& flag : flags_) {
    absl::StrAppendFormat(&usage, "  --%s=%s\n      %s\n", flag.name,
                          flag.default_value, flag.help);
  }
  return usage;
}

absl::Status EnterBuildWorkingDirectory() {
  const char* directory = std::getenv("BUILD_WORKING_DIRECTORY");
  if (directory == nullptr || *directory == '\0') return absl::OkStatus();
  if (::chdir(directory) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot enter ", directory, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace kiln
