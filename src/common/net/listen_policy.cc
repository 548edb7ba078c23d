#include "common/net/listen_policy.h"

#include <arpa/inet.h>

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace sluice::net {

bool IsLoopbackHost(absl::string_view host) {
  const std::string name = absl::AsciiStrToLower(host);
  if (name == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, name.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, name.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

absl::Status CheckListenAddresses(const Config& config,
                                  std::initializer_list<absl::string_view> bind_keys) {
  const bool allowed = config.GetBool("security.allow-insecure-remote");
  for (absl::string_view key : bind_keys) {
    const std::string& host = config.GetString(key);
    if (IsLoopbackHost(host)) continue;
    if (allowed) {
      spdlog::warn(
          "{} is {}: listening beyond loopback without TLS or authentication, as "
          "security.allow-insecure-remote allows; anyone who reaches this port controls the "
          "cluster",
          std::string(key), host);
      continue;
    }
    return absl::FailedPreconditionError(absl::StrCat(
        key, " is ", host,
        ": the daemons neither encrypt nor authenticate their connections yet, so whoever "
        "reaches that address controls the cluster. Bind to loopback (127.0.0.1), or set "
        "security.allow-insecure-remote: true to accept that on a trusted network"));
  }
  return absl::OkStatus();
}

}  // namespace sluice::net
