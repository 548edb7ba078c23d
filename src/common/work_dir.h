// A daemon's scratch directory (job libraries, job processes' sockets): the
// configured one, or /tmp/sluice-<daemon>-<pid>[-<n>]. A default one is removed
// when the daemon stops, and those of daemons that died without stopping
// (kill -9, a crash) are removed when the next one of the kind starts, so
// that /tmp does not fill with libraries of dead daemons. A configured one
// belongs to the user and stays.
#ifndef SLUICE_COMMON_WORK_DIR_H_
#define SLUICE_COMMON_WORK_DIR_H_

#include <string>

namespace sluice {

class WorkDir {
 public:
  // `configured`: the value of <daemon>.work-dir (empty: the default).
  WorkDir(const std::string& configured, const std::string& daemon);
  ~WorkDir();  // removes a default directory
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const std::string& path() const { return path_; }

  // Removes /tmp/sluice-<daemon>-<pid> of every <pid> that no longer runs;
  // returns how many. Public for tests.
  static int RemoveLeftovers(const std::string& daemon, const std::string& parent = "/tmp");

 private:
  std::string path_;
  bool owned_ = false;
};

}  // namespace sluice

#endif  // SLUICE_COMMON_WORK_DIR_H_
