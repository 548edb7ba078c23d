// The files one subtask of the text file sink writes, committed in two
// phases as by Flink's FileSink, so that with checkpoints every record is in
// the committed files exactly once:
//  - records go to a hidden in-progress file, "<dir>/.part-<subtask>-<epoch>-<token>.inprogress",
//    where <epoch> is one more than the last checkpoint barrier the subtask
//    passed and <token> tells attempts apart;
//  - at a barrier the file is closed and becomes pending for that checkpoint
//    (the subtask's state lists its pending files);
//  - once the checkpoint is complete (or the input ends) pending files are
//    renamed to "<dir>/part-<subtask>-<epoch>", which readers see.
// After a restore the pending files of the restored state are committed (a
// commit done before is not done twice), and in-progress files of earlier
// attempts are deleted: what they hold comes again from the replay. The
// final names do not depend on the attempt, so a replay that commits again
// replaces a file instead of adding one.
#ifndef SLUICE_INTERNAL_PART_FILES_H_
#define SLUICE_INTERNAL_PART_FILES_H_

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "sluice/internal/file_writer.h"
#include "sluice/runtime.h"
#include "sluice/serialization.h"

namespace sluice::internal {

class PartFiles {
 public:
  PartFiles(std::string dir, TaskRuntime* runtime)
      : dir_(std::move(dir)),
        subtask_(runtime->subtask()),
        parallelism_(runtime->parallelism()),
        runtime_(runtime),
        token_(RandomToken()) {
    std::error_code ignored;  // a failure shows when the first file cannot be opened
    std::filesystem::create_directories(dir_, ignored);
  }

  // The in-progress file, opened on first use. Its writes throw at the
  // first failure, with the operating system's reason.
  FileWriter& Current() {
    if (!out_.is_open()) Open();
    return out_;
  }

  // Barrier `checkpoint_id`: the in-progress file becomes pending for it.
  std::string Snapshot(int64_t checkpoint_id) {
    CloseCurrent(checkpoint_id);
    last_barrier_ = checkpoint_id;
    return EncodeState();
  }

  // Checkpoint `checkpoint_id` is complete: commits what was pending for it
  // and for earlier ones.
  void Commit(int64_t checkpoint_id) {
    size_t kept = 0;
    for (auto& file : pending_) {
      if (file.checkpoint_id <= checkpoint_id) {
        Publish(file);
      } else {
        pending_[kept++] = std::move(file);
      }
    }
    pending_.resize(kept);
  }

  // Before the first record: commits the pending files in `states` (saved by
  // the subtasks of checkpoint `checkpoint_id`; each is taken over by one
  // subtask now, as the subtask index modulo the parallelism says), then
  // deletes that subtask's leftover in-progress files.
  void Initialize(int64_t checkpoint_id, const std::vector<std::string>& states) {
    last_barrier_ = checkpoint_id;
    for (const std::string& bytes : states) {
      SavedState saved = DecodeState(bytes);
      if (saved.subtask % parallelism_ != subtask_) continue;
      for (const Pending& file : saved.pending) Publish(file);
    }
    DeleteLeftovers();
  }

  // The input ended: everything written is committed.
  void Finish() {
    if (runtime_->cancelled())
      throw std::runtime_error("the task was cancelled: nothing committed");
    if (!wrote_any_) Open();  // an empty input still leaves its file
    CloseCurrent(last_barrier_ + 1);
    Commit(INT64_MAX);
  }

 private:
  struct Pending {
    int64_t checkpoint_id = 0;
    std::string temp_path;
    std::string final_path;
  };
  struct SavedState {
    int subtask = 0;
    std::vector<Pending> pending;
  };

  static std::string RandomToken() {
    std::random_device random;
    char text[17];
    std::snprintf(text, sizeof(text), "%08x%08x", random(), random());
    return text;
  }

  void Open() {
    const std::string epoch = std::to_string(subtask_) + "-" + std::to_string(last_barrier_ + 1);
    current_.temp_path = dir_ + "/.part-" + epoch + "-" + token_ + ".inprogress";
    current_.final_path = dir_ + "/part-" + epoch;
    out_.Open(current_.temp_path);
    wrote_any_ = true;
  }

  void CloseCurrent(int64_t checkpoint_id) {
    if (!out_.is_open()) return;
    out_.Close();
    current_.checkpoint_id = checkpoint_id;
    pending_.push_back(std::move(current_));
    current_ = Pending();
  }

  // Renames a pending file into place; done already if only the final one is there.
  static void Publish(const Pending& file) {
    if (std::rename(file.temp_path.c_str(), file.final_path.c_str()) == 0) return;
    const int why = errno;
    std::error_code error;
    if (!std::filesystem::exists(file.temp_path, error) &&
        std::filesystem::exists(file.final_path, error)) {
      return;
    }
    throw std::runtime_error("cannot commit " + file.temp_path + " as " + file.final_path + ": " +
                             std::strerror(why));
  }

  // In-progress files of subtasks this one takes over, from earlier attempts.
  void DeleteLeftovers() const {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(dir_, error)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(".part-", 0) != 0 || !name.ends_with(".inprogress")) continue;
      const int owner = std::atoi(name.c_str() + 6);
      if (owner % parallelism_ == subtask_) std::filesystem::remove(entry.path(), error);
    }
  }

  std::string EncodeState() const {
    std::string bytes;
    Writer w(&bytes);
    w.VarUint(static_cast<uint64_t>(subtask_));
    w.VarUint(pending_.size());
    for (const Pending& file : pending_) {
      w.VarUint(static_cast<uint64_t>(file.checkpoint_id));
      Serializer<std::string>::Write(file.temp_path, w);
      Serializer<std::string>::Write(file.final_path, w);
    }
    return bytes;
  }

  static SavedState DecodeState(const std::string& bytes) {
    Reader r(bytes.data(), bytes.size());
    SavedState saved;
    saved.subtask = static_cast<int>(r.VarUint());
    saved.pending.resize(r.Length());
    for (Pending& file : saved.pending) {
      file.checkpoint_id = static_cast<int64_t>(r.VarUint());
      file.temp_path = Serializer<std::string>::Read(r);
      file.final_path = Serializer<std::string>::Read(r);
    }
    if (!r.done()) throw std::runtime_error("the saved state of a file sink has trailing bytes");
    return saved;
  }

  const std::string dir_;
  const int subtask_;
  const int parallelism_;
  TaskRuntime* const runtime_;
  const std::string token_;
  int64_t last_barrier_ = 0;
  bool wrote_any_ = false;
  FileWriter out_;
  Pending current_;
  std::vector<Pending> pending_;
};

}  // namespace sluice::internal

#endif  // SLUICE_INTERNAL_PART_FILES_H_
