// The progress line's text and its drawing with carriage return and the
// terminal's erase-to-end-of-line sequence.

#include "models/progress.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>

#include "absl/strings/str_format.h"

namespace kiln {

std::string FormatDuration(double seconds) {
  const int64_t total = std::llround(std::max(0.0, seconds));
  const int64_t hours = total / 3600;
  const int64_t minutes = total / 60 % 60;
  const int64_t secs = total % 60;
  if (hours > 0) return absl::StrFormat("%d:%02d:%02d", hours, minutes, secs);
  return absl::StrFormat("%d:%02d", minutes, secs);
}

std::string FormatProgress(int64_t done, int64_t total, double elapsed_seconds,
                           double loss) {
  const double eta =
      done > 0 ? elapsed_seconds / done * static_cast<double>(total - done) : 0;
  return absl::StrFormat("epoch %d/%d  elapsed %s  eta %s  loss %.3f", done,
                         total, FormatDuration(elapsed_seconds),
                         FormatDuration(eta), loss);
}

bool ProgressLine::StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

ProgressLine::ProgressLine(int64_t total, bool enabled, std::string label)
    : total_(total),
      enabled_(enabled && total > 0),
      label_(label.empty() ? "" : "[" + label + "] "),
      start_(std::chrono::steady_clock::now()) {}

void ProgressLine::Update(int64_t done, double loss) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (shown_ && done < total_ &&
      now - last_drawn_ < std::chrono::milliseconds(100)) {
    return;
  }
  last_drawn_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  // Carriage return, the line, then erase whatever a longer line left.
  Write("\r" + label_ + FormatProgress(done, total_, elapsed, loss) + "\x1b[K");
  shown_ = true;
}

void ProgressLine::Clear() {
  if (!shown_) return;
  Write("\r\x1b[K");
  shown_ = false;
}

void ProgressLine::Write(const std::string& text) {
  // write(2) rather than stdio, so that the line never waits in a buffer
  // behind or ahead of other output.
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n =
        ::write(STDERR_FILENO, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // A progress line is not worth failing a run over.
    written += static_cast<size_t>(n);
  }
}

}  // namespace kiln
