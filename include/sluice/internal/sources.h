// Built-in sources. Each runs in small steps (SourceRunner) so its task can
// fire timers, flush buffers and notice cancellation in between. Between two
// steps each reports its position for a checkpoint and continues from one
// after a restore: collections and generators by index, text files by file
// and byte offset. A socket cannot be replayed: a job reading one is
// at-most-once across a restore.
#ifndef SLUICE_SOURCES_H_
#define SLUICE_SOURCES_H_

#include <arpa/inet.h>
#include <glob.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sluice/collector.h"
#include "sluice/internal/graph.h"
#include "sluice/serialization.h"

namespace sluice::internal {

inline constexpr int kRecordsPerStep = 1024;

// Reads a position written with Serialize<T>; false if the bytes do not fit.
template <typename T>
bool ReadPosition(std::string_view bytes, T* out) {
  try {
    Reader r(bytes.data(), bytes.size());
    *out = Serializer<T>::Read(r);
    return r.done();
  } catch (const std::exception&) {
    return false;
  }
}

// Emits the elements of a collection (one subtask emits them all).
template <typename T>
class CollectionSource final : public SourceRunner {
 public:
  CollectionSource(std::shared_ptr<const std::vector<T>> items, Collector<T>* out)
      : items_(std::move(items)), out_(out) {}
  bool Step() override {
    for (int n = 0; n < kRecordsPerStep && next_ < items_->size(); ++n) {
      out_->Collect((*items_)[next_++]);
    }
    return next_ < items_->size();
  }
  std::optional<std::string> SnapshotPosition() const override {
    return Serialize<uint64_t>(next_);
  }
  bool RestorePosition(std::string_view position) override {
    return ReadPosition(position, &next_) && next_ <= items_->size();
  }

 private:
  std::shared_ptr<const std::vector<T>> items_;
  Collector<T>* out_;
  size_t next_ = 0;
};

// Emits f(i) for i = subtask, subtask + parallelism, ... below `count` (or
// forever when count < 0), at most `rate` records per second per subtask
// (0: as fast as downstream takes them).
template <typename T, typename F>
class GeneratorSource final : public SourceRunner {
 public:
  GeneratorSource(F f, int64_t count, double rate, TaskRuntime* runtime, Collector<T>* out)
      : f_(std::move(f)),
        count_(count),
        rate_(rate),
        step_(runtime->parallelism()),
        next_(runtime->subtask()),
        out_(out),
        start_(std::chrono::steady_clock::now()) {}
  bool Step() override {
    int batch = kRecordsPerStep;
    if (rate_ > 0) {
      double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      int64_t allowed = static_cast<int64_t>(elapsed * rate_) - emitted_;
      if (allowed <= 0) {
        // Until the next record is due, but briefly: the task flushes its
        // buffers between steps, and a long nap would delay them.
        double due_in = (static_cast<double>(emitted_ + 1) / rate_) - elapsed;
        std::this_thread::sleep_for(std::chrono::duration<double>(std::min(due_in, 2e-4)));
        return true;
      }
      batch = static_cast<int>(std::min<int64_t>(allowed, kRecordsPerStep));
    }
    for (int n = 0; n < batch; ++n) {
      if (count_ >= 0 && next_ >= count_) return false;
      out_->Collect(f_(next_));
      next_ += step_;
      ++emitted_;
    }
    return count_ < 0 || next_ < count_;
  }
  // The next index; the rate counts again from the restore.
  std::optional<std::string> SnapshotPosition() const override { return Serialize(next_); }
  bool RestorePosition(std::string_view position) override {
    int64_t at = 0;
    if (!ReadPosition(position, &at) || at < 0 || (at - next_) % step_ != 0) {
      return false;  // not one of this subtask's indexes
    }
    next_ = at;
    return true;
  }

