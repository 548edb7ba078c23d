#include "common/config/value_parsers.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sluice {
namespace {

absl::string_view Trim(absl::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits "12.5 ms" into the number "12.5" and the unit "ms" (lower-cased).
std::pair<absl::string_view, std::string> SplitNumberAndUnit(absl::string_view text) {
  text = Trim(text);
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.' ||
                             text[i] == '-' || text[i] == '+')) {
    ++i;
  }
  std::string unit(Trim(text.substr(i)));
  return {text.substr(0, i), absl::AsciiStrToLower(unit)};
}

absl::Status Invalid(absl::string_view what, absl::string_view text) {
  return absl::InvalidArgumentError(absl::StrCat("expected ", what, ", got '", text, "'"));
}

}  // namespace

absl::StatusOr<int64_t> ParseInteger(absl::string_view text) {
  absl::string_view t = Trim(text);
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (t.empty() || ec != std::errc() || ptr != t.data() + t.size()) {
    return Invalid("an integer", text);
  }
  return value;
}

absl::StatusOr<double> ParseDouble(absl::string_view text) {
  std::string t(Trim(text));
  if (t.empty()) return Invalid("a number", text);
  char* end = nullptr;
  double value = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size() || !std::isfinite(value)) return Invalid("a number", text);
  return value;
}

absl::StatusOr<bool> ParseBool(absl::string_view text) {
  std::string t = absl::AsciiStrToLower(Trim(text));
  if (t == "true" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "no" || t == "off") return false;
  return Invalid("true or false", text);
}

absl::StatusOr<absl::Duration> ParseDuration(absl::string_view text) {
  static const std::vector<std::pair<std::vector<std::string>, absl::Duration>> kUnits = {
      {{"", "ms", "milli", "millis", "millisecond", "milliseconds"}, absl::Milliseconds(1)},
      {{"us", "micro", "micros", "microsecond", "microseconds"}, absl::Microseconds(1)},
      {{"s", "sec", "secs", "second", "seconds"}, absl::Seconds(1)},
      {{"m", "min", "mins", "minute", "minutes"}, absl::Minutes(1)},
      {{"h", "hour", "hours"}, absl::Hours(1)},
      {{"d", "day", "days"}, absl::Hours(24)},
  };
  auto [number, unit] = SplitNumberAndUnit(text);
  auto value = ParseDouble(number);
  const absl::string_view what = "a duration such as '5 s', '500 ms' or '2 min'";
  if (number.empty() || !value.ok() || *value < 0) return Invalid(what, text);
  for (const auto& [names, scale] : kUnits) {
    for (const auto& name : names) {
      if (unit == name) return *value * scale;
    }
  }
  return Invalid(what, text);
}

absl::StatusOr<int64_t> ParseMemorySize(absl::string_view text) {
  static const std::vector<std::pair<std::vector<std::string>, double>> kUnits = {
      {{"", "b", "bytes"}, 1.0},
      {{"k", "kb", "kib", "kibibytes"}, 1024.0},
      {{"m", "mb", "mib", "mebibytes"}, 1024.0 * 1024},
      {{"g", "gb", "gib", "gibibytes"}, 1024.0 * 1024 * 1024},
      {{"t", "tb", "tib", "tebibytes"}, 1024.0 * 1024 * 1024 * 1024},
  };
  auto [number, unit] = SplitNumberAndUnit(text);
  auto value = ParseDouble(number);
  const absl::string_view what = "a memory size such as '1728m', '2 gb' or '512k'";
  if (number.empty() || !value.ok() || *value < 0) return Invalid(what, text);
  for (const auto& [names, scale] : kUnits) {
    for (const auto& name : names) {
      if (unit != name) continue;
      double bytes = *value * scale;
      // 2^63 is the first double past int64_t's range; llround would overflow.
      if (bytes >= static_cast<double>(std::numeric_limits<int64_t>::max())) {
        return Invalid(what, text);
      }
      return static_cast<int64_t>(std::llround(bytes));
    }
  }
  return Invalid(what, text);
}

absl::StatusOr<PortRange> ParsePortRange(absl::string_view text) {
  const absl::string_view what = "a port (0-65535) or a range such as '9249-9260'";
  absl::string_view t = Trim(text);
  size_t dash = t.find('-', 1);
  auto first = ParseInteger(t.substr(0, dash));
  auto last = dash == absl::string_view::npos ? first : ParseInteger(t.substr(dash + 1));
  if (!first.ok() || !last.ok() || *first < 0 || *last > 65535 || *first > *last) {
    return Invalid(what, text);
  }
  return PortRange{static_cast<int>(*first), static_cast<int>(*last)};
}

std::string HumanDuration(absl::Duration d) {
  if (d >= absl::Minutes(1) && d % absl::Minutes(1) == absl::ZeroDuration()) {
    return absl::StrCat(absl::ToInt64Minutes(d), " min");
  }
  if (d >= absl::Seconds(1) && d % absl::Seconds(1) == absl::ZeroDuration()) {
    return absl::StrCat(absl::ToInt64Seconds(d), " s");
  }
  return absl::StrCat(absl::ToDoubleMilliseconds(d), " ms");
}

std::string FormatBytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? absl::StrCat(bytes, " B") : absl::StrFormat("%.1f %s", value, units[unit]);
}

}  // namespace sluice
