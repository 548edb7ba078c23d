#include "common/work_dir.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace sluice {

WorkDir::WorkDir(const std::string& configured, const std::string& daemon) {
  if (!configured.empty()) {
    path_ = configured;
    return;
  }
  RemoveLeftovers(daemon);
  // Several daemons of a kind in one process (tests) get one each.
  static std::atomic<int> instances{0};
  const int instance = instances++;
  path_ = absl::StrCat("/tmp/sluice-", daemon, "-", getpid(),
                       instance == 0 ? "" : absl::StrCat("-", instance));
  owned_ = true;
}

WorkDir::~WorkDir() {
  if (!owned_) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

int WorkDir::RemoveLeftovers(const std::string& daemon, const std::string& parent) {
  const std::string prefix = absl::StrCat("sluice-", daemon, "-");
  int removed = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(parent, error)) {
    const std::string name = entry.path().filename().string();
    int pid = 0;
    if (!absl::StartsWith(name, prefix)) continue;
    const std::string rest = name.substr(prefix.size());
    if (!absl::SimpleAtoi(rest.substr(0, rest.find('-')), &pid) || pid <= 0 || pid == getpid()) {
      continue;
    }
    if (kill(pid, 0) == 0 || errno != ESRCH) continue;  // it runs (or is not ours to judge)
    std::error_code ignored;
    if (std::filesystem::remove_all(entry.path(), ignored) > 0) {
      spdlog::info("Removed {}, the work directory of a {} that is gone", entry.path().string(),
                   daemon);
      ++removed;
    }
  }
  return removed;
}

}  // namespace sluice
