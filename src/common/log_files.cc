#include "common/log_files.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

int64_t UnixMillis(fs::file_time_type time) {
  const auto system = std::chrono::file_clock::to_sys(time);
  return std::chrono::duration_cast<std::chrono::milliseconds>(system.time_since_epoch()).count();
}

// The regular file that file descriptor `fd` of this process writes, if any.
fs::path FileOfDescriptor(int fd) {
  std::error_code error;
  const fs::path target = fs::read_symlink(absl::StrCat("/proc/self/fd/", fd), error);
  if (error || !fs::is_regular_file(target, error)) return {};
  return target;
}

}  // namespace

std::vector<LogFile> ListLogFiles(const LogLocation& where) {
  std::vector<LogFile> files;
  if (where.dir.empty()) return files;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(where.dir, error)) {
    std::error_code stat_error;
    if (!entry.is_regular_file(stat_error)) continue;
    std::string name = entry.path().filename().string();
    if (!absl::StartsWith(name, where.prefix)) continue;
    const auto size = entry.file_size(stat_error);
    const auto modified = entry.last_write_time(stat_error);
    files.push_back({std::move(name), stat_error ? 0 : static_cast<int64_t>(size),
                     stat_error ? 0 : UnixMillis(modified)});
  }
  std::sort(files.begin(), files.end(),
            [](const LogFile& a, const LogFile& b) { return a.name < b.name; });
  return files;
}

absl::StatusOr<std::string> ReadLogTail(const LogLocation& where, const std::string& name,
                                        int64_t max_bytes) {
  for (const LogFile& file : ListLogFiles(where)) {
    if (file.name != name) continue;
    std::ifstream in(fs::path(where.dir) / file.name, std::ios::binary);
    if (!in) break;
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    in.seekg(std::max<std::streamoff>(0, size - max_bytes));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  return absl::NotFoundError(absl::StrCat("No log file named '", name, "'"));
}

OwnLogs FindOwnLogs() {
  OwnLogs own;
  const fs::path log = FileOfDescriptor(2), out = FileOfDescriptor(1);
  const fs::path& any = log.empty() ? out : log;
  if (any.empty()) return own;
  own.where.dir = any.parent_path().string();
  // sluice-taskmanager-0-host.log -> "sluice-taskmanager-0-host.": its .log,
  // .out and their rotated files, not another instance's.
  own.where.prefix = absl::StrCat(any.stem().string(), ".");
  for (const auto& [file, name] : {std::pair{&log, &own.log}, std::pair{&out, &own.out}}) {
    if (file->parent_path() == any.parent_path() &&
        absl::StartsWith(file->filename().string(), own.where.prefix)) {
      *name = file->filename().string();
    }
  }
  return own;
}

}  // namespace sluice
