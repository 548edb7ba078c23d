#include "jobmanager/library_store.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/config/value_parsers.h"
#include "common/sha256.h"

namespace sluice {
namespace fs = std::filesystem;

absl::StatusOr<std::unique_ptr<LibraryStore>> LibraryStore::Create(std::string dir,
                                                                   int64_t max_size) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot create the library directory ", dir, ": ", error.message()));
  }
  return std::unique_ptr<LibraryStore>(new LibraryStore(std::move(dir), max_size));
}

std::unique_ptr<LibraryStore::Upload> LibraryStore::Begin() const {
  static std::atomic<int64_t> counter{0};
  std::string temp = absl::StrCat(dir_, "/.upload-", getpid(), "-", counter++);
  return std::unique_ptr<Upload>(new Upload(this, std::move(temp)));
}

std::optional<std::string> LibraryStore::PathOf(const std::string& sha256) const {
  if (!Sha256::IsHexDigest(sha256)) return std::nullopt;  // never a path from outside input
  std::string path = absl::StrCat(dir_, "/", sha256, ".so");
  std::error_code error;
  if (!fs::is_regular_file(path, error)) return std::nullopt;
  // A stored file that no longer has its digest (a disk error, a hand edit)
  // is not that library: it is dropped and must be uploaded again.
  if (Sha256::OfFile(path) != sha256) {
    fs::remove(path, error);
    return std::nullopt;
  }
  return path;
}

LibraryStore::Upload::Upload(const LibraryStore* store, std::string temp_path)
    : store_(store), temp_path_(std::move(temp_path)), out_(temp_path_, std::ios::binary) {}

LibraryStore::Upload::~Upload() {
  if (!committed_) std::remove(temp_path_.c_str());
}

absl::Status LibraryStore::Upload::Append(absl::string_view bytes) {
  size_ += static_cast<int64_t>(bytes.size());
  if (size_ > store_->max_size_) {
    return absl::ResourceExhaustedError(absl::StrCat("the job library exceeds the limit of ",
                                                     FormatBytes(store_->max_size_),
                                                     " (jobmanager.library.max-size)"));
  }
  out_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  sha_.Update(bytes);
  if (!out_) return absl::UnavailableError("cannot write the uploaded library to disk");
  return absl::OkStatus();
}

absl::StatusOr<std::string> LibraryStore::Upload::Commit(const std::string& sha256, int64_t size) {
  out_.close();
  if (size != size_) {
    return absl::InvalidArgumentError(absl::StrCat("the job library arrived with ", size_,
                                                   " bytes but ", size, " were declared"));
  }
  std::string actual = sha_.HexDigest();
  if (sha256 != actual) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the job library failed its digest check: declared sha256 ", sha256, ", got ", actual));
  }
  std::string path = absl::StrCat(store_->dir_, "/", actual, ".so");
  if (std::rename(temp_path_.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot store the job library at ", path));
  }
  committed_ = true;
  store_->Committed(path);
  return path;
}

void LibraryStore::Committed(const std::string& path) const {
  absl::MutexLock lock(&mu_);
  ++deciding_[path];
}

void LibraryStore::Accepted(const std::string& path) const {
  absl::MutexLock lock(&mu_);
  kept_.insert(path);
  if (--deciding_[path] <= 0) deciding_.erase(path);
}

void LibraryStore::Refused(const std::string& path) const {
  absl::MutexLock lock(&mu_);
  if (--deciding_[path] > 0) return;  // another upload of it is being decided
  deciding_.erase(path);
  if (kept_.count(path) > 0) return;
  std::error_code ignored;
  fs::remove(path, ignored);
}

}  // namespace sluice
