// The file sink's two-phase commit, one subtask at a time, against a real
// directory: what readers see after barriers, completions, restores at
// another parallelism and a cancelled end.
#include "sluice/internal/part_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace sluice::internal {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

class FakeRuntime final : public TaskRuntime {
 public:
  FakeRuntime(int subtask, int parallelism) : subtask_(subtask), parallelism_(parallelism) {}
  int subtask() const override { return subtask_; }
  int parallelism() const override { return parallelism_; }
  int max_parallelism() const override { return 128; }
  const std::string& task_name() const override { return name_; }
  int64_t NowMs() const override { return 0; }
  bool cancelled() const override { return cancelled_; }
  std::ostream& out() override { return out_; }
  bool cancelled_ = false;

 private:
  int subtask_, parallelism_;
  std::string name_ = "sink";
  std::ostringstream out_;
};

class PartFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
  }
  // Committed files and their contents, as a reader sees them.
  std::map<std::string, std::string> Committed() const {
    std::map<std::string, std::string> files;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      const std::string name = entry.path().filename().string();
      if (name.front() == '.') continue;
      std::ifstream in(entry.path());
      files[name] = std::string(std::istreambuf_iterator<char>(in), {});
    }
    return files;
  }
  int Hidden() const {
    int n = 0;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      n += entry.path().filename().string().front() == '.';
    }
    return n;
  }
  fs::path dir_;
};

TEST_F(PartFilesTest, AFileIsCommittedOnlyOnceItsCheckpointCompletes) {
  FakeRuntime runtime(0, 1);
  PartFiles files(dir_.string(), &runtime);
  files.Initialize(0, {});
  files.Current().Append("a\n");
  files.Snapshot(1);
  files.Current().Append("b\n");
  EXPECT_THAT(Committed(), IsEmpty()) << "checkpoint 1 is not complete yet";
  files.Snapshot(2);
  files.Commit(1);
  EXPECT_THAT(Committed(),
              ElementsAre(std::pair<const std::string, std::string>("part-0-1", "a\n")));
  files.Commit(2);
  EXPECT_EQ(Committed().at("part-0-2"), "b\n");
  files.Current().Append("c\n");
  files.Finish();
  EXPECT_EQ(Committed().at("part-0-3"), "c\n");
  EXPECT_EQ(Hidden(), 0);
}

TEST_F(PartFilesTest, ARestoreCommitsWhatTheCheckpointHadPendingAndDropsWhatCameAfter) {
  std::string saved;
  {
    FakeRuntime runtime(0, 1);
    PartFiles files(dir_.string(), &runtime);
    files.Initialize(0, {});
    files.Current().Append("before\n");
    saved = files.Snapshot(1);  // checkpoint 1 completes, but its notification is lost
    files.Current().Append("after\n");
    files.Snapshot(2);  // never completes
    files.Current().Append("later\n");
  }  // the attempt dies
  EXPECT_THAT(Committed(), IsEmpty());
  FakeRuntime runtime(0, 1);
  PartFiles files(dir_.string(), &runtime);
  files.Initialize(1, {saved});
  EXPECT_EQ(Committed().at("part-0-1"), "before\n");
  EXPECT_EQ(Hidden(), 0) << "in-progress files of the dead attempt are deleted";
  files.Initialize(1, {saved});  // committing again (another restore) changes nothing
  files.Current().Append("replayed\n");
  files.Finish();
  EXPECT_THAT(
      Committed(),
      UnorderedElementsAre(std::pair<const std::string, std::string>("part-0-1", "before\n"),
                           std::pair<const std::string, std::string>("part-0-2", "replayed\n")));
}

TEST_F(PartFilesTest, AtLowerParallelismEachOldSubtasksFilesHaveOneNewOwner) {
  std::vector<std::string> states;
  for (int s = 0; s < 3; ++s) {
    FakeRuntime runtime(s, 3);
    PartFiles files(dir_.string(), &runtime);
    files.Initialize(0, {});
    files.Current().Append("from " + std::to_string(s) + "\n");
    states.push_back(files.Snapshot(4));
    files.Current().Append("uncommitted\n");
    files.Snapshot(5);
  }
  FakeRuntime zero(0, 2), one(1, 2);
  PartFiles a(dir_.string(), &zero), b(dir_.string(), &one);
  a.Initialize(4, states);
  EXPECT_THAT(Committed(), UnorderedElementsAre(
                               std::pair<const std::string, std::string>("part-0-1", "from 0\n"),
                               std::pair<const std::string, std::string>("part-2-1", "from 2\n")));
  b.Initialize(4, states);
  EXPECT_EQ(Committed().size(), 3u);
  EXPECT_EQ(Committed().at("part-1-1"), "from 1\n");
  EXPECT_EQ(Hidden(), 0);
}

TEST_F(PartFilesTest, ACancelledTaskCommitsNothingAtTheEnd) {
  FakeRuntime runtime(0, 1);
  PartFiles files(dir_.string(), &runtime);
  files.Initialize(0, {});
  files.Current().Append("x\n");
  runtime.cancelled_ = true;
  EXPECT_THROW(files.Finish(), std::runtime_error);
  EXPECT_THAT(Committed(), IsEmpty());
}

TEST_F(PartFilesTest, MalformedSavedStateIsAnErrorNotASilentSkip) {
  FakeRuntime runtime(0, 1);
  PartFiles files(dir_.string(), &runtime);
  EXPECT_THROW(files.Initialize(1, {std::string("\x01\x05", 2)}), std::runtime_error);
}

TEST_F(PartFilesTest, APendingFileThatVanishedFailsTheCommitNamingIt) {
  FakeRuntime runtime(0, 1);
  PartFiles files(dir_.string(), &runtime);
  files.Initialize(0, {});
  files.Current().Append("x\n");
  files.Snapshot(1);
  for (const auto& entry : fs::directory_iterator(dir_)) fs::remove(entry.path());
  try {
    files.Commit(1);
    FAIL() << "the commit of a file that is gone succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("part-0-1"));
  }
}

}  // namespace
}  // namespace sluice::internal
