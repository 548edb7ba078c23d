// Secure defaults for listening sockets: until daemons authenticate each
// other, a daemon listens only on loopback unless the user accepts the risk
// with security.allow-insecure-remote.
#ifndef SLUICE_COMMON_NET_LISTEN_POLICY_H_
#define SLUICE_COMMON_NET_LISTEN_POLICY_H_

#include <initializer_list>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/config/config.h"

namespace sluice::net {

// 127.0.0.0/8, ::1 or "localhost"; a wildcard, a name or any other address
// is reachable from elsewhere.
bool IsLoopbackHost(absl::string_view host);

// Fails naming the first of `bind_keys` that is not loopback, unless
// security.allow-insecure-remote is set (then it warns once per key).
absl::Status CheckListenAddresses(const Config& config,
                                  std::initializer_list<absl::string_view> bind_keys);

}  // namespace sluice::net

#endif  // SLUICE_COMMON_NET_LISTEN_POLICY_H_
