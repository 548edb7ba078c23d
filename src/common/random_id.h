// Random identifiers in hex (job ids, savepoint trigger ids and names):
// unique enough across processes without coordination.
#ifndef SLUICE_COMMON_RANDOM_ID_H_
#define SLUICE_COMMON_RANDOM_ID_H_

#include <random>
#include <string>

#include "absl/strings/str_format.h"

namespace sluice {

// `hex_digits` lower-case hex digits (a multiple of 16 gets full 64-bit words).
inline std::string RandomHexId(int hex_digits) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id;
  while (static_cast<int>(id.size()) < hex_digits) id += absl::StrFormat("%016x", rng());
  id.resize(hex_digits);
  return id;
}

}  // namespace sluice

#endif  // SLUICE_COMMON_RANDOM_ID_H_
