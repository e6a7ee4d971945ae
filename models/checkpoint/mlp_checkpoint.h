// Checkpoints of an Mlp's parameters, as safetensors files.
//
// A checkpoint holds one tensor per parameter, named after the model's
// layers as MlpParameters lists them ("hidden1.weight", "hidden1.bias", ...,
// "output.weight", "output.bias"), and metadata that says what they belong
// to:
//   architecture       ArchitectureString(spec), e.g.
//                      "784-200:sigmoid-10:softmax_cross_entropy"
//   dtype              "f32" or "f64"
//   epochs_completed   how many epochs of training produced the values
// plus free-form notes (the learning rate, the seed, ...) that loading
// returns but does not check. Python's `safetensors`, PyTorch and NumPy read
// the file as it is; see tests/models/safetensors_io.py.
//
//   MlpCheckpoint checkpoint{.parameters = trainer.parameters(),
//                            .epochs_completed = 100};
//   KILN_RETURN_IF_ERROR(SaveMlpCheckpoint("model.safetensors", spec, kF64,
//                                          checkpoint));
//   KILN_ASSIGN_OR_RETURN(MlpCheckpoint loaded,
//                         LoadMlpCheckpoint("model.safetensors", spec, kF64));
//
// Saving is atomic (ops/base/atomic_file.h): whatever happens, a
// file already at the path is left whole, either as it was or replaced by
// the complete new checkpoint. Loading validates the file as safetensors
// (models/checkpoint/safetensors.h) and then against the model: every
// parameter present with its shape and dtype, no tensor the model lacks, and
// the architecture and dtype metadata, when present, equal to the model's.
// A file without Kiln's metadata, such as one written from NumPy arrays,
// loads when its tensors fit. Every failure is a status naming the file and
// the tensor or value at fault; nothing aborts.

#ifndef KILN_MODELS_CHECKPOINT_MLP_CHECKPOINT_H_
#define KILN_MODELS_CHECKPOINT_MLP_CHECKPOINT_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "models/mlp.h"
#include "ops/tensor.h"

namespace kiln {

struct MlpCheckpoint {
  // By parameter name.
  std::map<std::string, Tensor, std::less<>> parameters;
  int64_t epochs_completed = 0;
  // Recorded for people and other programs; not checked when loading. Keys
  // must differ from the metadata keys above (checked).
  std::map<std::string, std::string, std::less<>> notes;
};

// The file's bytes. The parameters must be exactly those of `spec`, in
// `dtype` (checked: the caller owns the model and its tensors).
std::string SerializeMlpCheckpoint(const MlpSpec& spec, DType dtype,
                                   const MlpCheckpoint& checkpoint);

// Validates `bytes` as a checkpoint of `spec` in `dtype`; `source` names them
// in messages.
absl::StatusOr<MlpCheckpoint> ParseMlpCheckpoint(absl::string_view bytes,
                                                 absl::string_view source,
                                                 const MlpSpec& spec,
                                                 DType dtype);

// Writes the checkpoint to `path` atomically.
absl::Status SaveMlpCheckpoint(const std::string& path, const MlpSpec& spec,
                               DType dtype, const MlpCheckpoint& checkpoint);

// Reads and validates the checkpoint at `path`.
absl::StatusOr<MlpCheckpoint> LoadMlpCheckpoint(const std::string& path,
                                                const MlpSpec& spec,
                                                DType dtype);

}  // namespace kiln

#endif  // KILN_MODELS_CHECKPOINT_MLP_CHECKPOINT_H_
