// Operators one by one, with an in-memory downstream.
#include "sluice/operators.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sluice::internal {
namespace {

template <typename T>
class VectorCollector final : public Collector<T> {
 public:
  using Collector<T>::Collect;
  void Collect(T&& record) override { items.push_back(std::move(record)); }
  void EndOfInput() override { ended = true; }
  std::vector<T> items;
  bool ended = false;
};

class RecordingChannel final : public ChannelSink {
 public:
  void Write(std::string buffer) override { buffers.push_back(std::move(buffer)); }
  void Close() override { closed = true; }
  std::vector<int64_t> Records() const {
    VectorCollector<int64_t> out;
    for (const auto& b : buffers) ReadRecords<int64_t>(b.data(), b.size(), &out);
    return out.items;
  }
  std::vector<std::string> buffers;
  bool closed = false;
};

TEST(OperatorsTest, MapFilterAndEndOfInputFlowDownstream) {
  VectorCollector<std::string> out;
  auto to_text = [](const int& x) { return std::to_string(x * 10); };
  MapOperator<int, std::string, decltype(to_text)> map("Map", to_text, &out);
  auto even = [](const int& x) { return x % 2 == 0; };
  FilterOperator<int, decltype(even)> filter("Filter", even, &map);
  for (int i = 0; i < 5; ++i) filter.Collect(int{i});
  filter.EndOfInput();
  EXPECT_EQ(out.items, (std::vector<std::string>{"0", "20", "40"}));
  EXPECT_TRUE(out.ended);
}

TEST(OperatorsTest, ReduceKeepsARunningValuePerKey) {
  using P = std::pair<std::string, int>;
  VectorCollector<P> out;
  auto key = [](const P& p) { return p.first; };
  auto add = [](const P& a, const P& b) { return P{a.first, a.second + b.second}; };
  ReduceOperator<std::string, P, decltype(key), decltype(add)> reduce("Sum", key, add, &out);
  for (const P& p : {P{"a", 1}, P{"b", 5}, P{"a", 2}, P{"a", 3}}) reduce.Collect(P(p));
  EXPECT_EQ(out.items, (std::vector<P>{{"a", 1}, {"b", 5}, {"a", 3}, {"a", 6}}));
}

TEST(OperatorsTest, UserExceptionsCarryTheOperatorName) {
  VectorCollector<int> out;
  auto boom = [](const int&) -> int { throw std::invalid_argument("bad input"); };
  MapOperator<int, int, decltype(boom)> map("Parse", boom, &out);
  try {
    map.Collect(1);
    FAIL() << "expected a UserCodeError";
  } catch (const UserCodeError& e) {
    EXPECT_EQ(e.op(), "Parse");
    EXPECT_STREQ(e.what(), "bad input");
  }
}

TEST(OperatorsTest, ChannelWriterPartitionsAndFramesRecords) {
  RecordingChannel a, b, c;
  std::function<uint64_t(const int64_t&)> hash = [](const int64_t& x) {
    return static_cast<uint64_t>(x);
  };
  ChannelWriter<int64_t> hashed({&a, &b, &c}, Partitioning::kHash, &hash, 6, 0);
  for (int64_t i = 0; i < 12; ++i) hashed.Collect(int64_t{i});
  hashed.EndOfInput();
  // Key group = x % 6, channel = group * 3 / 6.
  EXPECT_EQ(a.Records(), (std::vector<int64_t>{0, 1, 6, 7}));
  EXPECT_EQ(b.Records(), (std::vector<int64_t>{2, 3, 8, 9}));
  EXPECT_EQ(c.Records(), (std::vector<int64_t>{4, 5, 10, 11}));
  EXPECT_TRUE(a.closed && b.closed && c.closed);

  RecordingChannel x, y;
  ChannelWriter<int64_t> broadcast({&x, &y}, Partitioning::kBroadcast, nullptr, 6, 0);
  broadcast.Collect(int64_t{7});
  broadcast.Flush();
  EXPECT_EQ(x.Records(), std::vector<int64_t>{7});
  EXPECT_EQ(y.Records(), std::vector<int64_t>{7});
}

TEST(OperatorsTest, FullBuffersAreSentBeforeTheFlush) {
  RecordingChannel channel;
  ChannelWriter<std::string> writer({&channel}, Partitioning::kForward, nullptr, 1, 0);
  for (int i = 0; i < 1000; ++i) writer.Collect(std::string(100, 'x'));
  EXPECT_GE(channel.buffers.size(), 2u) << "100 KB of records do not fit one 32 KiB buffer";
  for (const auto& buffer : channel.buffers) EXPECT_LE(buffer.size(), kBufferSize + 200);
}

}  // namespace
}  // namespace sluice::internal
