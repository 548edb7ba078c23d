// Deployment requests for the jobs of the test jobs library (tests/jobs), for
// tests that play the JobMaster towards a TaskManager or its JobDeployments.
// Header-only: it needs the engine, which the test executables link.
#ifndef SLUICE_TESTS_TESTING_TEST_JOB_DEPLOYMENT_H_
#define SLUICE_TESTS_TESTING_TEST_JOB_DEPLOYMENT_H_

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/sha256.h"
#include "engine/job_graph_convert.h"
#include "engine/job_library.h"
#include "sluice/v1/taskmanager.pb.h"

namespace sluice::testing {

inline const char kTestJobsLibrary[] = SLUICE_BINARY_DIR "/tests/jobs/libsluice_test_jobs.so";

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// A deployment of every subtask of `job_name` from the test jobs library,
// built here with `parallelism`, all onto TaskManager `task_manager_id`:
// subtask i of every vertex in allocations[i], as attempt `attempt`.
inline absl::StatusOr<v1::DeployJobRequest> TestJobDeployment(
    const std::string& job_name, const std::string& job_id, const std::string& task_manager_id,
    const std::vector<std::string>& allocations, int attempt = 0,
    const std::string& job_manager_address = "127.0.0.1:1") {
  auto library = engine::JobLibrary::Load(kTestJobsLibrary);
  if (!library.ok()) return library.status();
  const int parallelism = static_cast<int>(allocations.size());
  auto graph = (*library)->Build(job_name, {}, parallelism);
  if (!graph.ok()) return graph.status();
  v1::DeployJobRequest request;
  request.set_job_id(job_id);
  request.set_job_manager_address(job_manager_address);
  request.set_library_sha256(Sha256::Of(ReadFile(kTestJobsLibrary)));
  request.set_job_name(job_name);
  request.set_parallelism(parallelism);
  *request.mutable_graph() = engine::ToProto(*graph);
  for (const auto& vertex : graph->vertices) {
    for (int s = 0; s < vertex.parallelism; ++s) {
      auto* a = request.add_assignments();
      a->set_vertex(vertex.id);
      a->set_subtask(s);
      a->set_attempt(attempt);
      a->set_allocation_id(allocations.at(s));
      a->set_task_manager_id(task_manager_id);
      a->set_task_manager_address("127.0.0.1:1");
      a->set_task_manager_data_address("127.0.0.1:1");
    }
  }
  return request;
}

}  // namespace sluice::testing

#endif  // SLUICE_TESTS_TESTING_TEST_JOB_DEPLOYMENT_H_
