// Key groups: Flink's assignment formulas and the frozen key hash.
#include "engine/key_groups.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace sluice::engine {
namespace {

TEST(KeyGroupsTest, TheKeyHashIsFrozen) {
  // XXH3-64, seed 0, of the key's bytes. Checkpointed state depends on these
  // values: if this test fails, the hash changed and old state is unreadable.
  EXPECT_EQ(KeyHash(""), 0x2d06800538d394c2ULL);
  EXPECT_EQ(KeyHash("hello"), 0x9555e8555c62dcfdULL);
  EXPECT_EQ(KeyGroupOf("hello", 128), static_cast<int>((0x9555e855ULL * 128) >> 32));
  EXPECT_EQ(KeyGroupOf("hello", 128), 74);
}

TEST(KeyGroupsTest, RangesFollowFlinksFormulas) {
  // computeKeyGroupRangeForOperatorIndex(128, 3, i): [0,42], [43,85], [86,127].
  EXPECT_EQ(KeyGroupRangeFor(128, 3, 0), (KeyGroupRange{0, 42}));
  EXPECT_EQ(KeyGroupRangeFor(128, 3, 1), (KeyGroupRange{43, 85}));
  EXPECT_EQ(KeyGroupRangeFor(128, 3, 2), (KeyGroupRange{86, 127}));
  for (int p : {1, 2, 3, 7, 100, 128}) {
    int next = 0;
    for (int i = 0; i < p; ++i) {
      KeyGroupRange range = KeyGroupRangeFor(128, p, i);
      EXPECT_EQ(range.start, next) << "ranges are contiguous, p=" << p;
      for (int kg = range.start; kg <= range.end; ++kg) {
        EXPECT_EQ(SubtaskForKeyGroup(128, p, kg), i) << "kg " << kg << " p=" << p;
      }
      next = range.end + 1;
    }
    EXPECT_EQ(next, 128) << "every key group has an owner, p=" << p;
  }
}

TEST(KeyGroupsTest, DefaultMaxParallelismIsFlinksRule) {
  EXPECT_EQ(DefaultMaxParallelism(1), 128);
  EXPECT_EQ(DefaultMaxParallelism(85), 128);
  EXPECT_EQ(DefaultMaxParallelism(86), 256);
  EXPECT_EQ(DefaultMaxParallelism(100), 256);
  EXPECT_EQ(DefaultMaxParallelism(30000), 32768);
}

TEST(KeyGroupsTest, KeysSpreadOverKeyGroups) {
  std::set<int> groups;
  for (int i = 0; i < 10000; ++i) groups.insert(KeyGroupOf("key-" + std::to_string(i), 128));
  EXPECT_EQ(groups.size(), 128u);
}

}  // namespace
}  // namespace sluice::engine
