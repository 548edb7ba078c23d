#include "common/daemon.h"

#include <signal.h>

#include <cstdlib>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace sluice {

absl::StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args) {
  CommandLine out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto next = [&](absl::string_view flag) -> absl::StatusOr<std::string> {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat(flag, " needs a value"));
      }
      return args[++i];
    };
    if (arg == "--help" || arg == "-h") {
      out.help = true;
    } else if (arg == "--conf-dir") {
      auto value = next(arg);
      if (!value.ok()) return value.status();
      out.conf_dir = *value;
    } else if (absl::StartsWith(arg, "--conf-dir=")) {
      out.conf_dir = arg.substr(11);
    } else if (arg == "-D") {
      auto value = next(arg);
      if (!value.ok()) return value.status();
      out.overrides.push_back(*value);
    } else if (absl::StartsWith(arg, "-D")) {
      out.overrides.push_back(arg.substr(2));
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown argument '", arg, "'"));
    }
  }
  return out;
}

std::string ResolveConfDir(const CommandLine& command_line) {
  if (!command_line.conf_dir.empty()) return command_line.conf_dir;
  const char* env = std::getenv("SLUICE_CONF_DIR");
  return env != nullptr && *env != '\0' ? env : "conf";
}

absl::StatusOr<Config> LoadConfig(const CommandLine& command_line) {
  return Config::Load(ResolveConfDir(command_line), command_line.overrides);
}

void SetUpLogging(const Config& config, const std::string& name) {
  SetUpLogging(name, config.GetString("log.level"));
}

void SetUpLogging(const std::string& name, const std::string& level) {
  // The log goes to stderr: stdout is what user code and print sinks write
  // (the start scripts send it to the daemon's .out file, as Flink does).
  auto logger = spdlog::stderr_logger_mt(name);
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v");
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

namespace {

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

void PrintUsage(const std::string& name) {
  std::cout << "Usage: " << name << " [--conf-dir DIR] [-D key=value]...\n"
            << "  --conf-dir DIR   directory holding sluice.yaml (default: $SLUICE_CONF_DIR, "
               "else ./conf)\n"
            << "  -D key=value     override a configuration key (see docs/configuration.md)\n";
}

}  // namespace

int RunDaemon(int argc, char** argv, const std::string& name, const DaemonFactory& start) {
  // Block the signals before any thread starts, so every thread inherits the
  // mask and only sigwait() below receives them.
  sigset_t signals = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto command_line = ParseCommandLine(std::vector<std::string>(argv + 1, argv + argc));
  if (!command_line.ok()) {
    std::cerr << name << ": " << command_line.status().message() << "\n";
    PrintUsage(name);
    return 2;
  }
  if (command_line->help) {
    PrintUsage(name);
    return 0;
  }
  auto config = LoadConfig(*command_line);
  if (!config.ok()) {
    std::cerr << name << ": configuration error: " << config.status().message() << "\n";
    return 1;
  }
  SetUpLogging(*config, name);
  for (const auto& warning : config->warnings()) spdlog::warn("{}", warning);
  spdlog::info("Starting {} with configuration {}", name, config->source());

  auto daemon = start(*config);
  if (!daemon.ok()) {
    spdlog::error("{} failed to start: {}", name, daemon.status().ToString());
    return 1;
  }
  int received = 0;
  sigwait(&signals, &received);
  spdlog::info("Received signal {}; shutting down", received);
  (*daemon)->Shutdown();
  daemon->reset();
  spdlog::info("{} stopped", name);
  return 0;
}

}  // namespace sluice
