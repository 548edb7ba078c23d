#include "engine/key_groups.h"

#include <algorithm>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace sluice::engine {

uint64_t KeyHash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

int KeyGroupOf(std::string_view key, int max_parallelism) {
  return KeyGroupOfHash(KeyHash(key), max_parallelism);
}

KeyGroupRange KeyGroupRangeFor(int max_parallelism, int parallelism, int subtask) {
  return KeyGroupRange{(subtask * max_parallelism + parallelism - 1) / parallelism,
                       ((subtask + 1) * max_parallelism - 1) / parallelism};
}

int SubtaskForKeyGroup(int max_parallelism, int parallelism, int key_group) {
  return key_group * parallelism / max_parallelism;
}

int DefaultMaxParallelism(int parallelism) {
  int wanted = parallelism + parallelism / 2;
  int power = 1;
  while (power < wanted) power <<= 1;
  return std::min(std::max(power, 128), kMaxMaxParallelism);
}

}  // namespace sluice::engine
