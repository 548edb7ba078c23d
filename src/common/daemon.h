// What every Sluice daemon's main() does: parse --conf-dir and -D overrides,
// load and validate the configuration, set up logging, start the component,
// wait for SIGTERM/SIGINT and shut the component down cleanly.
#ifndef SLUICE_COMMON_DAEMON_H_
#define SLUICE_COMMON_DAEMON_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/config/config.h"

namespace sluice {

struct CommandLine {
  std::string conf_dir;  // empty: $SLUICE_CONF_DIR, else ./conf
  std::vector<std::string> overrides;
  bool help = false;
};

// Accepts --conf-dir DIR, --conf-dir=DIR, -D key=value, -Dkey=value, --help.
absl::StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args);
std::string ResolveConfDir(const CommandLine& command_line);
absl::StatusOr<Config> LoadConfig(const CommandLine& command_line);

// Console logging at the configured level, each line tagged with `name`.
void SetUpLogging(const Config& config, const std::string& name);
// Logs named `name` at `level` ("info", …) to stderr, flushed line by line.
void SetUpLogging(const std::string& name, const std::string& level);

// A running component that can be shut down.
class Daemon {
 public:
  virtual ~Daemon() = default;
  virtual void Shutdown() = 0;
};

using DaemonFactory = std::function<absl::StatusOr<std::unique_ptr<Daemon>>(const Config&)>;

// The whole main(): returns the process exit code.
int RunDaemon(int argc, char** argv, const std::string& name, const DaemonFactory& start);

// RunDaemon for a component with `static StatusOr<unique_ptr<C>> Start(const Config&)`.
template <typename Component>
int RunDaemon(int argc, char** argv, const std::string& name) {
  return RunDaemon(argc, argv, name,
                   [](const Config& config) -> absl::StatusOr<std::unique_ptr<Daemon>> {
                     auto component = Component::Start(config);
                     if (!component.ok()) return component.status();
                     return std::unique_ptr<Daemon>(std::move(*component));
                   });
}

}  // namespace sluice

#endif  // SLUICE_COMMON_DAEMON_H_
