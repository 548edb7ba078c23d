// Validated configuration of one daemon or CLI invocation: conf/sluice.yaml
// plus -D overrides, checked against the option catalogue. Loading is the only
// fallible step; afterwards every getter of a known key succeeds.
#ifndef SLUICE_COMMON_CONFIG_CONFIG_H_
#define SLUICE_COMMON_CONFIG_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/config/value_parsers.h"

namespace sluice {

inline constexpr absl::string_view kConfigFileName = "sluice.yaml";

class Config {
 public:
  // Reads <conf_dir>/sluice.yaml and applies "key=value" overrides (later wins).
  // Errors are one line: "<file>: key '<key>': <reason>".
  static absl::StatusOr<Config> Load(const std::string& conf_dir,
                                     const std::vector<std::string>& overrides);
  // The same from YAML text; `source` names it in error messages.
  static absl::StatusOr<Config> FromYaml(absl::string_view yaml, const std::string& source,
                                         const std::vector<std::string>& overrides);

  // This configuration with more "key=value" overrides applied on top (a
  // job's own -D keys over the cluster's), checked the same way.
  absl::StatusOr<Config> WithOverrides(const std::vector<std::string>& overrides) const;

  // Getters for keys of the catalogue; asking for an unknown key or the wrong
  // type is a programming error and aborts with a message.
  const std::string& GetString(absl::string_view key) const;
  int64_t GetInt(absl::string_view key) const;
  double GetDouble(absl::string_view key) const;
  bool GetBool(absl::string_view key) const;
  absl::Duration GetDuration(absl::string_view key) const;
  int64_t GetMemoryBytes(absl::string_view key) const;
  PortRange GetPortRange(absl::string_view key) const;
  bool Has(absl::string_view key) const;

  // Every key that has a value (defaults included), in order.
  std::vector<std::string> Keys() const;
  // The value of `key` as text, whatever its type ("10 s", "8081", "true").
  std::string Format(absl::string_view key) const;

  // taskmanager.resource.<name>.amount entries, by name.
  std::map<std::string, double> ExtendedResources() const;

  // Unknown keys and other non-fatal findings, one line each.
  const std::vector<std::string>& warnings() const { return warnings_; }
  const std::string& source() const { return source_; }

 private:
  using Value = std::variant<std::string, int64_t, double, bool, absl::Duration, PortRange>;
  const Value& Get(absl::string_view key) const;

  std::string source_;
  std::string yaml_;                    // what it was built from, for WithOverrides
  std::vector<std::string> overrides_;  // ...
  std::map<std::string, Value, std::less<>> values_;
  std::vector<std::string> warnings_;

  friend class ConfigBuilder;
};

}  // namespace sluice

#endif  // SLUICE_COMMON_CONFIG_CONFIG_H_
