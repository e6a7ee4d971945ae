// Loading MNIST-format data sets (MNIST, Fashion-MNIST) into tensors.
//
// Such a data set is a directory of four IDX files, an image file and a label
// file for each of the training and test splits, either raw or gzipped:
//
//   train-images-idx3-ubyte[.gz]   uint8 [N, rows, cols]
//   train-labels-idx1-ubyte[.gz]   uint8 [N], each a class in 0..9
//   t10k-images-idx3-ubyte[.gz]
//   t10k-labels-idx1-ubyte[.gz]
//
// LoadDataset checks that the two files of a split agree and turns them into
// what a classifier trains on: flattened images scaled to [0, 1] and one-hot
// labels, both in the dtype of the model.
//
//   KILN_ASSIGN_OR_RETURN(std::string dir,
//                         DatasetDirectory(data_root, "fashion"));
//   KILN_ASSIGN_OR_RETURN(Dataset train,
//                         LoadDataset(dir, Split::kTrain, 1000, kF32));
//   // train.images is f32[1000,784], train.labels_one_hot is f32[1000,10].

#ifndef KILN_MODELS_DATA_MNIST_H_
#define KILN_MODELS_DATA_MNIST_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ops/dtype.h"
#include "ops/tensor.h"

namespace kiln {

inline constexpr int kNumClasses = 10;

enum class Split { kTrain, kTest };

// The first N samples of one split, in file order.
struct Dataset {
  // [N, rows * cols]: each image flattened row-major, each pixel p stored as
  // p / 255 computed in double and rounded to the dtype.
  Tensor images;
  // [N, kNumClasses]: row i is 1 at column labels[i] and 0 elsewhere.
  Tensor labels_one_hot;
  // The class of each image, in 0..kNumClasses-1.
  std::vector<uint8_t> labels;
  // The size of one image before flattening.
  int64_t image_rows = 0;
  int64_t image_cols = 0;
};

// Loads `split` from the data set in `dir`. A raw file is preferred to its
// gzipped twin when both exist. `limit` keeps the first `limit` samples; 0
// keeps them all.
//
// Fails with NotFound when a split's file exists in neither form, and with
// InvalidArgument when the files disagree with the format or each other: the
// images are not rank 3, the labels not rank 1, their counts differ, a label
// is above 9, or `limit` is negative or larger than the count. Errors from
// ReadIdx pass through unchanged. Every message names the files involved.
absl::StatusOr<Dataset> LoadDataset(const std::string& dir, Split split,
                                    int64_t limit, DType dtype);

// The directory of the data set called `name` under `data_root`: "mnist" is
// data_root/mnist and "fashion" is data_root/fashion-mnist. Any other name is
// InvalidArgument, with a message that lists the valid ones.
absl::StatusOr<std::string> DatasetDirectory(const std::string& data_root,
                                             absl::string_view name);

}  // namespace kiln

#endif  // KILN_MODELS_DATA_MNIST_H_
