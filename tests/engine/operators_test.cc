// Operators one by one, with an in-memory downstream.
#include "sluice/internal/operators.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/heap_keyed_state_backend.h"
#include "sluice/sluice.h"

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

TEST(OperatorsTest, ReduceKeepsARunningValuePerKeyInTheRuntimesState) {
  using P = std::pair<std::string, int>;
  VectorCollector<P> out;
  std::unique_ptr<engine::HeapKeyedStateBackend> backend;
  OperatorContext ctx;
  ctx.name = "Sum";
  ctx.keyed_runtime = [&backend](TimerTarget* target) {
    backend =
        std::make_unique<engine::HeapKeyedStateBackend>(128, engine::KeyGroupRange{0, 127}, target);
    return backend.get();
  };
  auto key = [](const P& p) { return p.first; };
  auto add = [](const P& a, const P& b) { return P{a.first, a.second + b.second}; };
  ReduceOperator<std::string, P, decltype(key), decltype(add)> reduce(ctx, key, add, &out);
  for (const P& p : {P{"a", 1}, P{"b", 5}, P{"a", 2}, P{"a", 3}}) reduce.Collect(P(p));
  EXPECT_EQ(out.items, (std::vector<P>{{"a", 1}, {"b", 5}, {"a", 3}, {"a", 6}}));
  EXPECT_EQ(backend->size("reducing:reduce"), 2u) << "one value per key, held by the runtime";
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

TEST(OperatorsTest, EdgeWriterHandsSerializedRecordsAndKeysToTheRuntime) {
  struct Recording final : RecordOutput {
    std::string* BeginRecord(std::string_view key) override {
      keys.push_back(Deserialize<int64_t>(std::string(key)));
      record.clear();
      return &record;
    }
    void EndRecord() override { records.push_back(Deserialize<std::string>(record)); }
    std::string record;
    std::vector<std::string> records;
    std::vector<int64_t> keys;
  } runtime;
  KeyWriter length = [](const void* record, std::string* out) {
    Writer w(out);
    Serializer<int64_t>::Write(
        static_cast<int64_t>(static_cast<const std::string*>(record)->size()), w);
  };
  EdgeWriter<std::string> writer(&runtime, &length);
  writer.Collect(std::string("abc"));
  writer.Collect(std::string("hello"));
  EXPECT_EQ(runtime.records, (std::vector<std::string>{"abc", "hello"}));
  EXPECT_EQ(runtime.keys, (std::vector<int64_t>{3, 5}));
}

}  // namespace
}  // namespace sluice::internal
