// Parsers for the textual value forms used in conf/sluice.yaml and -D
// overrides. They follow Flink's syntax: "10 s", "500ms", "1 min" for
// durations (a bare number is milliseconds); "1728m", "1 gb", "512k" for
// memory sizes (a bare number is bytes); "9249-9260" for port ranges.
#ifndef SLUICE_COMMON_CONFIG_VALUE_PARSERS_H_
#define SLUICE_COMMON_CONFIG_VALUE_PARSERS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sluice {

struct PortRange {
  int first = 0;
  int last = 0;
  bool operator==(const PortRange&) const = default;
};

absl::StatusOr<int64_t> ParseInteger(absl::string_view text);
absl::StatusOr<double> ParseDouble(absl::string_view text);
absl::StatusOr<bool> ParseBool(absl::string_view text);
absl::StatusOr<absl::Duration> ParseDuration(absl::string_view text);
absl::StatusOr<int64_t> ParseMemorySize(absl::string_view text);
absl::StatusOr<PortRange> ParsePortRange(absl::string_view text);

// "1.5 s", "250 ms", "2 min": the inverse of ParseDuration for documentation.
std::string HumanDuration(absl::Duration d);
// "1728 MiB" style rendering for logs and status output.
std::string FormatBytes(int64_t bytes);

}  // namespace sluice

#endif  // SLUICE_COMMON_CONFIG_VALUE_PARSERS_H_
