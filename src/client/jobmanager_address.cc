#include "client/jobmanager_address.h"

#include <httplib.h>

#include "client/credentials.h"
#include "nlohmann/json.hpp"

namespace sluice {

std::string ResolveJobManager(const std::string& target) {
  const size_t colon = target.rfind(':');
  if (colon == std::string::npos) return target;
  int port = 0;
  try {
    port = std::stoi(target.substr(colon + 1));
  } catch (const std::exception&) {
    return target;
  }
  std::string host = target.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  httplib::Client client(host, port);
  client.set_connection_timeout(1);
  client.set_read_timeout(2);
  httplib::Headers headers;
  if (std::string authorization = ClientAuthorization(); !authorization.empty()) {
    headers.emplace("Authorization", authorization);
  }
  auto answer = client.Get("/config", headers);
  if (!answer || answer->status != 200) return target;
  auto config = nlohmann::json::parse(answer->body, nullptr, false);
  if (config.is_discarded() || !config.is_object() || !config.contains("jobmanager-rpc-address") ||
      !config["jobmanager-rpc-address"].is_string()) {
    return target;
  }
  // The JobManager names its RPC host as configured; keep the host the user
  // reached it by, which works from where the CLI runs.
  const std::string rpc = config["jobmanager-rpc-address"];
  const size_t rpc_colon = rpc.rfind(':');
  return rpc_colon == std::string::npos ? target : target.substr(0, colon) + rpc.substr(rpc_colon);
}

}  // namespace sluice
