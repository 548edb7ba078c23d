// Config values as the parsers read them (durations, memory sizes, port
// ranges, numbers, booleans): a value or a one-line error, never a crash or
// an overflow.
#include <cstdint>
#include <string>

#include "common/config/value_parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  (void)sluice::ParseInteger(text);
  (void)sluice::ParseDouble(text);
  (void)sluice::ParseBool(text);
  auto duration = sluice::ParseDuration(text);
  if (duration.ok()) (void)sluice::HumanDuration(*duration);
  auto bytes = sluice::ParseMemorySize(text);
  if (bytes.ok()) {
    if (*bytes < 0) __builtin_trap();
    (void)sluice::FormatBytes(*bytes);
  }
  auto ports = sluice::ParsePortRange(text);
  if (ports.ok() && (ports->first > ports->last || ports->first < 0 || ports->last > 65535)) {
    __builtin_trap();
  }
  return 0;
}
