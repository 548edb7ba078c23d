// Helpers for tests that run Sluice components on loopback: configs with
// port 0 everywhere, bounded waiting, and HTTP scraping.
#ifndef SLUICE_TESTS_TESTING_TEST_CLUSTER_H_
#define SLUICE_TESTS_TESTING_TEST_CLUSTER_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/config/config.h"

namespace sluice::testing {

// A loopback configuration: every port 0, fast heartbeats (100 ms / 1 s),
// plus `overrides` ("key=value").
Config LoopbackConfig(const std::vector<std::string>& overrides = {});

// Polls `condition` every 10 ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout = absl::Seconds(10));

// GET http://127.0.0.1:<port><path>; nullopt when unreachable or not 200.
std::optional<std::string> HttpGet(int port, const std::string& path);
// Any method on 127.0.0.1:port: (status, body), status 0 if no answer.
std::pair<int, std::string> HttpCall(int port, const std::string& method, const std::string& path,
                                     const std::string& body = "");

// Sends `request` (a whole HTTP/1.1 request, as curl would write it) as is
// to 127.0.0.1:port and returns (status, body) of the answer; 0 if none.
std::pair<int, std::string> RawHttp(int port, const std::string& request);

// The value of the first sample of `series` (name with labels, exactly as
// exposed, e.g. `sluice_cluster_resource_utilization{resource="gpu"}`).
std::optional<double> MetricValue(const std::string& exposition, const std::string& series);

// A port that was free a moment ago (bind to 0, read, close).
int PickFreePort();

}  // namespace sluice::testing

#endif  // SLUICE_TESTS_TESTING_TEST_CLUSTER_H_
