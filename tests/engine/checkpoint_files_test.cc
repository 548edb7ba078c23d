// Checkpoint files: written whole or not at all, never overwritten, and a
// truncated, corrupt or foreign file is detected naming the file.
#include "engine/checkpoint_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace sluice::engine {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class CheckpointFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "/checkpoint_files_test-", getpid(), "-",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static void Overwrite(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }
  static v1::CheckpointMetadata Metadata(int64_t id) {
    v1::CheckpointMetadata meta;
    meta.set_job_id("job-1");
    meta.set_checkpoint_id(id);
    auto* state = meta.add_states();
    state->set_vertex(1);
    state->set_inline_bytes("state of checkpoint " + std::to_string(id));
    return meta;
  }
  std::string Checkpoint(int64_t id) {
    EXPECT_TRUE(CreateCheckpointDirectory(dir_, "job-1", id).ok());
    std::string chk = CheckpointDirectory(dir_, "job-1", id);
    EXPECT_TRUE(WriteMetadata(chk, Metadata(id)).ok());
    return chk;
  }

  std::string dir_;
};

TEST_F(CheckpointFilesTest, AFileReadsBackAsWrittenAndIsNeverOverwritten) {
  const std::string path = dir_ + "/state";
  ASSERT_TRUE(WriteCheckpointFile(path, CheckpointFileKind::kTaskState, "key group 7").ok());
  auto body = ReadCheckpointFile(path, CheckpointFileKind::kTaskState);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, "key group 7");
  EXPECT_EQ(WriteCheckpointFile(path, CheckpointFileKind::kTaskState, "other").code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*ReadCheckpointFile(path, CheckpointFileKind::kTaskState), "key group 7");
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename(), "state") << "no temporary file is left";
  }
}

TEST_F(CheckpointFilesTest, TruncatedCorruptAndForeignFilesAreDetectedNamingTheFile) {
  const std::string path = dir_ + "/state";
  ASSERT_TRUE(WriteCheckpointFile(path, CheckpointFileKind::kTaskState, "0123456789abcdef").ok());
  const std::string good = Read(path);

  Overwrite(path, good.substr(0, good.size() - 3));
  auto truncated = ReadCheckpointFile(path, CheckpointFileKind::kTaskState);
  EXPECT_EQ(truncated.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(truncated.status().message()),
              AllOf(HasSubstr(path), HasSubstr("truncated")));

  std::string flipped = good;
  flipped[25] ^= 0x01;  // a byte of the body
  Overwrite(path, flipped);
  EXPECT_THAT(
      std::string(ReadCheckpointFile(path, CheckpointFileKind::kTaskState).status().message()),
      HasSubstr("checksum mismatch"));

  Overwrite(path, "PK\x03\x04 not ours at all, but long enough");
  EXPECT_THAT(
      std::string(ReadCheckpointFile(path, CheckpointFileKind::kTaskState).status().message()),
      HasSubstr("bad magic"));

  Overwrite(path, good);
  EXPECT_THAT(
      std::string(ReadCheckpointFile(path, CheckpointFileKind::kMetadata).status().message()),
      HasSubstr("not a checkpoint metadata file"));

  std::string future = good;
  future[4] = 9;  // format version 9
  Overwrite(path, future);
  EXPECT_THAT(
      std::string(ReadCheckpointFile(path, CheckpointFileKind::kTaskState).status().message()),
      HasSubstr("format version 9"));
}

TEST_F(CheckpointFilesTest, TheLatestCompleteCheckpointIsFoundPassingOverBrokenOnes) {
  Checkpoint(1);
  Checkpoint(2);
  const std::string third = Checkpoint(3);
  // chk-4 never completed (no metadata); chk-3's metadata is cut short.
  ASSERT_TRUE(CreateCheckpointDirectory(dir_, "job-1", 4).ok());
  const std::string meta = third + "/" + kMetadataFileName;
  const std::string bytes = Read(meta);
  Overwrite(meta, bytes.substr(0, bytes.size() / 2));

  auto latest = FindLatestCheckpoint(dir_, "job-1");
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->metadata.checkpoint_id(), 2);
  EXPECT_EQ(latest->metadata.states(0).inline_bytes(), "state of checkpoint 2");
  ASSERT_EQ(latest->skipped.size(), 2u);
  EXPECT_THAT(latest->skipped[0], HasSubstr("chk-4"));
  EXPECT_THAT(latest->skipped[1], AllOf(HasSubstr("chk-3"), HasSubstr("truncated")));
  EXPECT_TRUE(fs::exists(dir_ + "/job-1/shared"));
  EXPECT_TRUE(fs::exists(dir_ + "/job-1/taskowned"));

  ASSERT_TRUE(DiscardCheckpoint(CheckpointDirectory(dir_, "job-1", 2)).ok());
  ASSERT_TRUE(DiscardCheckpoint(CheckpointDirectory(dir_, "job-1", 1)).ok());
  auto none = FindLatestCheckpoint(dir_, "job-1");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("job-1"));
}

TEST_F(CheckpointFilesTest, AWriteThatCannotHappenIsAnErrorAndLeavesNothing) {
  const std::string file = dir_ + "/a-file";
  std::ofstream(file) << "x";
  auto status = WriteCheckpointFile(file + "/state", CheckpointFileKind::kTaskState, "body");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(status.message()), HasSubstr(file + "/state"));
  EXPECT_FALSE(CreateCheckpointDirectory(file, "job-1", 1).ok());
}

}  // namespace
}  // namespace sluice::engine
