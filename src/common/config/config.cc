#include "common/config/config.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/config/config_options.h"
#include "common/config/yaml_reader.h"

namespace sluice {

// Collects raw key/value text from YAML and overrides, then parses and
// validates it against the catalogue.
class ConfigBuilder {
 public:
  explicit ConfigBuilder(std::string source) { config_.source_ = std::move(source); }

  absl::Status AddYaml(absl::string_view yaml);
  absl::Status AddOverride(absl::string_view assignment);
  absl::StatusOr<Config> Finish() &&;

 private:
  struct Raw {
    std::string text;
    std::string origin;  // file name or "-D key=value"
  };
  absl::Status ParseInto(const ConfigOption& option, const std::string& key, const Raw& raw);
  absl::Status CheckRange(const ConfigOption& option, const std::string& key, const Raw& raw,
                          double value);
  absl::Status CheckCrossKeyRules();
  // Moves values given under an older name to the current key.
  void ResolveAliases();

  Config config_;
  std::map<std::string, Raw> raw_;
};

namespace {

absl::Status KeyError(const std::string& origin, absl::string_view key, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(origin, ": key '", key, "': ", reason));
}

}  // namespace

absl::Status ConfigBuilder::AddYaml(absl::string_view yaml) {
  auto keys = ReadYamlKeys(yaml, config_.source_);
  if (!keys.ok()) return keys.status();
  for (auto& [key, value] : *keys) {
    if (value.text) {
      raw_[key] = Raw{std::move(*value.text), config_.source_};
    } else {
      raw_.erase(key);  // "key:" with nothing: keep the default
    }
  }
  return absl::OkStatus();
}

absl::Status ConfigBuilder::AddOverride(absl::string_view assignment) {
  size_t eq = assignment.find('=');
  if (eq == absl::string_view::npos || eq == 0) {
    return absl::InvalidArgumentError(absl::StrCat("-D ", assignment, ": expected key=value"));
  }
  std::string key(assignment.substr(0, eq));
  raw_[key] = Raw{std::string(assignment.substr(eq + 1)), absl::StrCat("-D ", assignment)};
  return absl::OkStatus();
}

absl::Status ConfigBuilder::CheckRange(const ConfigOption& option, const std::string& key,
                                       const Raw& raw, double value) {
  if (value >= option.min && value <= option.max) return absl::OkStatus();
  auto bound = [&](double v) {
    switch (option.type) {
      case OptionType::kDuration:
        return HumanDuration(absl::Milliseconds(v));
      case OptionType::kMemorySize:
        return FormatBytes(static_cast<int64_t>(v));
      default:
        return absl::StrCat(v);
    }
  };
  return KeyError(raw.origin, key,
                  absl::StrCat("value '", raw.text, "' is out of range [", bound(option.min), ", ",
                               bound(option.max), "]"));
}

absl::Status ConfigBuilder::ParseInto(const ConfigOption& option, const std::string& key,
                                      const Raw& raw) {
  auto fail = [&](const absl::Status& s) { return KeyError(raw.origin, key, s.message()); };
  Config::Value value;
  double numeric = 0;
  switch (option.type) {
    case OptionType::kString: {
      if (!option.allowed.empty() && std::find(option.allowed.begin(), option.allowed.end(),
                                               raw.text) == option.allowed.end()) {
        return KeyError(raw.origin, key,
                        absl::StrCat("expected one of ", absl::StrJoin(option.allowed, ", "),
                                     ", got '", raw.text, "'"));
      }
      value = raw.text;
      break;
    }
    case OptionType::kInt: {
      auto v = ParseInteger(raw.text);
      if (!v.ok()) return fail(v.status());
      value = *v;
      numeric = static_cast<double>(*v);
      break;
    }
    case OptionType::kDouble: {
      auto v = ParseDouble(raw.text);
      if (!v.ok()) return fail(v.status());
      value = numeric = *v;
      break;
    }
    case OptionType::kBool: {
      auto v = ParseBool(raw.text);
      if (!v.ok()) return fail(v.status());
      value = *v;
      break;
    }
    case OptionType::kDuration: {
      auto v = ParseDuration(raw.text);
      if (!v.ok()) return fail(v.status());
      value = *v;
      numeric = absl::ToDoubleMilliseconds(*v);
      break;
    }
    case OptionType::kMemorySize: {
      auto v = ParseMemorySize(raw.text);
      if (!v.ok()) return fail(v.status());
      value = *v;
      numeric = static_cast<double>(*v);
      break;
    }
    case OptionType::kPortRange: {
      auto v = ParsePortRange(raw.text);
      if (!v.ok()) return fail(v.status());
      value = *v;
      numeric = v->first;
      break;
    }
  }
  if (option.type != OptionType::kString && option.type != OptionType::kBool) {
    if (auto s = CheckRange(option, key, raw, numeric); !s.ok()) return s;
  }
  config_.values_[key] = std::move(value);
  return absl::OkStatus();
}

