// The entry point every fuzz target defines, as libFuzzer names it.
//
// A target gets one input, must return 0, and reports a finding by
// crashing: a failed KILN_CHECK, a sanitizer report or a signal. The same
// function runs under libFuzzer's driver and under the corpus replay test
// of the normal suite (tests/fuzz/corpus_replay_main.cc).

#ifndef KILN_FUZZ_FUZZ_TARGET_H_
#define KILN_FUZZ_FUZZ_TARGET_H_

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#endif  // KILN_FUZZ_FUZZ_TARGET_H_
