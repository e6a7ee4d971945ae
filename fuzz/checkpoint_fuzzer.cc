// Fuzz target: the checkpoint loader (models/checkpoint/), from its strict
// JSON reader through the safetensors format to MLP checkpoints.
//
// The first byte of an input picks what reads the rest:
//   bits 0-1  0 or 1: LoadMlpCheckpoint of a file holding the bytes, for
//             the model kSpecs[bit 2] in f32 (0) or f64 (1);
//             2: ParseSafetensors of the bytes;
//             3: ParseJson of the bytes, the header's reader alone;
//   bit 2     which of the two models below.
// Whatever the bytes, each reader must return; a refusal must name the
// source, and what is accepted must keep the format's promises:
//   * safetensors read back unchanged after serializing what was parsed;
//   * a checkpoint holds exactly the model's parameters, each of its shape
//     and dtype, and its epoch count is not negative.
// Anything else aborts, and the input is a finding.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_file.h"
#include "fuzz/fuzz_target.h"
#include "models/checkpoint/json.h"
#include "models/checkpoint/mlp_checkpoint.h"
#include "models/checkpoint/safetensors.h"
#include "models/mlp.h"
#include "ops/base/check.h"

namespace kiln::fuzz {
namespace {

constexpr absl::string_view kSource = "fuzz.safetensors";

// Small models whose checkpoints seeds hold (see make_seed_corpus.py):
// 4-3:sigmoid-2:softmax_cross_entropy and 3-2:identity_mse.
MlpSpec Spec(int which) {
  MlpSpec spec;
  if (which == 0) {
    spec.inputs = 4;
    spec.hidden = {{3, Activation::kSigmoid}};
    spec.outputs = 2;
  } else {
    spec.inputs = 3;
    spec.outputs = 2;
    spec.head = OutputHead::kIdentityMse;
  }
  return spec;
}

void CheckRefusal(const absl::Status& status, absl::string_view source) {
  KILN_CHECK(!status.ok());
  KILN_CHECK(absl::StrContains(status.message(), source))
      << "the message does not name " << source << ": " << status.ToString();
}

bool SameTensor(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.num_bytes()) == 0;
}

void FuzzSafetensors(absl::string_view bytes) {
  absl::StatusOr<Safetensors> parsed = ParseSafetensors(bytes, kSource);
  if (!parsed.ok()) {
    KILN_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument)
        << parsed.status().ToString();
    CheckRefusal(parsed.status(), kSource);
    return;
  }
  const std::string written = SerializeSafetensors(*parsed);
  absl::StatusOr<Safetensors> again = ParseSafetensors(written, "rewritten");
  KILN_CHECK(again.ok()) << "what was parsed does not read back: "
                         << again.status().ToString();
  KILN_CHECK(again->metadata == parsed->metadata);
  KILN_CHECK(again->tensors.size() == parsed->tensors.size());
  for (const auto& [name, tensor] : parsed->tensors) {
    auto found = again->tensors.find(name);
    KILN_CHECK(found != again->tensors.end()) << name;
    KILN_CHECK(SameTensor(found->second, tensor)) << name << " changed";
  }
}

void FuzzCheckpoint(absl::string_view bytes, const MlpSpec& spec, DType dtype) {
  const std::string path = WriteFuzzFile(
      std::string(kSource), reinterpret_cast<const uint8_t*>(bytes.data()),
      bytes.size());
  absl::StatusOr<MlpCheckpoint> loaded = LoadMlpCheckpoint(path, spec, dtype);
  if (!loaded.ok()) {
    CheckRefusal(loaded.status(), path);
    return;
  }
  KILN_CHECK(loaded->epochs_completed >= 0) << loaded->epochs_completed;
  const std::vector<ParameterInfo> expected = MlpParameters(spec);
  KILN_CHECK(loaded->parameters.size() == expected.size());
  for (const ParameterInfo& info : expected) {
    auto found = loaded->parameters.find(info.name);
    KILN_CHECK(found != loaded->parameters.end()) << info.name << " missing";
    KILN_CHECK(found->second.shape() == info.shape &&
               found->second.dtype() == dtype)
        << info.name << " is " << found->second.DebugString(0);
  }
}

void FuzzOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const int mode = data[0] & 3;
  const MlpSpec spec = Spec((data[0] >> 2) & 1);
  const absl::string_view rest(reinterpret_cast<const char*>(data) + 1,
                               size - 1);
  switch (mode) {
    case 0:
    case 1:
      FuzzCheckpoint(rest, spec, mode == 0 ? kF32 : kF64);
      break;
    case 2:
      FuzzSafetensors(rest);
      break;
    default: {
      absl::StatusOr<JsonValue> json = ParseJson(rest);
      KILN_CHECK(json.ok() ||
                 (json.status().code() == absl::StatusCode::kInvalidArgument &&
                  absl::StrContains(json.status().message(), "at byte ")))
          << json.status().ToString();
      break;
    }
  }
}

}  // namespace
}  // namespace kiln::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kiln::fuzz::FuzzOneInput(data, size);
  return 0;
}