void ConfigBuilder::ResolveAliases() {
  for (auto it = raw_.begin(); it != raw_.end();) {
    const ConfigOption* option =
        FindConfigOption(it->first) ? nullptr : FindConfigOptionByAlias(it->first);
    if (option == nullptr) {
      ++it;
      continue;
    }
    if (raw_.count(option->key) > 0) {
      config_.warnings_.push_back(absl::StrCat(it->second.origin, ": key '", it->first,
                                               "' is ignored: '", option->key, "' is set too"));
    } else {
      config_.warnings_.push_back(absl::StrCat(it->second.origin, ": key '", it->first,
                                               "' is an older name of '", option->key, "'"));
      raw_[option->key] = it->second;
    }
    it = raw_.erase(it);
  }
}

absl::Status ConfigBuilder::CheckCrossKeyRules() {
  if (config_.GetBool("execution.checkpointing.unaligned.enabled")) {
    auto origin = [this](const std::string& key) {
      auto it = raw_.find(key);
      return it == raw_.end() ? config_.source_ : it->second.origin;
    };
    if (config_.GetString("execution.checkpointing.mode") != "EXACTLY_ONCE") {
      return KeyError(origin("execution.checkpointing.unaligned.enabled"),
                      "execution.checkpointing.unaligned.enabled",
                      "unaligned checkpoints need execution.checkpointing.mode EXACTLY_ONCE");
    }
    if (config_.GetInt("execution.checkpointing.max-concurrent-checkpoints") != 1) {
      return KeyError(origin("execution.checkpointing.unaligned.enabled"),
                      "execution.checkpointing.unaligned.enabled",
                      "unaligned checkpoints need "
                      "execution.checkpointing.max-concurrent-checkpoints 1");
    }
  }
  absl::Duration interval = config_.GetDuration("heartbeat.interval");
  absl::Duration timeout = config_.GetDuration("heartbeat.timeout");
  if (timeout <= interval) {
    auto it = raw_.find("heartbeat.timeout");
    std::string origin = it == raw_.end() ? config_.source_ : it->second.origin;
    return KeyError(origin, "heartbeat.timeout",
                    absl::StrCat("must be greater than heartbeat.interval (",
                                 HumanDuration(timeout), " <= ", HumanDuration(interval), ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Config> ConfigBuilder::Finish() && {
  for (const auto& option : AllConfigOptions()) {
    if (absl::StrContains(option.key, "<") || !option.default_value) continue;
    auto status = ParseInto(option, option.key, Raw{*option.default_value, "default"});
    if (!status.ok()) return status;  // a broken catalogue: caught by the unit tests
  }
  ResolveAliases();
  for (const auto& [key, raw] : raw_) {
    const ConfigOption* option = FindConfigOption(key);
    if (option == nullptr) {
      config_.warnings_.push_back(absl::StrCat(raw.origin, ": unknown key '", key, "' (ignored)"));
      continue;
    }
    if (auto status = ParseInto(*option, key, raw); !status.ok()) return status;
  }
  for (const auto& option : AllConfigOptions()) {
    if (option.required && !config_.Has(option.key)) {
      return KeyError(config_.source_, option.key, "required key is missing");
    }
  }
  if (auto status = CheckCrossKeyRules(); !status.ok()) return status;
  return std::move(config_);
}

absl::StatusOr<Config> Config::FromYaml(absl::string_view yaml, const std::string& source,
                                        const std::vector<std::string>& overrides) {
  ConfigBuilder builder(source);
  if (auto status = builder.AddYaml(yaml); !status.ok()) return status;
  for (const auto& assignment : overrides) {
    if (auto status = builder.AddOverride(assignment); !status.ok()) return status;
  }
  auto config = std::move(builder).Finish();
  if (!config.ok()) return config.status();
  config->yaml_ = std::string(yaml);
  config->overrides_ = overrides;
  return config;
}

absl::StatusOr<Config> Config::WithOverrides(const std::vector<std::string>& overrides) const {
  std::vector<std::string> all = overrides_;
  all.insert(all.end(), overrides.begin(), overrides.end());
  return FromYaml(yaml_, source_, all);
}

absl::StatusOr<Config> Config::Load(const std::string& conf_dir,
                                    const std::vector<std::string>& overrides) {
  std::string path = absl::StrCat(conf_dir, "/", kConfigFileName);
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": is a directory, expected the configuration file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path,
                                            ": cannot read the configuration file (set "
                                            "--conf-dir or SLUICE_CONF_DIR)"));
  }
  std::string text;
  char buffer[64 * 1024];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxConfigFileBytes) break;  // ReadYamlKeys names the limit
  }
  if (in.bad()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": read failed: ", strerror(errno)));
  }
  return FromYaml(text, path, overrides);
}

