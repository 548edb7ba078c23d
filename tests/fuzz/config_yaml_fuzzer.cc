// conf/sluice.yaml as the config reader sees it: any bytes give keys or a
// one-line error, never a crash, an endless loop or unbounded memory.
#include <cstdint>
#include <string>

#include "common/config/yaml_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto keys = sluice::ReadYamlKeys(absl::string_view(reinterpret_cast<const char*>(data), size),
                                   "fuzz.yaml");
  if (!keys.ok() && keys.status().message().find('\n') != std::string::npos) __builtin_trap();
  return 0;
}
