// An HTTPS server's certificate and key from the files a configuration
// names, checked before serving so that a bad one stops the daemon with a
// line naming the key and what is wrong (unreadable, not PEM, a key that is
// not the certificate's, expired or not yet valid), not a failed handshake
// later.
#ifndef SLUICE_COMMON_HTTP_HTTP_TLS_H_
#define SLUICE_COMMON_HTTP_HTTP_TLS_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/config/config.h"
#include "common/http/http_server.h"

namespace sluice {

absl::StatusOr<HttpTls> LoadHttpTls(const Config& config, absl::string_view certificate_key,
                                    absl::string_view private_key_key);

}  // namespace sluice

#endif  // SLUICE_COMMON_HTTP_HTTP_TLS_H_