const Config::Value& Config::Get(absl::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end()) {
    std::cerr << "BUG: configuration key '" << key << "' has no value\n";
    std::abort();
  }
  return it->second;
}

namespace {
template <typename T, typename V>
const T& As(const V& value, absl::string_view key) {
  if (const T* v = std::get_if<T>(&value)) return *v;
  std::cerr << "BUG: configuration key '" << key << "' read with the wrong type\n";
  std::abort();
}
}  // namespace

const std::string& Config::GetString(absl::string_view key) const {
  return As<std::string>(Get(key), key);
}
int64_t Config::GetInt(absl::string_view key) const { return As<int64_t>(Get(key), key); }
double Config::GetDouble(absl::string_view key) const { return As<double>(Get(key), key); }
bool Config::GetBool(absl::string_view key) const { return As<bool>(Get(key), key); }
absl::Duration Config::GetDuration(absl::string_view key) const {
  return As<absl::Duration>(Get(key), key);
}
int64_t Config::GetMemoryBytes(absl::string_view key) const { return As<int64_t>(Get(key), key); }
PortRange Config::GetPortRange(absl::string_view key) const { return As<PortRange>(Get(key), key); }
bool Config::Has(absl::string_view key) const { return values_.find(key) != values_.end(); }

std::vector<std::string> Config::Keys() const {
  std::vector<std::string> keys;
  keys.reserve(values_.size());
  for (const auto& [key, value] : values_) keys.push_back(key);
  return keys;
}

std::string Config::Format(absl::string_view key) const {
  struct Formatter {
    std::string operator()(const std::string& v) const { return v; }
    std::string operator()(int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const { return absl::StrCat(v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(absl::Duration v) const { return absl::FormatDuration(v); }
    std::string operator()(const PortRange& v) const {
      return v.first == v.last ? std::to_string(v.first) : absl::StrCat(v.first, "-", v.last);
    }
  };
  return std::visit(Formatter{}, Get(key));
}

std::map<std::string, double> Config::ExtendedResources() const {
  constexpr absl::string_view kPrefix = "taskmanager.resource.";
  constexpr absl::string_view kSuffix = ".amount";
  std::map<std::string, double> out;
  for (const auto& [key, value] : values_) {
    if (!absl::StartsWith(key, kPrefix) || !absl::EndsWith(key, kSuffix)) continue;
    std::string name = key.substr(kPrefix.size(), key.size() - kPrefix.size() - kSuffix.size());
    out[name] = std::get<double>(value);
  }
  return out;
}

}  // namespace sluice
