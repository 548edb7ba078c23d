// How records cross a channel between subtasks: Serializer<T> writes a value
// to bytes and reads it back. Built in for arithmetic types, std::string,
// pairs, tuples, vectors, optionals and maps; a user struct becomes
// serializable with one line:
//
//   struct Reading { std::string sensor; double value; };
//   SLUICE_SERIALIZABLE(Reading, sensor, value);
//
// Records passed between chained operators are never serialized.
#ifndef SLUICE_SERIALIZATION_H_
#define SLUICE_SERIALIZATION_H_

#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace sluice {

// Appends bytes to a growing buffer.
class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}
  void Bytes(const void* data, size_t size) { out_->append(static_cast<const char*>(data), size); }
  void VarUint(uint64_t v) {
    while (v >= 0x80) {
      out_->push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_->push_back(static_cast<char>(v));
  }

 private:
  std::string* out_;
};

// Reads bytes back; throws std::runtime_error on truncated input.
class Reader {
 public:
  Reader(const char* data, size_t size) : data_(data), end_(data + size) {}
  void Bytes(void* out, size_t size) {
    if (static_cast<size_t>(end_ - data_) < size) throw std::runtime_error("truncated record");
    std::memcpy(out, data_, size);
    data_ += size;
  }
  uint64_t VarUint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (data_ == end_) throw std::runtime_error("truncated record");
      uint8_t byte = static_cast<uint8_t>(*data_++);
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    throw std::runtime_error("malformed length");
  }
  // A length or element count, checked against the bytes left: a corrupt or
  // hostile record can never make the reader allocate more than it holds
  // (every element of a container takes at least one byte).
  uint64_t Length() {
    const uint64_t n = VarUint();
    if (n > remaining()) throw std::runtime_error("a length in a record exceeds the record");
    return n;
  }
  size_t remaining() const { return static_cast<size_t>(end_ - data_); }
  const char* position() const { return data_; }
  bool done() const { return data_ == end_; }

 private:
  const char* data_;
  const char* end_;
};

template <typename T, typename Enable = void>
struct Serializer;  // no definition: not serializable

// Types made serializable with SLUICE_SERIALIZABLE (found by ADL).
template <typename T>
concept FieldSerializable = requires(const T& c, T& m, Writer& w, Reader& r) {
  SluiceSerialize(c, w);
  SluiceDeserialize(m, r);
};
template <FieldSerializable T>
struct Serializer<T> {
  static void Write(const T& v, Writer& w) { SluiceSerialize(v, w); }
  static T Read(Reader& r) {
    T v{};
    SluiceDeserialize(v, r);
    return v;
  }
};

template <typename T>
struct Serializer<T, std::enable_if_t<std::is_arithmetic_v<T> || std::is_enum_v<T>>> {
  static void Write(const T& v, Writer& w) { w.Bytes(&v, sizeof(T)); }
  static T Read(Reader& r) {
    T v;
    r.Bytes(&v, sizeof(T));
    return v;
  }
};

template <>
struct Serializer<std::string> {
  static void Write(const std::string& v, Writer& w) {
    w.VarUint(v.size());
    w.Bytes(v.data(), v.size());
  }
  static std::string Read(Reader& r) {
    std::string v(r.Length(), '\0');
    r.Bytes(v.data(), v.size());
    return v;
  }
};

template <typename A, typename B>
struct Serializer<std::pair<A, B>> {
  static void Write(const std::pair<A, B>& v, Writer& w) {
    Serializer<A>::Write(v.first, w);
    Serializer<B>::Write(v.second, w);
  }
  static std::pair<A, B> Read(Reader& r) {
    A a = Serializer<A>::Read(r);
    B b = Serializer<B>::Read(r);
    return {std::move(a), std::move(b)};
  }
};

template <typename... Ts>
struct Serializer<std::tuple<Ts...>> {
  static void Write(const std::tuple<Ts...>& v, Writer& w) {
    std::apply(
        [&w](const auto&... e) { (Serializer<std::decay_t<decltype(e)>>::Write(e, w), ...); }, v);
  }
  static std::tuple<Ts...> Read(Reader& r) { return std::tuple<Ts...>{Serializer<Ts>::Read(r)...}; }
};

template <typename T>
struct Serializer<std::vector<T>> {
  static void Write(const std::vector<T>& v, Writer& w) {
    w.VarUint(v.size());
    for (const auto& e : v) Serializer<T>::Write(e, w);
  }
  static std::vector<T> Read(Reader& r) {
    std::vector<T> v;
    uint64_t n = r.Length();
    v.reserve(n);
    for (uint64_t i = 0; i < n; ++i) v.push_back(Serializer<T>::Read(r));
    return v;
  }
};

template <typename T>
struct Serializer<std::optional<T>> {
  static void Write(const std::optional<T>& v, Writer& w) {
    w.VarUint(v.has_value() ? 1 : 0);
    if (v) Serializer<T>::Write(*v, w);
  }
  static std::optional<T> Read(Reader& r) {
    if (r.VarUint() == 0) return std::nullopt;
    return Serializer<T>::Read(r);
  }
};

