// SHA-256 digests (OpenSSL), for job libraries stored and fetched by content.
#ifndef SLUICE_COMMON_SHA256_H_
#define SLUICE_COMMON_SHA256_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace sluice {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  void Update(absl::string_view data);
  std::string HexDigest();  // lower-case hex; ends the computation

  static std::string Of(absl::string_view data);
  // The digest of a file's content, read in chunks; nullopt if unreadable.
  static std::optional<std::string> OfFile(const std::string& path);
  // True for what HexDigest() returns: 64 lower-case hex digits (so a digest
  // from outside can safely name a file).
  static bool IsHexDigest(absl::string_view digest);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sluice

#endif  // SLUICE_COMMON_SHA256_H_
