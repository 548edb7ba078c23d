// Records as text for print and text-file sinks: anything with operator<<,
// plus pairs, tuples, vectors and optionals. Any other type is a compile-time
// error at Print()/WriteAsText() unless they are given a formatter.
#ifndef SLUICE_TEXT_H_
#define SLUICE_TEXT_H_

#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace sluice {

template <typename T, typename = void>
struct IsStreamable : std::false_type {};
template <typename T>
struct IsStreamable<
    T, std::void_t<decltype(std::declval<std::ostream&>() << std::declval<const T&>())>>
    : std::true_type {};

template <typename T>
void WriteText(std::ostream& os, const T& value);

namespace internal {
template <typename T>
struct TextOf {
  static void Write(std::ostream& os, const T& v) {
    static_assert(IsStreamable<T>::value,
                  "Print/WriteAsText: the record type has no operator<<; define one, or pass a "
                  "formatter: Print([](const T& r) { return std::string(...); })");
    os << v;
  }
};
template <typename A, typename B>
struct TextOf<std::pair<A, B>> {
  static void Write(std::ostream& os, const std::pair<A, B>& v) {
    os << '(';
    WriteText(os, v.first);
    os << ',';
    WriteText(os, v.second);
    os << ')';
  }
};
template <typename... Ts>
struct TextOf<std::tuple<Ts...>> {
  static void Write(std::ostream& os, const std::tuple<Ts...>& v) {
    os << '(';
    std::apply(
        [&os](const auto&... e) {
          size_t i = 0;
          ((os << (i++ ? "," : ""), WriteText(os, e)), ...);
        },
        v);
    os << ')';
  }
};
template <typename T>
struct TextOf<std::vector<T>> {
  static void Write(std::ostream& os, const std::vector<T>& v) {
    os << '[';
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) os << ',';
      WriteText(os, v[i]);
    }
    os << ']';
  }
};
template <typename T>
struct TextOf<std::optional<T>> {
  static void Write(std::ostream& os, const std::optional<T>& v) {
    if (v) {
      WriteText(os, *v);
    } else {
      os << "null";
    }
  }
};
}  // namespace internal

template <typename T>
void WriteText(std::ostream& os, const T& value) {
  internal::TextOf<T>::Write(os, value);
}

template <typename T>
std::string ToText(const T& value) {
  std::ostringstream os;
  WriteText(os, value);
  return os.str();
}

}  // namespace sluice

#endif  // SLUICE_TEXT_H_
