// sluice-graph-builder: builds one submitted job's graph for the JobManager,
// which never loads a user's library itself (see graph_builder_process.h).
// It limits itself first, then loads the library and runs the build function,
// and writes "ok <hash>" or "error <message>" to descriptor 3.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/job_library.h"
#include "jobmanager/graph_builder_process.h"

namespace {

void Answer(const std::string& text) {
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = write(sluice::kGraphBuilderResultFd, text.data() + written, text.size() - written);
    if (n <= 0) return;
    written += static_cast<size_t>(n);
  }
}

void Limit(int resource, rlim_t value) {
  rlimit limit{value, value};
  setrlimit(resource, &limit);
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = sluice::ParseGraphBuilderArguments({argv + 1, argv + argc});
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s\n", std::string(parsed.status().message()).c_str());
    return 2;
  }
  const auto& [request, limits] = *parsed;
  Limit(RLIMIT_AS, static_cast<rlim_t>(limits.memory_bytes));
  // CPU time as a backstop for the JobManager's wall-clock deadline.
  Limit(RLIMIT_CPU, static_cast<rlim_t>(absl::ToInt64Seconds(limits.timeout) + 1));
  Limit(RLIMIT_CORE, 0);
  auto library = sluice::engine::JobLibrary::Load(request.library_path);
  if (!library.ok()) {
    Answer(absl::StrCat("error ", library.status().message()));
    return 1;
  }
  auto graph = (*library)->Build(request.job_name, request.args, request.parallelism,
                                 request.max_parallelism);
  if (!graph.ok()) {
    Answer(absl::StrCat("error ", graph.status().message()));
    return 1;
  }
  Answer(absl::StrCat("ok ", graph->Hash(), "\n"));
  // The user's static destructors may misbehave: the answer is given.
  _exit(0);
}
