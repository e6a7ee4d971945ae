// report.md of the chapter report: the results table, the commands that
// rerun each row, and every picture the report folder holds, linked by its
// path relative to the folder.
//
//   std::string text = ReportMarkdown(options, results, pictures);

#ifndef KILN_MODELS_CHAPTER_REPORT_MARKDOWN_H_
#define KILN_MODELS_CHAPTER_REPORT_MARKDOWN_H_

#include <string>
#include <vector>

#include "models/chapter/chapter.h"

namespace kiln {

// What the pictures show, as the data sets say it.
struct ReportPictures {
  // The labels of the first MNIST digits and the class names of the first
  // Fashion-MNIST items, in file order.
  std::vector<std::string> digit_labels;
  std::vector<std::string> fashion_classes;
  // Whether the no_hidden_nonneg weight images were drawn.
  bool has_weights = false;
};

// The report for `results`, in run order.
std::string ReportMarkdown(const ChapterOptions& options,
                           const std::vector<RunResult>& results,
                           const ReportPictures& pictures);

}  // namespace kiln

#endif  // KILN_MODELS_CHAPTER_REPORT_MARKDOWN_H_
