#include "client/credentials.h"

#include <cstdlib>

namespace sluice {
namespace {

std::string& Token() {
  static std::string token;
  return token;
}

}  // namespace

void SetClientToken(std::string token) {
  if (token.empty() && std::getenv("SLUICE_TOKEN") != nullptr) token = std::getenv("SLUICE_TOKEN");
  Token() = std::move(token);
}

std::string ClientAuthorization() { return Token().empty() ? "" : "Bearer " + Token(); }

void Authorize(grpc::ClientContext* context) {
  if (!Token().empty()) context->AddMetadata("authorization", ClientAuthorization());
}

}  // namespace sluice
