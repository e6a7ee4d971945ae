// A scratch file for fuzz targets whose code under test reads from a path.
//
// libFuzzer hands a target bytes in memory, but the IDX reader and the
// checkpoint loader take file names, as their users do. Each process writes
// every input to one file of its own, in a directory made once under
// $TEST_TMPDIR or $TMPDIR, and overwrites it for the next input, so that a
// long fuzzing run neither fills the disk nor spends its time creating
// files.
//
//   const std::string& path = WriteFuzzFile("input.idx.gz", bytes, size);
//   absl::StatusOr<IdxArray> array = ReadIdx(path);

#ifndef KILN_FUZZ_FUZZ_FILE_H_
#define KILN_FUZZ_FUZZ_FILE_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace kiln::fuzz {

// Replaces the file called `name` in this process's scratch directory with
// `size` bytes from `data` and returns its path. A failure to write aborts:
// it is a fault of the machine, and must not pass for a finding.
std::string WriteFuzzFile(const std::string& name, const uint8_t* data,
                          size_t size);

}  // namespace kiln::fuzz

#endif  // KILN_FUZZ_FUZZ_FILE_H_
