#include "ops/base/logging.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace kiln {

int Verbosity() {
  static const int level = [] {
    const char* text = std::getenv("KILN_VERBOSE");
    return text == nullptr ? 0 : std::atoi(text);
  }();
  return level;
}

void LogLine(std::string_view text) {
  std::string line = "kiln: ";
  line.append(text);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace kiln
