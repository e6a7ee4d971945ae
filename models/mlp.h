// Mlp: a multilayer perceptron built as a Kiln graph.
//
// The model is a stack of dense layers, h_{i+1} = act_i(h_i · W_i + b_i),
// ending in a dense output layer and a loss head. Parameters are named after
// their layers: "hidden1.weight", "hidden1.bias", ..., "output.weight",
// "output.bias". The graph is built with the builder API and differentiated
// with Grad; nothing here writes a backward pass by hand.
//
//   MlpSpec spec{.hidden = {{200, Activation::kSigmoid}}};
//   absl::StatusOr<std::unique_ptr<Mlp>> mlp = Mlp::Build(spec, 100, kF64);
//   std::vector<Node> updated = (*mlp)->AddSgdStep({.learning_rate = 0.05});

#ifndef KILN_MODELS_MLP_H_
#define KILN_MODELS_MLP_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ad/graph.h"

namespace kiln {

enum class Activation { kNone, kSigmoid, kTanh, kRelu, kLeakyRelu };

// "none", "sigmoid", "tanh", "relu" or "leaky_relu".
absl::string_view ActivationName(Activation activation);
absl::StatusOr<Activation> ParseActivation(absl::string_view name);

// The output layer's activation and loss, paired so that the gradient at the
// output is the textbook delta.
enum class OutputHead {
  kSoftmaxCrossEntropy,  // softmax + cross-entropy: (p − y)/N
  kSigmoidCrossEntropy,  // sigmoid + binary cross-entropy: (p − y)/N
  kIdentityMse,          // identity + ½·mean squared error: (ŷ − y)/N
};

struct HiddenLayer {
  int64_t width = 0;
  Activation activation = Activation::kSigmoid;
};

struct MlpSpec {
  int64_t inputs = 784;
  std::vector<HiddenLayer> hidden;
  int64_t outputs = 10;
  OutputHead head = OutputHead::kSoftmaxCrossEntropy;
  // The slope of leaky relu below zero.
  double leaky_gamma = 0.01;
};

// "softmax_cross_entropy", "sigmoid_cross_entropy" or "identity_mse".
absl::string_view OutputHeadName(OutputHead head);

// The layer sizes, activations and head in one line, the form checkpoints
// record: "784-200:sigmoid-100:tanh-10:softmax_cross_entropy". A leaky relu
// layer carries its slope, "200:leaky_relu(0.01)", written so that it reads
// back to the same double. Two specs have the same string exactly when they
// build the same function of the same parameters.
std::string ArchitectureString(const MlpSpec& spec);

// One trainable tensor of an MLP.
struct ParameterInfo {
  std::string name;
  Shape shape;
  // Weight matrices are initialised randomly and may be clipped; biases
  // start at zero.
  bool is_weight;
};

// The parameters of `spec` in layer order, each weight before its bias.
std::vector<ParameterInfo> MlpParameters(const MlpSpec& spec);

struct SgdOptions {
  double learning_rate = 0.05;
  // When set, weight elements below it are raised to it after each update.
  std::optional<double> clip_min;
};

class Mlp {
 public:
  // Builds the forward pass and loss for batches of `rows` samples. Fails
  // with InvalidArgument on a spec with a non-positive width or row count.
  static absl::StatusOr<std::unique_ptr<Mlp>> Build(const MlpSpec& spec,
                                                    int64_t rows, DType dtype);

  Graph& graph() { return graph_; }
  // Inputs "x" [rows, inputs] and "y" [rows, outputs], the targets.
  Node x() const { return x_; }
  Node y() const { return y_; }
  // In the order of MlpParameters.
  const std::vector<Node>& parameters() const { return parameters_; }
  // The output layer before its activation.
  Node logits() const { return logits_; }
  // The head's loss, averaged over rows.
  Node loss() const { return loss_; }
  // The fraction of rows whose largest logit is at the target's largest.
  Node accuracy() const { return accuracy_; }

  // Adds one step of plain SGD, p − lr·∂loss/∂p, for every parameter, and
  // returns the updated values in parameter order.
  std::vector<Node> AddSgdStep(const SgdOptions& options);

 private:
  Mlp() = default;
  void BuildForward(const MlpSpec& spec, int64_t rows, DType dtype);

  Graph graph_;
  MlpSpec spec_;
  Node x_, y_;
  std::vector<Node> parameters_;
  Node logits_, loss_, accuracy_;
};

}  // namespace kiln

#endif  // KILN_MODELS_MLP_H_
