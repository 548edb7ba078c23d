#include "engine/checkpoint_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

// Header-only (libxxhash-dev), as in key_groups.cc.
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace sluice::engine {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[4] = {'S', 'L', 'C', 'K'};
// magic, version, kind, body length; then the body and its XXH3-64.
constexpr size_t kHeaderSize = 4 + 4 + 4 + 8;
constexpr size_t kTrailerSize = 8;

template <typename T>
void Put(std::string* out, T value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof(T));
}

template <typename T>
T Get(const std::string& in, size_t at) {
  T value;
  std::memcpy(&value, in.data() + at, sizeof(T));
  return value;
}

absl::Status Errno(const std::string& what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// Writes all of `bytes` to a new file at `path` and syncs it.
absl::Status WriteSynced(const std::string& path, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", path);
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status error = Errno("cannot write", path);
      ::close(fd);
      return error;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    absl::Status error = Errno("cannot sync", path);
    ::close(fd);
    return error;
  }
  if (::close(fd) != 0) return Errno("cannot close", path);
  return absl::OkStatus();
}

void SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

const char* KindName(CheckpointFileKind kind) {
  switch (kind) {
    case CheckpointFileKind::kMetadata:
      return "checkpoint metadata";
    case CheckpointFileKind::kTaskState:
      return "task state";
  }
  return "checkpoint file";
}

}  // namespace

absl::Status WriteCheckpointFile(const std::string& path, CheckpointFileKind kind,
                                 std::string_view body) {
  std::error_code error;
  if (fs::exists(path, error)) {
    return absl::AlreadyExistsError(absl::StrCat(path, " exists already: not overwritten"));
  }
  std::string framed;
  framed.reserve(kHeaderSize + body.size() + kTrailerSize);
  framed.append(kMagic, sizeof(kMagic));
  Put<uint32_t>(&framed, kCheckpointFormatVersion);
  Put<uint32_t>(&framed, static_cast<uint32_t>(kind));
  Put<uint64_t>(&framed, body.size());
  framed.append(body);
  Put<uint64_t>(&framed, XXH3_64bits(body.data(), body.size()));
  static std::atomic<uint64_t> writes{0};
  const std::string temp = absl::StrCat(path, ".inprogress-", getpid(), "-", writes++);
  if (absl::Status written = WriteSynced(temp, framed); !written.ok()) {
    std::remove(temp.c_str());
    return written;
  }
  // link() fails if `path` appeared meanwhile: never overwrite.
  if (::link(temp.c_str(), path.c_str()) != 0) {
    absl::Status failed = errno == EEXIST
                              ? absl::AlreadyExistsError(absl::StrCat(path, " exists already"))
                              : Errno("cannot move into place", path);
    std::remove(temp.c_str());
    return failed;
  }
  std::remove(temp.c_str());
  SyncDirectory(fs::path(path).parent_path().string());
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadCheckpointFile(const std::string& path, CheckpointFileKind kind) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();
  auto corrupt = [&](const std::string& why) {
    return absl::DataLossError(absl::StrCat(KindName(kind), " file ", path, " is ", why));
  };
  if (bytes.size() < kHeaderSize + kTrailerSize) {
    return corrupt(absl::StrCat("truncated (", bytes.size(), " bytes)"));
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return corrupt("not a Sluice checkpoint file (bad magic)");
  }
  if (uint32_t version = Get<uint32_t>(bytes, 4); version != kCheckpointFormatVersion) {
    return corrupt(absl::StrCat("of format version ", version, "; this runtime reads version ",
                                kCheckpointFormatVersion));
  }
  if (Get<uint32_t>(bytes, 8) != static_cast<uint32_t>(kind)) {
    return corrupt(absl::StrCat("not a ", KindName(kind), " file"));
  }
  const uint64_t length = Get<uint64_t>(bytes, 12);
  if (length != bytes.size() - kHeaderSize - kTrailerSize) {
    return corrupt(absl::StrCat("truncated or extended: its header says ", length,
                                " bytes of body, it holds ",
                                bytes.size() - kHeaderSize - kTrailerSize));
  }
  std::string body = bytes.substr(kHeaderSize, length);
  if (XXH3_64bits(body.data(), body.size()) != Get<uint64_t>(bytes, kHeaderSize + length)) {
    return corrupt("corrupt (checksum mismatch)");
  }
  return body;
}

std::string CheckpointDirectory(const std::string& dir, const std::string& job_id, int64_t id) {
  return absl::StrCat(dir, "/", job_id, "/chk-", id);
}

absl::Status CreateCheckpointDirectory(const std::string& dir, const std::string& job_id,
                                       int64_t id) {
  const std::string job_dir = absl::StrCat(dir, "/", job_id);
  for (const std::string& d :
       {CheckpointDirectory(dir, job_id, id), job_dir + "/shared", job_dir + "/taskowned"}) {
    std::error_code error;
    fs::create_directories(d, error);
    if (error)
      return absl::UnavailableError(absl::StrCat("cannot create ", d, ": ", error.message()));
  }
  return absl::OkStatus();
}

absl::Status WriteMetadata(const std::string& checkpoint_dir, const v1::CheckpointMetadata& meta) {
  return WriteCheckpointFile(absl::StrCat(checkpoint_dir, "/", kMetadataFileName),
                             CheckpointFileKind::kMetadata, meta.SerializeAsString());
}

absl::StatusOr<v1::CheckpointMetadata> ReadMetadata(const std::string& checkpoint_dir) {
  const std::string path = absl::StrCat(checkpoint_dir, "/", kMetadataFileName);
  auto body = ReadCheckpointFile(path, CheckpointFileKind::kMetadata);
  if (!body.ok()) return body.status();
  v1::CheckpointMetadata meta;
  if (!meta.ParseFromString(*body)) {
    return absl::DataLossError(absl::StrCat("checkpoint metadata file ", path, " does not parse"));
  }
  return meta;
}

absl::Status DiscardCheckpoint(const std::string& checkpoint_dir) {
  std::error_code error;
  fs::remove_all(checkpoint_dir, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot delete ", checkpoint_dir, ": ", error.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<LatestCheckpoint> FindLatestCheckpoint(const std::string& dir,
                                                      const std::string& job_id) {
  const fs::path job_dir = fs::path(dir) / job_id;
  std::vector<std::pair<int64_t, std::string>> found;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(job_dir, error)) {
    const std::string name = entry.path().filename().string();
    int64_t id = 0;
    if (name.rfind("chk-", 0) == 0 && absl::SimpleAtoi(name.substr(4), &id)) {
      found.emplace_back(id, entry.path().string());
    }
  }
  std::sort(found.rbegin(), found.rend());
  LatestCheckpoint latest;
  for (const auto& [id, path] : found) {
    auto meta = ReadMetadata(path);
    if (meta.ok()) {
      latest.directory = path;
      latest.metadata = *std::move(meta);
      return latest;
    }
    latest.skipped.push_back(absl::StrCat("chk-", id, ": ", meta.status().message()));
  }
  return absl::NotFoundError(absl::StrFormat(
      "no complete checkpoint of job %s under %s%s", job_id, dir,
      latest.skipped.empty() ? "" : absl::StrCat(" (passed over: ", latest.skipped.front(), ")")));
}

}  // namespace sluice::engine
