// Job arguments as key-value pairs, like Flink's ParameterTool:
//
//   SLUICE_JOB(WordCount) {
//     auto params = sluice::ParameterTool::FromArgs(args);   // --input in.txt --output out
//     env.ReadTextFiles(params.GetRequired("input")) ...
//     int n = params.GetInt("top", 10);
//
// "--key value" and "-key value" set a key; a key followed by another key
// (or by nothing) is a flag: Has() is true and GetBool() gives true. A
// missing required key or a value that is not a number throws
// std::invalid_argument naming the key, which `sluice run` reports as the
// job's build error.
#ifndef SLUICE_PARAMETER_TOOL_H_
#define SLUICE_PARAMETER_TOOL_H_

#include <cerrno>
#include <cstdlib>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace sluice {

class ParameterTool {
 public:
  static ParameterTool FromArgs(const std::vector<std::string>& args) {
    ParameterTool params;
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& arg = args[i];
      size_t dashes = arg.rfind("--", 0) == 0 ? 2 : arg.rfind('-', 0) == 0 ? 1 : 0;
      if (dashes == 0 || arg.size() == dashes || IsNumber(arg)) {
        throw std::invalid_argument("job argument '" + arg + "' is not a --key: expected " +
                                    "--key value or --flag");
      }
      std::string key = arg.substr(dashes);
      bool has_value = i + 1 < args.size() && (!IsKey(args[i + 1]));
      params.values_[key] = has_value ? std::optional<std::string>(args[++i]) : std::nullopt;
    }
    return params;
  }

  bool Has(const std::string& key) const { return values_.count(key) > 0; }
  size_t size() const { return values_.size(); }

  std::string GetRequired(const std::string& key) const {
    auto it = values_.find(key);
    if (it == values_.end() || !it->second) {
      throw std::invalid_argument("missing job argument --" + key + " <value>");
    }
    return *it->second;
  }
  std::string Get(const std::string& key, const std::string& fallback) const {
    auto it = values_.find(key);
    return it == values_.end() || !it->second ? fallback : *it->second;
  }
  int GetInt(const std::string& key, int fallback) const {
    return static_cast<int>(Number<long long>(key, fallback));
  }
  int64_t GetLong(const std::string& key, int64_t fallback) const {
    return Number<long long>(key, fallback);
  }
  double GetDouble(const std::string& key, double fallback) const {
    return Number<double>(key, fallback);
  }
  bool GetBool(const std::string& key, bool fallback) const {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    if (!it->second || *it->second == "true") return true;
    if (*it->second == "false") return false;
    throw std::invalid_argument("job argument --" + key + " must be true or false, got '" +
                                *it->second + "'");
  }

 private:
  static bool IsNumber(const std::string& s) {
    char* end = nullptr;
    errno = 0;
    std::strtod(s.c_str(), &end);
    return !s.empty() && end == s.c_str() + s.size() && errno == 0;
  }
  static bool IsKey(const std::string& s) { return s.rfind('-', 0) == 0 && !IsNumber(s); }

  template <typename N>
  N Number(const std::string& key, N fallback) const {
    auto it = values_.find(key);
    if (it == values_.end() || !it->second) return fallback;
    const std::string& text = *it->second;
    char* end = nullptr;
    errno = 0;
    N value;
    if constexpr (std::is_floating_point_v<N>) {
      value = std::strtod(text.c_str(), &end);
    } else {
      value = std::strtoll(text.c_str(), &end, 10);
    }
    if (text.empty() || end != text.c_str() + text.size() || errno != 0) {
      throw std::invalid_argument("job argument --" + key + " must be a number, got '" + text +
                                  "'");
    }
    return value;
  }

  std::map<std::string, std::optional<std::string>> values_;
};

}  // namespace sluice

#endif  // SLUICE_PARAMETER_TOOL_H_
