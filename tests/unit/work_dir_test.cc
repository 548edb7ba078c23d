// Daemons' scratch directories: removed when the daemon stops, and those of
// daemons that died are removed by the next one; configured ones stay.
#include "common/work_dir.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

// The pid of a process that has ended and been reaped.
int DeadPid() {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  return pid;
}

TEST(WorkDirTest, LeftoversOfDeadDaemonsAreRemovedAndLiveOnesKept) {
  char pattern[] = "/tmp/sluice-work-dir-test-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const fs::path parent = pattern;
  const fs::path dead = parent / absl::StrCat("sluice-tester-", DeadPid());
  const fs::path dead_second = parent / absl::StrCat("sluice-tester-", DeadPid(), "-2");
  const fs::path alive = parent / absl::StrCat("sluice-tester-", getppid());
  const fs::path other = parent / "sluice-tester-notapid";
  const fs::path other_kind = parent / absl::StrCat("sluice-other-", DeadPid());
  for (const auto& dir : {dead, dead_second, alive, other, other_kind}) {
    fs::create_directories(dir / "libraries");
    std::ofstream(dir / "libraries" / "lib.so") << "x";
  }
  EXPECT_EQ(WorkDir::RemoveLeftovers("tester", parent.string()), 2);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_FALSE(fs::exists(dead_second));
  EXPECT_TRUE(fs::exists(alive / "libraries" / "lib.so"));
  EXPECT_TRUE(fs::exists(other));
  EXPECT_TRUE(fs::exists(other_kind));
  fs::remove_all(parent);
}

TEST(WorkDirTest, ADefaultDirectoryGoesWithItsDaemonAndAConfiguredOneStays) {
  std::string default_path;
  {
    WorkDir dir("", "work-dir-test");
    default_path = dir.path();
    EXPECT_EQ(default_path.rfind(absl::StrCat("/tmp/sluice-work-dir-test-", getpid()), 0), 0u);
    fs::create_directories(fs::path(default_path) / "libraries");
  }
  EXPECT_FALSE(fs::exists(default_path));
  char pattern[] = "/tmp/sluice-configured-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  { WorkDir dir(pattern, "work-dir-test"); }
  EXPECT_TRUE(fs::exists(pattern));
  fs::remove_all(pattern);
}

}  // namespace
}  // namespace sluice
