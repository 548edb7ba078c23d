// The job states as they travel in v1::JobStatus (Flink's names).
#ifndef SLUICE_COMMON_JOB_STATE_H_
#define SLUICE_COMMON_JOB_STATE_H_

#include <string>

namespace sluice {

// FINISHED, CANCELED or FAILED: the job will not change any more.
inline bool IsTerminalJobState(const std::string& state) {
  return state == "FINISHED" || state == "CANCELED" || state == "FAILED";
}

}  // namespace sluice

#endif  // SLUICE_COMMON_JOB_STATE_H_
