// Job libraries kept by the JobManager, once each, by content hash: uploads
// are streamed into a temporary file, checked against the declared size and
// SHA-256, and renamed to <dir>/<sha256>.so. The client's file name is never
// used. TaskManagers fetch them from here.
#ifndef SLUICE_JOBMANAGER_LIBRARY_STORE_H_
#define SLUICE_JOBMANAGER_LIBRARY_STORE_H_

#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/sha256.h"

namespace sluice {

class LibraryStore {
 public:
  // One upload in progress.
  class Upload {
   public:
    ~Upload();  // removes the temporary file unless committed
    // RESOURCE_EXHAUSTED past the store's size limit.
    absl::Status Append(absl::string_view bytes);
    // INVALID_ARGUMENT when size or digest differ from what was declared.
    absl::StatusOr<std::string> Commit(const std::string& sha256, int64_t size);

   private:
    friend class LibraryStore;
    Upload(const LibraryStore* store, std::string temp_path);
    const LibraryStore* store_;
    std::string temp_path_;
    std::ofstream out_;
    Sha256 sha_;
    int64_t size_ = 0;
    bool committed_ = false;
  };

  static absl::StatusOr<std::unique_ptr<LibraryStore>> Create(std::string dir, int64_t max_size);

  std::unique_ptr<Upload> Begin() const;
  // The stored file for a digest, if present.
  std::optional<std::string> PathOf(const std::string& sha256) const;
  int64_t max_size() const { return max_size_; }
  // What became of the job a committed library came with: an accepted job's
  // library stays; a refused job's is removed unless an accepted job or
  // another upload in progress has the same library.
  void Accepted(const std::string& path) const;
  void Refused(const std::string& path) const;

 private:
  LibraryStore(std::string dir, int64_t max_size) : dir_(std::move(dir)), max_size_(max_size) {}
  void Committed(const std::string& path) const;  // until Accepted or Refused
  std::string dir_;
  int64_t max_size_;
  mutable absl::Mutex mu_;
  mutable std::map<std::string, int> deciding_ ABSL_GUARDED_BY(mu_);  // by path
  mutable std::set<std::string> kept_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_LIBRARY_STORE_H_