template <typename K, typename V>
struct Serializer<std::map<K, V>> {
  static void Write(const std::map<K, V>& v, Writer& w) {
    w.VarUint(v.size());
    for (const auto& [k, val] : v) {
      Serializer<K>::Write(k, w);
      Serializer<V>::Write(val, w);
    }
  }
  static std::map<K, V> Read(Reader& r) {
    std::map<K, V> v;
    uint64_t n = r.Length();
    for (uint64_t i = 0; i < n; ++i) {
      K k = Serializer<K>::Read(r);
      v.emplace(std::move(k), Serializer<V>::Read(r));
    }
    return v;
  }
};

// The alternative's index, then its value.
template <typename... Ts>
struct Serializer<std::variant<Ts...>> {
  static void Write(const std::variant<Ts...>& v, Writer& w) {
    w.VarUint(v.index());
    std::visit([&w](const auto& e) { Serializer<std::decay_t<decltype(e)>>::Write(e, w); }, v);
  }
  static std::variant<Ts...> Read(Reader& r) {
    return ReadAlternative(r, r.VarUint(), std::index_sequence_for<Ts...>{});
  }

 private:
  template <size_t... I>
  static std::variant<Ts...> ReadAlternative(Reader& r, uint64_t index, std::index_sequence<I...>) {
    std::optional<std::variant<Ts...>> out;
    ((index == I ? (out.emplace(std::in_place_index<I>, Serializer<Ts>::Read(r)), true) : false) ||
     ...);
    if (!out) throw std::runtime_error("malformed record: variant alternative out of range");
    return std::move(*out);
  }
};

// Whether T has a Serializer.
template <typename T, typename = void>
struct IsSerializable : std::false_type {};
template <typename T>
struct IsSerializable<T, std::void_t<decltype(Serializer<T>::Write)>> : std::true_type {};
template <typename... Ts>
struct IsSerializable<std::tuple<Ts...>, void> : std::conjunction<IsSerializable<Ts>...> {};
template <typename A, typename B>
struct IsSerializable<std::pair<A, B>, void>
    : std::conjunction<IsSerializable<A>, IsSerializable<B>> {};
template <typename T>
struct IsSerializable<std::vector<T>, void> : IsSerializable<T> {};
template <typename T>
struct IsSerializable<std::optional<T>, void> : IsSerializable<T> {};
template <typename... Ts>
struct IsSerializable<std::variant<Ts...>, void> : std::conjunction<IsSerializable<Ts>...> {};

template <typename T>
std::string Serialize(const T& value) {
  std::string out;
  Writer w(&out);
  Serializer<T>::Write(value, w);
  return out;
}

template <typename T>
T Deserialize(const std::string& bytes) {
  Reader r(bytes.data(), bytes.size());
  return Serializer<T>::Read(r);
}

}  // namespace sluice

namespace sluice::internal {
// Reads into an existing value, reusing its memory where it can (a string
// field keeps its capacity): how the runtime reads every record it receives.
template <typename T>
void ReadInto(T& v, Reader& r) {
  if constexpr (FieldSerializable<T>) {
    SluiceDeserialize(v, r);
  } else if constexpr (std::is_same_v<T, std::string>) {
    v.resize(r.Length());
    r.Bytes(v.data(), v.size());
  } else {
    v = Serializer<T>::Read(r);
  }
}
template <typename... F>
void WriteFields(Writer& w, const F&... fields) {
  (Serializer<F>::Write(fields, w), ...);
}
template <typename... F>
void ReadFields(Reader& r, F&... fields) {
  (ReadInto(fields, r), ...);
}
}  // namespace sluice::internal

// Makes a default-constructible struct serializable field by field; list
// every field, in declaration order. Use it in the struct's own namespace
// (anonymous ones included): it defines two functions there that
// Serializer<T> finds by argument-dependent lookup.
#define SLUICE_SERIALIZABLE(Type, ...)                                               \
  [[maybe_unused]] inline void SluiceSerialize(const Type& sluice_record_,           \
                                               ::sluice::Writer& sluice_writer_) {   \
    const auto& [__VA_ARGS__] = sluice_record_;                                      \
    ::sluice::internal::WriteFields(sluice_writer_, __VA_ARGS__);                    \
  }                                                                                  \
  [[maybe_unused]] inline void SluiceDeserialize(Type& sluice_record_,               \
                                                 ::sluice::Reader& sluice_reader_) { \
    auto& [__VA_ARGS__] = sluice_record_;                                            \
    ::sluice::internal::ReadFields(sluice_reader_, __VA_ARGS__);                     \
  }                                                                                  \
  static_assert(true, "SLUICE_SERIALIZABLE ends with a semicolon")

#endif  // SLUICE_SERIALIZATION_H_
