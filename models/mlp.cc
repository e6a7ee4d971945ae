#include "models/mlp.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "ad/autodiff.h"
#include "ad/builder.h"
#include "ops/base/check.h"

namespace kiln {
namespace {

constexpr std::pair<Activation, absl::string_view> kActivationNames[] = {
    {Activation::kNone, "none"},
    {Activation::kSigmoid, "sigmoid"},
    {Activation::kTanh, "tanh"},
    {Activation::kRelu, "relu"},
    {Activation::kLeakyRelu, "leaky_relu"},
};

Node Activate(Node z, Activation activation, double leaky_gamma) {
  switch (activation) {
    case Activation::kNone:
      return z;
    case Activation::kSigmoid:
      return Sigmoid(z);
    case Activation::kTanh:
      return Tanh(z);
    case Activation::kRelu:
      return Relu(z);
    case Activation::kLeakyRelu:
      return LeakyRelu(z, leaky_gamma);
  }
  KILN_UNREACHABLE("invalid activation");
}

absl::Status ValidateSpec(const MlpSpec& spec, int64_t rows) {
  auto positive = [](int64_t value, absl::string_view what) {
    return value > 0 ? absl::OkStatus()
                     : absl::InvalidArgumentError(absl::StrCat(
                           what, " must be positive, got ", value));
  };
  if (absl::Status ok = positive(rows, "the row count"); !ok.ok()) return ok;
  if (absl::Status ok = positive(spec.inputs, "inputs"); !ok.ok()) return ok;
  if (absl::Status ok = positive(spec.outputs, "outputs"); !ok.ok()) return ok;
  for (size_t i = 0; i < spec.hidden.size(); ++i) {
    absl::Status ok = positive(spec.hidden[i].width,
                               absl::StrCat("hidden layer ", i + 1, "'s width"));
    if (!ok.ok()) return ok;
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view ActivationName(Activation activation) {
  for (const auto& [value, name] : kActivationNames) {
    if (value == activation) return name;
  }
  KILN_UNREACHABLE("invalid activation");
}

absl::string_view OutputHeadName(OutputHead head) {
  switch (head) {
    case OutputHead::kSoftmaxCrossEntropy:
      return "softmax_cross_entropy";
    case OutputHead::kSigmoidCrossEntropy:
      return "sigmoid_cross_entropy";
    case OutputHead::kIdentityMse:
      return "identity_mse";
  }
  KILN_UNREACHABLE("invalid output head");
}

std::string ArchitectureString(const MlpSpec& spec) {
  std::string text = absl::StrCat(spec.inputs);
  for (const HiddenLayer& layer : spec.hidden) {
    absl::StrAppend(&text, "-", layer.width, ":",
                    ActivationName(layer.activation));
    if (layer.activation == Activation::kLeakyRelu) {
      // The shortest decimal that reads back to the same double.
      char gamma[32];
      const auto written =
          std::to_chars(gamma, gamma + sizeof(gamma), spec.leaky_gamma);
      absl::StrAppend(&text, "(", absl::string_view(gamma, written.ptr - gamma),
                      ")");
    }
  }
  absl::StrAppend(&text, "-", spec.outputs, ":", OutputHeadName(spec.head));
  return text;
}

absl::StatusOr<Activation> ParseActivation(absl::string_view name) {
  for (const auto& [value, known] : kActivationNames) {
    if (known == name) return value;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown activation '", name,
                   "'; expected none, sigmoid, tanh, relu or leaky_relu"));
}

std::vector<ParameterInfo> MlpParameters(const MlpSpec& spec) {
  std::vector<ParameterInfo> parameters;
  int64_t fan_in = spec.inputs;
  auto add_layer = [&](const std::string& layer, int64_t width) {
    parameters.push_back({layer + ".weight", {fan_in, width}, true});
    parameters.push_back({layer + ".bias", {width}, false});
    fan_in = width;
  };
  for (size_t i = 0; i < spec.hidden.size(); ++i) {
    add_layer(absl::StrCat("hidden", i + 1), spec.hidden[i].width);
  }
  add_layer("output", spec.outputs);
  return parameters;
}

absl::StatusOr<std::unique_ptr<Mlp>> Mlp::Build(const MlpSpec& spec,
                                                int64_t rows, DType dtype) {
  if (absl::Status valid = ValidateSpec(spec, rows); !valid.ok()) {
    return valid;
  }
  std::unique_ptr<Mlp> mlp(new Mlp());
  mlp->BuildForward(spec, rows, dtype);
  if (!mlp->graph_.status().ok()) return mlp->graph_.status();
  return mlp;
}

void Mlp::BuildForward(const MlpSpec& spec, int64_t rows, DType dtype) {
  spec_ = spec;
  x_ = graph_.Input("x", {rows, spec.inputs}, dtype);
  y_ = graph_.Input("y", {rows, spec.outputs}, dtype);
  for (const ParameterInfo& info : MlpParameters(spec)) {
    parameters_.push_back(graph_.Parameter(info.name, info.shape, dtype));
  }

  // Each layer is z = h·W + b; the bias broadcasts over the rows.
  Node h = x_;
  for (size_t i = 0; i < spec.hidden.size(); ++i) {
    Node z = MatMul(h, parameters_[2 * i]) + parameters_[2 * i + 1];
    h = Activate(z, spec.hidden[i].activation, spec.leaky_gamma);
  }
  logits_ = MatMul(h, parameters_[parameters_.size() - 2]) +
            parameters_.back();

  switch (spec.head) {
    case OutputHead::kSoftmaxCrossEntropy:
      loss_ = SoftmaxCrossEntropy(logits_, y_);
      break;
    case OutputHead::kSigmoidCrossEntropy:
      loss_ = SigmoidCrossEntropy(logits_, y_);
      break;
    case OutputHead::kIdentityMse:
      loss_ = HalfMse(logits_, y_);
      break;
  }
  accuracy_ = Accuracy(logits_, y_);
}

std::vector<Node> Mlp::AddSgdStep(const SgdOptions& options) {
  Gradients grads = Grad(loss_, parameters_);
  const std::vector<ParameterInfo> infos = MlpParameters(spec_);
  std::vector<Node> updated;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    Node p = parameters_[i];
    Node next = p - grads[p] * options.learning_rate;
    if (options.clip_min.has_value() && infos[i].is_weight) {
      Node floor = FillLike(next, *options.clip_min);
      next = Select(Less(next, floor), floor, next);
    }
    updated.push_back(next);
  }
  return updated;
}

}  // namespace kiln
