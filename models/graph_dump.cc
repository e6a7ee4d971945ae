// The model graphs of --dump, built the way the trainer builds them, and
// their rendering with Graphviz.

#include "models/graph_dump.h"

#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ad/passes/printer.h"
#include "ops/base/atomic_file.h"
#include "models/mlp.h"
#include "models/subprocess.h"
#include "ops/base/status_macros.h"

namespace kiln {
namespace {

// The model as the trainer's step program sees it, with or without the
// gradient and update nodes.
absl::StatusOr<std::string> ModelDot(const TrainerConfig& config,
                                     bool with_gradient) {
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<Mlp> mlp,
                        Mlp::Build(config.spec, config.batch, config.dtype));
  mlp->graph().AddOutput(mlp->loss());
  mlp->graph().AddOutput(mlp->accuracy());
  if (with_gradient) {
    for (Node updated :
         mlp->AddSgdStep({config.learning_rate, config.clip_min})) {
      mlp->graph().AddOutput(updated);
    }
  }
  KILN_RETURN_IF_ERROR(mlp->graph().status());
  return GraphToDot(mlp->graph());
}

}  // namespace

absl::Status WriteModelGraphs(const TrainerConfig& config,
                              const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::UnavailableError(absl::StrCat("cannot create dump directory ",
                                               dir, ": ", error.message()));
  }
  for (const bool with_gradient : {false, true}) {
    KILN_ASSIGN_OR_RETURN(std::string dot, ModelDot(config, with_gradient));
    const std::string path =
        absl::StrCat(dir, "/", with_gradient ? "gradient" : "forward", ".dot");
    KILN_RETURN_IF_ERROR(WriteFileAtomically(path, dot));
  }
  return absl::OkStatus();
}

absl::Status RenderDotFiles(const std::string& dir) {
  std::vector<std::filesystem::path> dot_files;
  std::error_code error;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, error);
       !error && it != std::filesystem::recursive_directory_iterator();
       it.increment(error)) {
    if (it->path().extension() == ".dot") dot_files.push_back(it->path());
  }
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot list ", dir, ": ", error.message()));
  }
  for (const std::filesystem::path& dot : dot_files) {
    std::filesystem::path svg = dot;
    svg.replace_extension(".svg");
    absl::Status rendered =
        RunProgram({"dot", "-Tsvg", "-o", svg.string(), dot.string()});
    if (absl::IsNotFound(rendered)) {
      return absl::NotFoundError(
          absl::StrCat(rendered.message(),
                       "; install Debian's graphviz (./kiln setup) "
                       "to render ",
                       dot.string()));
    }
    KILN_RETURN_IF_ERROR(rendered);
  }
  return absl::OkStatus();
}

}  // namespace kiln
