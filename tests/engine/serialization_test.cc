#include "sluice/serialization.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

struct Point {
  std::string label;
  double x = 0;
  int64_t y = 0;
  std::vector<std::optional<int>> tags;
  bool operator==(const Point&) const = default;
};
SLUICE_SERIALIZABLE(Point, label, x, y, tags);

struct NotSerializable {
  int a = 0;
};

namespace sluice {
namespace {

template <typename T>
T RoundTrip(const T& value) {
  return Deserialize<T>(Serialize(value));
}

TEST(SerializationTest, BuiltInTypesRoundTrip) {
  EXPECT_EQ(RoundTrip(42), 42);
  EXPECT_EQ(RoundTrip(int64_t{-7'000'000'000}), -7'000'000'000);
  EXPECT_EQ(RoundTrip(3.25), 3.25);
  EXPECT_EQ(RoundTrip(true), true);
  EXPECT_EQ(RoundTrip(std::string("")), "");
  EXPECT_EQ(RoundTrip(std::string(100000, 'x')), std::string(100000, 'x'));
  EXPECT_EQ(RoundTrip(std::make_pair(std::string("a"), 1L)), std::make_pair(std::string("a"), 1L));
  auto tuple = std::make_tuple(1, std::string("two"), 3.0, std::vector<int>{4, 5});
  EXPECT_EQ(RoundTrip(tuple), tuple);
  EXPECT_EQ(RoundTrip(std::optional<std::string>()), std::nullopt);
  EXPECT_EQ(RoundTrip(std::optional<std::string>("x")), "x");
  std::map<std::string, std::vector<double>> map = {{"a", {1, 2}}, {"b", {}}};
  EXPECT_EQ(RoundTrip(map), map);
}

TEST(SerializationTest, UserStructsRoundTripFieldByField) {
  Point p{"p1", 1.5, -3, {1, std::nullopt, 7}};
  EXPECT_EQ(RoundTrip(p), p);
  static_assert(IsSerializable<Point>::value);
  static_assert(IsSerializable<std::vector<std::pair<Point, std::string>>>::value);
  static_assert(!IsSerializable<NotSerializable>::value);
  static_assert(!IsSerializable<std::pair<int, NotSerializable>>::value);
}

TEST(SerializationTest, TruncatedInputIsAnErrorNotACrash) {
  std::string bytes = Serialize(std::string("hello world"));
  bytes.resize(bytes.size() - 3);
  EXPECT_THROW(Deserialize<std::string>(bytes), std::runtime_error);
  EXPECT_THROW(Deserialize<int64_t>(std::string("abc")), std::runtime_error);
}

}  // namespace
}  // namespace sluice
