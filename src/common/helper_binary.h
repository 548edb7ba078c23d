// Where a helper executable a daemon starts lives (sluice-graph-builder,
// sluice-job-process): next to the daemon's own executable, as installed,
// else in the build tree's bin directory (tests run from elsewhere).
#ifndef SLUICE_COMMON_HELPER_BINARY_H_
#define SLUICE_COMMON_HELPER_BINARY_H_

#include <filesystem>
#include <string>

namespace sluice {

inline std::string HelperBinaryPath(const std::string& name, const std::string& build_bin_dir) {
  std::error_code error;
  auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    auto beside = self.parent_path() / name;
    if (std::filesystem::exists(beside, error)) return beside.string();
  }
  return build_bin_dir + "/" + name;
}

}  // namespace sluice

#endif  // SLUICE_COMMON_HELPER_BINARY_H_
