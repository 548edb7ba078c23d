// The catalogue of every configuration key Sluice understands: its type,
// default, allowed range and documentation. docs/configuration.md is rendered
// from this table (`sluice config docs`), and a test checks that the file in
// the tree matches, so the documentation cannot drift from the code.
#ifndef SLUICE_COMMON_CONFIG_CONFIG_OPTIONS_H_
#define SLUICE_COMMON_CONFIG_CONFIG_OPTIONS_H_

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace sluice {

enum class OptionType { kString, kInt, kDouble, kBool, kDuration, kMemorySize, kPortRange };

struct ConfigOption {
  // A key may contain one "<name>" segment, e.g. taskmanager.resource.<name>.amount.
  std::string key;
  OptionType type;
  // Written the way a user would write it; parsed like user input.
  std::optional<std::string> default_value;
  std::string description;
  // Inclusive bounds for numbers; durations in milliseconds, sizes in bytes.
  double min = std::numeric_limits<double>::lowest();
  double max = std::numeric_limits<double>::max();
  // For string options with a fixed set of values.
  std::vector<std::string> allowed = {};
  bool required = false;
  // No default on purpose: unset has a meaning of its own (the description
  // says which), like Flink's options without a default.
  bool may_be_unset = false;
  // Older names (Flink 1.x keys) accepted for this key, with a warning.
  std::vector<std::string> aliases = {};
};

const std::vector<ConfigOption>& AllConfigOptions();

// The option for a concrete key (matching "<name>" patterns), or nullptr.
const ConfigOption* FindConfigOption(absl::string_view key);
// The option `key` is an older name of, if any.
const ConfigOption* FindConfigOptionByAlias(absl::string_view key);

absl::string_view OptionTypeName(OptionType type);

// The reference table in Markdown, as checked in at docs/configuration.md.
std::string RenderConfigReference();

}  // namespace sluice

#endif  // SLUICE_COMMON_CONFIG_CONFIG_OPTIONS_H_
