// What the current process uses, read from /proc.
#ifndef SLUICE_COMMON_PROCESS_STATS_H_
#define SLUICE_COMMON_PROCESS_STATS_H_

#include <sys/types.h>

#include <cstdint>

namespace sluice {

struct ProcessUsage {
  double cpu_seconds = 0;  // user + system time since start
  int64_t resident_memory_bytes = 0;
};

// Usage of process `pid` (0: this process); zeros when it cannot be read.
ProcessUsage ReadProcessUsage(pid_t pid = 0);

}  // namespace sluice

#endif  // SLUICE_COMMON_PROCESS_STATS_H_
