// Reads a configuration file's YAML into flat "a.b.c" keys with their text.
// It walks the parser's events instead of building a node tree, so that the
// shapes a configuration never has are refused before they cost anything:
// aliases (a few hundred bytes of them expand to gigabytes), keys that are
// not plain scalars, lists, duplicate keys, deep nesting and huge files.
#ifndef SLUICE_COMMON_CONFIG_YAML_READER_H_
#define SLUICE_COMMON_CONFIG_YAML_READER_H_

#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sluice {

inline constexpr size_t kMaxConfigFileBytes = 1 << 20;
inline constexpr int kMaxConfigNesting = 32;

struct YamlValue {
  // nullopt for "key:" with nothing after it (keep the default).
  std::optional<std::string> text;
  int line = 0;  // 1-based, for messages
};

// Errors are one line: "<source>: line N: <reason>" or, where a key is known,
// "<source>: key '<key>': <reason>".
absl::StatusOr<std::map<std::string, YamlValue>> ReadYamlKeys(absl::string_view yaml,
                                                              const std::string& source);

}  // namespace sluice

#endif  // SLUICE_COMMON_CONFIG_YAML_READER_H_