 private:
  F f_;
  int64_t count_;
  double rate_;
  int64_t step_;
  int64_t next_;
  int64_t emitted_ = 0;
  Collector<T>* out_;
  std::chrono::steady_clock::time_point start_;
};

// The files a path names: a file, every file of a directory, or a glob.
inline std::vector<std::string> ListInputFiles(const std::string& path) {
  std::vector<std::string> files;
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      if (entry.is_regular_file()) files.push_back(entry.path().string());
    }
  } else if (fs::is_regular_file(path, ec)) {
    files.push_back(path);
  } else {
    glob_t matches{};
    if (glob(path.c_str(), 0, nullptr, &matches) == 0) {
      for (size_t i = 0; i < matches.gl_pathc; ++i) files.push_back(matches.gl_pathv[i]);
    }
    globfree(&matches);
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Lines of text files; subtask i reads every parallelism-th file.
class TextFileSource final : public SourceRunner {
 public:
  TextFileSource(const std::string& path, TaskRuntime* runtime, Collector<std::string>* out)
      : out_(out) {
    auto all = ListInputFiles(path);
    if (all.empty()) throw std::runtime_error("no input files match '" + path + "'");
    for (size_t i = runtime->subtask(); i < all.size(); i += runtime->parallelism()) {
      files_.push_back(all[i]);
    }
  }
  bool Step() override {
    for (int n = 0; n < kRecordsPerStep; ++n) {
      if (!in_.is_open() || in_.eof()) {
        if (next_file_ >= files_.size()) return false;
        in_ = std::ifstream(files_[next_file_++]);
        if (!in_) throw std::runtime_error("cannot read " + files_[next_file_ - 1]);
      }
      std::string line;
      if (std::getline(in_, line)) out_->Collect(std::move(line));
    }
    return true;
  }
  // The file being read (1-based; 0: none yet) and the offset in it.
  std::optional<std::string> SnapshotPosition() const override {
    int64_t offset = 0;
    if (in_.is_open()) {
      auto& in = const_cast<std::ifstream&>(in_);  // tellg() is not const
      offset = in.eof() ? -1 : static_cast<int64_t>(in.tellg());
    }
    return Serialize(std::pair<uint64_t, int64_t>(next_file_, offset));
  }
  bool RestorePosition(std::string_view position) override {
    std::pair<uint64_t, int64_t> at;
    if (!ReadPosition(position, &at) || at.first > files_.size()) return false;
    next_file_ = at.first;
    in_ = std::ifstream();
    if (next_file_ == 0 || at.second < 0) return true;  // none yet, or at the end of one
    in_.open(files_[next_file_ - 1]);
    in_.seekg(at.second);
    return static_cast<bool>(in_);
  }

 private:
  Collector<std::string>* out_;
  std::vector<std::string> files_;
  size_t next_file_ = 0;
  std::ifstream in_;
};

// Lines from a TCP server (like `nc -lk 9999`), until it closes the connection.
class SocketTextSource final : public SourceRunner {
 public:
  SocketTextSource(const std::string& host, int port, Collector<std::string>* out) : out_(out) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) {
      throw std::runtime_error("cannot resolve " + host);
    }
    for (addrinfo* a = found; a != nullptr && fd_ < 0; a = a->ai_next) {
      fd_ = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
      if (fd_ >= 0 && connect(fd_, a->ai_addr, a->ai_addrlen) != 0) {
        close(fd_);
        fd_ = -1;
      }
    }
    freeaddrinfo(found);
    if (fd_ < 0) throw std::runtime_error("cannot connect to " + host + ":" + std::to_string(port));
  }
  ~SocketTextSource() override {
    if (fd_ >= 0) close(fd_);
  }
  bool Step() override {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) return true;  // nothing yet: let the task breathe
    char chunk[4096];
    ssize_t n = read(fd_, chunk, sizeof(chunk));
    if (n <= 0) {
      if (!pending_.empty()) out_->Collect(std::move(pending_));
      return false;
    }
    pending_.append(chunk, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
      out_->Collect(pending_.substr(start, nl - start));
    }
    pending_.erase(0, start);
    return true;
  }

 private:
  Collector<std::string>* out_;
  int fd_ = -1;
  std::string pending_;
};

}  // namespace sluice::internal

#endif  // SLUICE_SOURCES_H_
