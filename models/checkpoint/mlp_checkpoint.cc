// MLP checkpoints on top of the safetensors layer: the metadata keys Kiln
// owns, and the checks of a file against the model it is loaded into.

#include "models/checkpoint/mlp_checkpoint.h"

#include <set>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ops/base/atomic_file.h"
#include "models/checkpoint/safetensors.h"
#include "ops/base/check.h"
#include "ops/base/status_macros.h"

namespace kiln {
namespace {

constexpr absl::string_view kArchitectureKey = "architecture";
constexpr absl::string_view kDTypeKey = "dtype";
constexpr absl::string_view kEpochsKey = "epochs_completed";

bool IsReservedKey(absl::string_view key) {
  return key == kArchitectureKey || key == kDTypeKey || key == kEpochsKey;
}

absl::Status Mismatch(absl::string_view source, auto&&... parts) {
  return absl::InvalidArgumentError(absl::StrCat(source, ": ", parts...));
}

// Checks the recorded architecture and dtype, where the file has them.
absl::Status CheckModelMetadata(const Safetensors& file,
                                absl::string_view source, const MlpSpec& spec,
                                DType dtype) {
  const std::string architecture = ArchitectureString(spec);
  if (auto found = file.metadata.find(kArchitectureKey);
      found != file.metadata.end() && found->second != architecture) {
    return Mismatch(source, "the checkpoint is of architecture ", found->second,
                    " but the model is ", architecture);
  }
  if (auto found = file.metadata.find(kDTypeKey);
      found != file.metadata.end() && found->second != DTypeName(dtype)) {
    return Mismatch(source, "the checkpoint holds ", found->second,
                    " parameters but the model is ", DTypeName(dtype));
  }
  return absl::OkStatus();
}

// Checks that the file's tensors are exactly the model's parameters.
absl::Status CheckParameters(const Safetensors& file, absl::string_view source,
                             const MlpSpec& spec, DType dtype) {
  std::set<std::string, std::less<>> expected;
  for (const ParameterInfo& info : MlpParameters(spec)) {
    expected.insert(info.name);
    auto found = file.tensors.find(info.name);
    if (found == file.tensors.end()) {
      return Mismatch(source, "missing tensor \"", info.name, "\" (",
                      DTypeName(dtype), ShapeToString(info.shape),
                      ") of architecture ", ArchitectureString(spec));
    }
    const Tensor& tensor = found->second;
    if (tensor.shape() != info.shape) {
      return Mismatch(source, "tensor \"", info.name, "\" has shape ",
                      ShapeToString(tensor.shape()), " but the model needs ",
                      ShapeToString(info.shape));
    }
    if (tensor.dtype() != dtype) {
      return Mismatch(source, "tensor \"", info.name, "\" is ",
                      DTypeName(tensor.dtype()), " but the model is ",
                      DTypeName(dtype));
    }
  }
  for (const auto& [name, tensor] : file.tensors) {
    if (!expected.contains(name)) {
      return Mismatch(source, "unexpected tensor \"", name,
                      "\"; the model's parameters are ",
                      absl::StrJoin(expected, ", "));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ParseEpochs(const Safetensors& file,
                                    absl::string_view source) {
  auto found = file.metadata.find(kEpochsKey);
  if (found == file.metadata.end()) return 0;
  int64_t epochs;
  if (!absl::SimpleAtoi(found->second, &epochs) || epochs < 0) {
    return Mismatch(source, "metadata ", kEpochsKey, " is \"", found->second,
                    "\", not a non-negative integer");
  }
  return epochs;
}

}  // namespace

std::string SerializeMlpCheckpoint(const MlpSpec& spec, DType dtype,
                                   const MlpCheckpoint& checkpoint) {
  Safetensors file;
  for (const ParameterInfo& info : MlpParameters(spec)) {
    auto found = checkpoint.parameters.find(info.name);
    KILN_CHECK(found != checkpoint.parameters.end())
        << "no value for parameter " << info.name;
    KILN_CHECK(found->second.shape() == info.shape &&
               found->second.dtype() == dtype)
        << info.name << " is " << found->second.DebugString(0);
    file.tensors.emplace(info.name, found->second);
  }
  KILN_CHECK(file.tensors.size() == checkpoint.parameters.size())
      << "the checkpoint has values for tensors the model lacks";
  for (const auto& [key, value] : checkpoint.notes) {
    KILN_CHECK(!IsReservedKey(key)) << "note " << key << " is reserved";
    file.metadata[key] = value;
  }
  file.metadata[std::string(kArchitectureKey)] = ArchitectureString(spec);
  file.metadata[std::string(kDTypeKey)] = std::string(DTypeName(dtype));
  file.metadata[std::string(kEpochsKey)] =
      absl::StrCat(checkpoint.epochs_completed);
  return SerializeSafetensors(file);
}

absl::StatusOr<MlpCheckpoint> ParseMlpCheckpoint(absl::string_view bytes,
                                                 absl::string_view source,
                                                 const MlpSpec& spec,
                                                 DType dtype) {
  KILN_ASSIGN_OR_RETURN(Safetensors file, ParseSafetensors(bytes, source));
  KILN_RETURN_IF_ERROR(CheckModelMetadata(file, source, spec, dtype));
  KILN_RETURN_IF_ERROR(CheckParameters(file, source, spec, dtype));
  MlpCheckpoint checkpoint;
  KILN_ASSIGN_OR_RETURN(checkpoint.epochs_completed, ParseEpochs(file, source));
  checkpoint.parameters = std::move(file.tensors);
  for (auto& [key, value] : file.metadata) {
    if (!IsReservedKey(key)) checkpoint.notes[key] = std::move(value);
  }
  return checkpoint;
}

absl::Status SaveMlpCheckpoint(const std::string& path, const MlpSpec& spec,
                               DType dtype, const MlpCheckpoint& checkpoint) {
  return WriteFileAtomically(path,
                             SerializeMlpCheckpoint(spec, dtype, checkpoint));
}

absl::StatusOr<MlpCheckpoint> LoadMlpCheckpoint(const std::string& path,
                                                const MlpSpec& spec,
                                                DType dtype) {
  KILN_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return ParseMlpCheckpoint(bytes, path, spec, dtype);
}

}  // namespace kiln
