#include "sluice/serialization.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "sluice/parameter_tool.h"

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

// A few bytes claiming a length of 2^62 used to allocate before checking.
TEST(SerializationTest, AHugeLengthIsRefusedBeforeAnythingIsAllocated) {
  std::string huge;
  Writer w(&huge);
  w.VarUint(uint64_t{1} << 62);
  huge += "abc";
  EXPECT_THROW(Deserialize<std::string>(huge), std::runtime_error);
  EXPECT_THROW(Deserialize<std::vector<int64_t>>(huge), std::runtime_error);
  EXPECT_THROW((Deserialize<std::map<std::string, int>>(huge)), std::runtime_error);
  std::string field;
  Reader r(huge.data(), huge.size());
  EXPECT_THROW(internal::ReadInto(field, r), std::runtime_error);
  // A length that fits what is left is fine.
  EXPECT_EQ(Deserialize<std::string>(Serialize(std::string(1000, 'x'))), std::string(1000, 'x'));
}

}  // namespace
}  // namespace sluice

// A user's struct in a namespace of its own, with fields named like the
// macro's old parameters (v, w, r): both broke SLUICE_SERIALIZABLE once.
namespace user::model {
struct Vec {
  double v = 0, w = 0;
  std::string r;
  bool operator==(const Vec&) const = default;
};
SLUICE_SERIALIZABLE(Vec, v, w, r);
}  // namespace user::model

namespace {
struct Local {  // in an anonymous namespace
  int sluice = 0;
  bool operator==(const Local&) const = default;
};
SLUICE_SERIALIZABLE(Local, sluice);
}  // namespace

namespace sluice {
namespace {

TEST(SerializationTest, StructsInNamespacesAndWithAnyFieldNamesRoundTrip) {
  user::model::Vec vec{1.5, -2, "r"};
  EXPECT_EQ(Deserialize<user::model::Vec>(Serialize(vec)), vec);
  EXPECT_TRUE(IsSerializable<user::model::Vec>::value);
  EXPECT_EQ(Deserialize<Local>(Serialize(Local{7})), Local{7});
  EXPECT_EQ(Deserialize<std::vector<Local>>(Serialize(std::vector<Local>{{1}, {2}})),
            (std::vector<Local>{{1}, {2}}));
}

TEST(ParameterToolTest, ReadsKeysValuesAndFlagsLikeFlinks) {
  auto params = ParameterTool::FromArgs(
      {"--input", "in.txt", "-n", "5", "--rate", "-2.5", "--verbose", "--last"});
  EXPECT_EQ(params.GetRequired("input"), "in.txt");
  EXPECT_EQ(params.GetInt("n", 0), 5);
  EXPECT_EQ(params.GetDouble("rate", 0), -2.5) << "a negative number is a value, not a key";
  EXPECT_TRUE(params.GetBool("verbose", false));
  EXPECT_TRUE(params.Has("last"));
  EXPECT_EQ(params.Get("missing", "fallback"), "fallback");
  EXPECT_EQ(params.GetLong("missing", 9), 9);
  auto missing = [&] { params.GetRequired("output"); };
  EXPECT_THROW(missing(), std::invalid_argument);
  try {
    params.GetInt("input", 0);
    FAIL() << "in.txt is no number";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "job argument --input must be a number, got 'in.txt'");
  }
  EXPECT_THROW(ParameterTool::FromArgs({"positional"}), std::invalid_argument);
}

}  // namespace
}  // namespace sluice
