// The token the CLI presents to a JobManager that authenticates its clients
// (security.admin-token): --token, else $SLUICE_TOKEN. Sent as
// "authorization: Bearer <token>" with every RPC and REST request.
#ifndef SLUICE_CLIENT_CREDENTIALS_H_
#define SLUICE_CLIENT_CREDENTIALS_H_

#include <grpcpp/client_context.h>

#include <string>

namespace sluice {

// Empty: $SLUICE_TOKEN, if set.
void SetClientToken(std::string token);
// "Bearer <token>", or empty without a token.
std::string ClientAuthorization();
void Authorize(grpc::ClientContext* context);

}  // namespace sluice

#endif  // SLUICE_CLIENT_CREDENTIALS_H_
