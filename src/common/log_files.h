// A daemon's log files, for REST and RPC: listed from their directory and
// served only by a name from that listing, never by joining a name to a
// path, so `..`, `%2e%2e`, `..%2f` and the double-encoded `..%252f` (Flink's
// CVE-2020-17519) find nothing.
#ifndef SLUICE_COMMON_LOG_FILES_H_
#define SLUICE_COMMON_LOG_FILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sluice {

struct LogFile {
  std::string name;
  int64_t size = 0;
  int64_t modified_ms = 0;  // Unix time
};

// Where a daemon's logs are: a directory and the prefix of its files' names
// (empty: every regular file there).
struct LogLocation {
  std::string dir;
  std::string prefix;
};

// The regular files of the location, by name.
std::vector<LogFile> ListLogFiles(const LogLocation& where);

// At most the last `max_bytes` of the listed file `name`; NOT_FOUND for any
// name the listing does not hold.
absl::StatusOr<std::string> ReadLogTail(const LogLocation& where, const std::string& name,
                                        int64_t max_bytes);

// This process's own files: the start scripts send its stderr (the log) to
// sluice-<daemon>-<n>-<host>.log and its stdout to the .out beside it, with
// rotated ones as .log.1 …; the location holds those. `log` and `out` are the
// current files' names (empty where that stream is not a regular file).
struct OwnLogs {
  LogLocation where;
  std::string log;
  std::string out;
};
OwnLogs FindOwnLogs();

}  // namespace sluice

#endif  // SLUICE_COMMON_LOG_FILES_H_
