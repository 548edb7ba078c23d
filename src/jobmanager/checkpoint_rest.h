// Flink's checkpoint endpoints: GET /jobs/<id>/checkpoints (counts, latest,
// history, summary) and GET /jobs/<id>/checkpoints/config, with Flink's field
// names, so its tooling and habits carry over.
#ifndef SLUICE_JOBMANAGER_CHECKPOINT_REST_H_
#define SLUICE_JOBMANAGER_CHECKPOINT_REST_H_

#include <string>

#include "jobmanager/checkpoint_coordinator.h"
#include "nlohmann/json.hpp"

namespace sluice {

// `directory` is <checkpoint dir>/<job id>, where completed ones are.
nlohmann::ordered_json CheckpointsJson(const CheckpointStats& stats, const std::string& directory);
nlohmann::ordered_json CheckpointConfigJson(const CheckpointingOptions& options);

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_CHECKPOINT_REST_H_
