// Records as a receiving task decodes them from a buffer: every length is
// checked against what arrived; a bad record is an exception, never a crash
// or an allocation beyond the buffer.
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "sluice/serialization.h"

namespace {
using Record = std::tuple<int64_t, std::string, std::vector<int64_t>,
                          std::map<std::string, std::string>, std::pair<double, std::string>>;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sluice::Reader reader(reinterpret_cast<const char*>(data), size);
  try {
    while (!reader.done()) {
      Record record = sluice::Serializer<Record>::Read(reader);
      (void)record;
    }
  } catch (const std::runtime_error&) {
    // a malformed record: rejected, as it must be
  }
  return 0;
}
