// Atomic replacement with POSIX calls: mkostemp next to the destination,
// write, fchmod, fsync, close, rename, then fsync of the directory. Every
// failure path unlinks the temporary file before it returns.

#include "ops/base/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"

namespace kiln {
namespace {

absl::Status SystemError(absl::string_view call, const std::string& path,
                         int error) {
  const std::string message =
      absl::StrCat(call, " ", path, ": ", std::strerror(error));
  if (error == ENOENT) return absl::NotFoundError(message);
  if (error == EACCES || error == EPERM || error == EROFS) {
    return absl::PermissionDeniedError(message);
  }
  return absl::UnavailableError(message);
}

// The directory that holds `path`, "." for a bare file name.
std::string DirectoryOf(const std::string& path) {
  std::string directory = std::filesystem::path(path).parent_path().string();
  return directory.empty() ? "." : directory;
}

// Writes all of `contents` to `fd`, retrying short writes and interrupts.
absl::Status WriteAll(int fd, absl::string_view contents,
                      const std::string& path) {
  while (!contents.empty()) {
    const ssize_t written = ::write(fd, contents.data(), contents.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return SystemError("write", path, errno);
    }
    contents.remove_prefix(static_cast<size_t>(written));
  }
  return absl::OkStatus();
}

// Makes a completed rename in `directory` durable. Some file systems cannot
// fsync a directory (EINVAL); the rename has still happened there.
absl::Status SyncDirectory(const std::string& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return SystemError("open", directory, errno);
  const int synced = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (synced != 0 && error != EINVAL) {
    return SystemError("fsync", directory, error);
  }
  return absl::OkStatus();
}

// Fills the open temporary file and closes it; on success it is on disk.
absl::Status FillTemporary(int fd, absl::string_view contents,
                           const std::string& temporary) {
  absl::Status status = WriteAll(fd, contents, temporary);
  if (status.ok() && ::fchmod(fd, 0644) != 0) {
    status = SystemError("fchmod", temporary, errno);
  }
  if (status.ok() && ::fsync(fd) != 0) {
    status = SystemError("fsync", temporary, errno);
  }
  if (::close(fd) != 0 && status.ok()) {
    status = SystemError("close", temporary, errno);
  }
  return status;
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view contents) {
  // The temporary file lives next to the destination, so that the rename
  // stays within one file system and is atomic.
  std::string temporary = path + ".tmp.XXXXXX";
  std::vector<char> name(temporary.begin(), temporary.end());
  name.push_back('\0');
  const int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) return SystemError("create a temporary file for", path, errno);
  temporary = name.data();

  absl::Status status = FillTemporary(fd, contents, temporary);
  if (status.ok() && ::rename(temporary.c_str(), path.c_str()) != 0) {
    status =
        SystemError(absl::StrCat("rename ", temporary, " to"), path, errno);
  }
  if (!status.ok()) {
    ::unlink(temporary.c_str());
    return status;
  }
  return SyncDirectory(DirectoryOf(path));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return SystemError("open", path, errno);
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    return SystemError("stat", path, error);
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not a regular file"));
  }
  std::string contents;
  char buffer[1 << 16];
  while (true) {
    const ssize_t got = ::read(fd, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      const int error = errno;
      ::close(fd);
      return SystemError("read", path, error);
    }
    if (got == 0) break;
    contents.append(buffer, static_cast<size_t>(got));
  }
  ::close(fd);
  return contents;
}

absl::Status CheckWritableDestination(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is a directory, not a file name"));
  }
  const std::string directory = DirectoryOf(path);
  if (!std::filesystem::is_directory(directory, error)) {
    return absl::NotFoundError(absl::StrCat(
        "cannot save to ", path, ": directory ", directory, " does not exist"));
  }
  if (::access(directory.c_str(), W_OK | X_OK) != 0) {
    return SystemError(absl::StrCat("cannot save to ", path, ": directory"),
                       directory, errno);
  }
  return absl::OkStatus();
}

}  // namespace kiln
