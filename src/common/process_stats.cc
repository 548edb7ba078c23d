#include "common/process_stats.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace sluice {

ProcessUsage ReadProcessUsage(pid_t pid) {
  const std::string dir = pid == 0 ? "/proc/self" : "/proc/" + std::to_string(pid);
  ProcessUsage usage;
  std::ifstream stat(dir + "/stat");
  std::string line;
  if (std::getline(stat, line)) {
    // Field 2 (comm) may contain spaces; the fields after its ')' are fixed.
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    }
    usage.cpu_seconds =
        static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  std::ifstream statm(dir + "/statm");
  long long size = 0, resident = 0;
  if (statm >> size >> resident) usage.resident_memory_bytes = resident * sysconf(_SC_PAGESIZE);
  return usage;
}

}  // namespace sluice
