// Pictures of a model's graphs, for `mnist --dump=DIR`.
//
// WriteModelGraphs writes the two graphs a trainer builds for an MLP, before
// any pass touches them:
//   forward.dot    inputs, parameters, the layers, the loss and the accuracy;
//   gradient.dot   the same plus the gradient that Grad derived from each
//                  op's backward rule and the SGD update of every parameter.
// The JIT adds, per compiled program, the graph as given and the fused graph
// with its kernels boxed (see jit/jit_executor.h). RenderDotFiles then turns
// every .dot file under the directory into an .svg beside it with Graphviz.
//
//   KILN_RETURN_IF_ERROR(WriteModelGraphs(config, "dump"));
//   ... compile and train with JitOptions::dump_dir = "dump" ...
//   KILN_RETURN_IF_ERROR(RenderDotFiles("dump"));

#ifndef KILN_MODELS_GRAPH_DUMP_H_
#define KILN_MODELS_GRAPH_DUMP_H_

#include <string>

#include "absl/status/status.h"
#include "models/trainer.h"

namespace kiln {

// Writes forward.dot and gradient.dot for `config`'s model into `dir`,
// creating it if needed. Errors name the file.
absl::Status WriteModelGraphs(const TrainerConfig& config,
                              const std::string& dir);

// Runs `dot -Tsvg` on every .dot file under `dir`, recursively. Fails with
// NotFound if Graphviz is not installed.
absl::Status RenderDotFiles(const std::string& dir);

}  // namespace kiln

#endif  // KILN_MODELS_GRAPH_DUMP_H_
