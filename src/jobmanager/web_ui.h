// The web UI on the JobManager's REST port (Flink's dashboard): `/` serves
// index.html, `/web/<file>` its scripts and styles, all compiled into the
// binary from webui/ (cmake/EmbedFiles.cmake). The pages read the REST API.
#ifndef SLUICE_JOBMANAGER_WEB_UI_H_
#define SLUICE_JOBMANAGER_WEB_UI_H_

#include <cstddef>

#include "common/http/http_server.h"

namespace sluice {

struct WebAsset {
  const char* name;  // relative to webui/
  const unsigned char* data;
  size_t size;
};
extern const WebAsset kWebAssets[];
extern const size_t kWebAssetCount;

void ServeWebUi(HttpServer& http);

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_WEB_UI_H_
