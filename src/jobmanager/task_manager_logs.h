// A TaskManager's own log files, asked over its RPC for the JobManager's
// REST API (blocking calls with a deadline, on a REST thread).
#ifndef SLUICE_JOBMANAGER_TASK_MANAGER_LOGS_H_
#define SLUICE_JOBMANAGER_TASK_MANAGER_LOGS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sluice/v1/taskmanager.pb.h"

namespace sluice {

absl::StatusOr<v1::LogList> ListTaskManagerLogs(const std::string& address, absl::Duration timeout);
absl::StatusOr<std::string> ReadTaskManagerLog(const std::string& address, const std::string& name,
                                               int64_t max_bytes, absl::Duration timeout);

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_TASK_MANAGER_LOGS_H_
