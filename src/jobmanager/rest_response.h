// The JobManager's REST answers: a JSON body, or Flink's error shape
// {"errors": ["..."]} with its status.
#ifndef SLUICE_JOBMANAGER_REST_RESPONSE_H_
#define SLUICE_JOBMANAGER_REST_RESPONSE_H_

#include <string>

#include "common/http/http_server.h"
#include "nlohmann/json.hpp"

namespace sluice {

inline HttpResponse JsonResponse(int status, const nlohmann::ordered_json& body) {
  return HttpResponse{status, "application/json", body.dump()};
}

inline HttpResponse ErrorResponse(int status, const std::string& message) {
  return JsonResponse(status, nlohmann::ordered_json{{"errors", {message}}});
}

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_REST_RESPONSE_H_
