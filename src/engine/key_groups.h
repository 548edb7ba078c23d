// Key groups: the unit in which keyed state is stored, snapshotted and
// redistributed. A key (serialized by the job's key serializer) hashes to a
// key group 0 .. max parallelism - 1; key-group ranges map to subtasks with
// Flink's formulas (KeyGroupRangeAssignment), so state moves between
// parallelisms in whole key groups.
//
// The hash is XXH3-64 (xxHash 0.8, whose output is frozen by its authors)
// of the key's bytes with seed 0; its upper 32 bits map to a key group by
// multiplication, (h >> 32) * max_parallelism >> 32 (Lemire's range
// reduction: as even as a modulo, without a division per record). It is part
// of every checkpoint's meaning: never change it.
#ifndef SLUICE_ENGINE_KEY_GROUPS_H_
#define SLUICE_ENGINE_KEY_GROUPS_H_

#include <cstdint>
#include <string_view>

namespace sluice::engine {

inline constexpr int kMaxMaxParallelism = 1 << 15;  // 32768, as in Flink

// An inclusive range of key groups [start, end]; empty when end < start.
struct KeyGroupRange {
  int start = 0;
  int end = -1;
  int size() const { return end < start ? 0 : end - start + 1; }
  bool contains(int key_group) const { return key_group >= start && key_group <= end; }
  bool operator==(const KeyGroupRange&) const = default;
};

uint64_t KeyHash(std::string_view key);
inline int KeyGroupOfHash(uint64_t hash, int max_parallelism) {
  return static_cast<int>(((hash >> 32) * static_cast<uint64_t>(max_parallelism)) >> 32);
}
int KeyGroupOf(std::string_view key, int max_parallelism);
// computeKeyGroupRangeForOperatorIndex.
KeyGroupRange KeyGroupRangeFor(int max_parallelism, int parallelism, int subtask);
// computeOperatorIndexForKeyGroup.
int SubtaskForKeyGroup(int max_parallelism, int parallelism, int key_group);
// computeDefaultMaxParallelism: min(max(roundUpToPowerOfTwo(p + p/2), 128), 32768).
int DefaultMaxParallelism(int parallelism);

}  // namespace sluice::engine

#endif  // SLUICE_ENGINE_KEY_GROUPS_H_
