#include "models/data/mnist.h"

#include <array>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "models/data/idx.h"
#include "ops/base/check.h"
#include "ops/base/status_macros.h"

namespace kiln {
namespace {

// The file names of one split, without the optional .gz suffix.
struct SplitFiles {
  absl::string_view images;
  absl::string_view labels;
};

SplitFiles FilesOf(Split split) {
  switch (split) {
    case Split::kTrain:
      return {"train-images-idx3-ubyte", "train-labels-idx1-ubyte"};
    case Split::kTest:
      return {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
  }
  KILN_UNREACHABLE("invalid split");
}

// An IDX array with the path it was read from, for messages.
struct IdxFile {
  std::string path;
  IdxArray array;
};

// Reads dir/name, or dir/name.gz when the raw file is absent; with a
// positive `max_items`, only that many items (see ReadIdx). Any failure
// other than absence, such as a permission error, is reported for the raw
// file rather than hidden by trying the other.
absl::StatusOr<IdxFile> ReadRawOrGzipped(const std::string& dir,
                                         absl::string_view name,
                                         int64_t max_items = 0) {
  IdxFile file{absl::StrCat(dir, "/", name), {}};
  absl::StatusOr<IdxArray> array = ReadIdx(file.path, max_items);
  if (absl::IsNotFound(array.status())) {
    const std::string raw_path = file.path;
    file.path = absl::StrCat(raw_path, ".gz");
    array = ReadIdx(file.path, max_items);
    if (absl::IsNotFound(array.status())) {
      return absl::NotFoundError(
          absl::StrCat("neither ", raw_path, " nor ", file.path, " exists"));
    }
  }
  if (!array.ok()) return array.status();
  file.array = *std::move(array);
  return file;
}

absl::Status CheckRank(const IdxFile& file, size_t rank,
                       absl::string_view layout) {
  if (file.array.dims.size() == rank) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(file.path, ": has rank ", file.array.dims.size(),
                   " (dimensions [", absl::StrJoin(file.array.dims, ","),
                   "]); expected rank ", rank, " ", layout));
}

absl::Status CheckCounts(const IdxFile& images, const IdxFile& labels) {
  const int64_t image_count = images.array.file_items;
  const int64_t label_count = labels.array.file_items;
  if (image_count == label_count) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(images.path, " holds ", image_count, " images but ",
                   labels.path, " holds ", label_count, " labels"));
}

absl::Status CheckLabels(const IdxFile& labels) {
  const std::vector<uint8_t>& values = labels.array.values;
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] >= kNumClasses) {
      return absl::InvalidArgumentError(
          absl::StrCat(labels.path, ": label at index ", i, " is ",
                       static_cast<int>(values[i]),
                       "; labels must be between 0 and ", kNumClasses - 1));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckLimitSign(int64_t limit) {
  if (limit >= 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "limit ", limit, " is negative; use 0 to load every sample"));
}

// How many samples to keep: `limit`, or all `images` hold when it is 0.
absl::StatusOr<int64_t> SampleCount(int64_t limit, const IdxFile& images) {
  const int64_t available = images.array.dims[0];
  if (limit == 0) return available;
  if (limit > available) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit ", limit, " exceeds the ", available,
                     " samples in ", images.path));
  }
  return limit;
}

// Writes pixel / 255 for every element of `images`, reading as many pixels.
template <typename T>
void ScalePixels(const std::vector<uint8_t>& pixels, Tensor& images) {
  // Every pixel is one of 256 values, so each quotient is computed once.
  std::array<T, 256> scaled;
  for (int p = 0; p < 256; ++p) scaled[p] = static_cast<T>(p / 255.0);

  KILN_CHECK(static_cast<int64_t>(pixels.size()) >= images.num_elements())
      << pixels.size() << " pixels for " << images.num_elements();
  T* out = images.data<T>();
  for (int64_t i = 0; i < images.num_elements(); ++i) {
    out[i] = scaled[pixels[i]];
  }
}

// Sets row i of the zero-filled `one_hot` to 1 at column labels[i].
template <typename T>
void SetOneHot(const std::vector<uint8_t>& labels, Tensor& one_hot) {
  T* out = one_hot.data<T>();
  for (int64_t i = 0; i < one_hot.shape()[0]; ++i) {
    out[i * kNumClasses + labels[i]] = 1;
  }
}

Dataset MakeDataset(const IdxArray& images, const IdxArray& labels,
                    int64_t count, DType dtype) {
  Dataset dataset;
  dataset.image_rows = images.dims[1];
  dataset.image_cols = images.dims[2];
  dataset.labels.assign(labels.values.begin(), labels.values.begin() + count);
  dataset.images =
      Tensor(dtype, {count, dataset.image_rows * dataset.image_cols});
  dataset.labels_one_hot = Tensor(dtype, {count, kNumClasses});
  DispatchDType(dtype, [&]<typename T>() {
    ScalePixels<T>(images.values, dataset.images);
    SetOneHot<T>(dataset.labels, dataset.labels_one_hot);
  });
  return dataset;
}

}  // namespace

absl::StatusOr<Dataset> LoadDataset(const std::string& dir, Split split,
                                    int64_t limit, DType dtype) {
  // Checked first, so that a bad argument does not wait for a large read.
  KILN_RETURN_IF_ERROR(CheckLimitSign(limit));

  const SplitFiles files = FilesOf(split);
  // Only the images that are kept are read, which for the first 1000 of
  // MNIST's 60000 training images is 60 times faster.
  KILN_ASSIGN_OR_RETURN(IdxFile images,
                        ReadRawOrGzipped(dir, files.images, limit));
  KILN_RETURN_IF_ERROR(CheckRank(images, 3, "[count, rows, cols]"));
  KILN_ASSIGN_OR_RETURN(IdxFile labels, ReadRawOrGzipped(dir, files.labels));
  KILN_RETURN_IF_ERROR(CheckRank(labels, 1, "[count]"));

  KILN_RETURN_IF_ERROR(CheckCounts(images, labels));
  KILN_RETURN_IF_ERROR(CheckLabels(labels));
  KILN_ASSIGN_OR_RETURN(const int64_t count, SampleCount(limit, images));
  return MakeDataset(images.array, labels.array, count, dtype);
}

absl::StatusOr<std::string> DatasetDirectory(const std::string& data_root,
                                             absl::string_view name) {
  struct Entry {
    absl::string_view name;
    absl::string_view subdirectory;
  };
  static constexpr Entry kDatasets[] = {
      {"mnist", "mnist"},
      {"fashion", "fashion-mnist"},
  };

  for (const Entry& entry : kDatasets) {
    if (entry.name == name)
      return absl::StrCat(data_root, "/", entry.subdirectory);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown data set \"", name, "\"; valid names are ",
      absl::StrJoin(kDatasets, ", ", [](std::string* out, const Entry& entry) {
        absl::StrAppend(out, entry.name);
      })));
}

}  // namespace kiln
