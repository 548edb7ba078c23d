#include "jobmanager/web_ui.h"

#include <string>

#include "absl/strings/match.h"

namespace sluice {
namespace {

const char* ContentType(const std::string& name) {
  if (absl::EndsWith(name, ".html")) return "text/html; charset=utf-8";
  if (absl::EndsWith(name, ".js")) return "text/javascript; charset=utf-8";
  if (absl::EndsWith(name, ".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

HttpResponse Asset(const WebAsset& asset) {
  return HttpResponse{200, ContentType(asset.name),
                      std::string(reinterpret_cast<const char*>(asset.data), asset.size)};
}

}  // namespace

void ServeWebUi(HttpServer& http) {
  for (size_t i = 0; i < kWebAssetCount; ++i) {
    const WebAsset& asset = kWebAssets[i];
    const std::string name = asset.name;
    if (name == "index.html") {
      http.HandleGet("/", [&asset] { return Asset(asset); });
      http.HandleGet("/index.html", [&asset] { return Asset(asset); });
    } else {
      http.HandleGet("/web/" + name, [&asset] { return Asset(asset); });
    }
  }
}

}  // namespace sluice
