// WordCount over text files: the running count of every word.
//
//   sluice run --local -c WordCount libsluice_examples.so -- --input <file|dir|glob> --output <dir>
#include <cctype>

#include "sluice/parameter_tool.h"
#include "sluice/sluice.h"

using Count = std::pair<std::string, int64_t>;

SLUICE_JOB(WordCount) {
  auto flags = sluice::ParameterTool::FromArgs(args);
  env.ReadTextFiles(flags.GetRequired("input"))
      .Name("ReadLines")
      .FlatMap<Count>([](const std::string& line, sluice::Collector<Count>& out) {
        std::string word;
        for (char c : line + " ") {
          if (std::isalnum(static_cast<unsigned char>(c))) {
            word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
          } else if (!word.empty()) {
            out.Collect(Count{std::move(word), 1});
            word.clear();
          }
        }
      })
      .Name("Tokenize")
      .KeyBy([](const Count& c) { return c.first; })
      .Sum<1>()
      .Name("Count")
      .Uid("word-counts")
      .WriteAsText(flags.GetRequired("output"))
      .Name("CountsToFiles");
}
