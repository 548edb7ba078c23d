// Stable key hashes: keys map to key groups (0 .. max parallelism - 1), and
// key groups to subtasks. The hash must not change between processes or
// runs, so std::hash is not used for strings.
#ifndef SLUICE_KEY_HASH_H_
#define SLUICE_KEY_HASH_H_

#include <cstdint>
#include <functional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace sluice {

inline uint64_t MixHash(uint64_t x) {  // splitmix64 finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

template <typename K, typename = void>
struct KeyHash {
  uint64_t operator()(const K& k) const { return MixHash(std::hash<K>()(k)); }
};

template <typename K>
struct KeyHash<K, std::enable_if_t<std::is_integral_v<K> || std::is_enum_v<K>>> {
  uint64_t operator()(const K& k) const { return MixHash(static_cast<uint64_t>(k)); }
};

template <>
struct KeyHash<std::string> {
  uint64_t operator()(const std::string& k) const {
    uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : k) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    return MixHash(h);
  }
};

template <typename A, typename B>
struct KeyHash<std::pair<A, B>> {
  uint64_t operator()(const std::pair<A, B>& k) const {
    return MixHash(KeyHash<A>()(k.first) * 31 + KeyHash<B>()(k.second));
  }
};

template <typename... Ts>
struct KeyHash<std::tuple<Ts...>> {
  uint64_t operator()(const std::tuple<Ts...>& k) const {
    uint64_t h = 0;
    std::apply(
        [&h](const auto&... e) {
          ((h = MixHash(h * 31 + KeyHash<std::decay_t<decltype(e)>>()(e))), ...);
        },
        k);
    return h;
  }
};

// KeyHash as a hasher for std::unordered_map.
template <typename K>
struct KeyHasher {
  size_t operator()(const K& k) const { return static_cast<size_t>(KeyHash<K>()(k)); }
};

}  // namespace sluice

#endif  // SLUICE_KEY_HASH_H_
