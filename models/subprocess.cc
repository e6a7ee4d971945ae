// posix_spawnp and waitpid: no shell, no fork of a large address space.

#include "models/subprocess.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ops/base/check.h"

extern char** environ;

namespace kiln {

absl::Status RunProgram(const std::vector<std::string>& argv) {
  KILN_CHECK(!argv.empty()) << "RunProgram needs a program";
  std::vector<char*> args;
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  pid_t pid;
  const int spawned =
      posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  const std::string command = absl::StrJoin(argv, " ");
  if (spawned == ENOENT) {
    return absl::NotFoundError(
        absl::StrCat(argv[0], " is not installed (not found on PATH)"));
  }
  if (spawned != 0) {
    return absl::InternalError(
        absl::StrCat("cannot run ", command, ": ", std::strerror(spawned)));
  }

  int status;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return absl::InternalError(
          absl::StrCat("waiting for ", command, ": ", std::strerror(errno)));
    }
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(
      WIFEXITED(status)
          ? absl::StrCat(command, " exited with status ", WEXITSTATUS(status))
          : absl::StrCat(command, " died from signal ", WTERMSIG(status)));
}

}  // namespace kiln
