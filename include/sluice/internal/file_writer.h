// A buffered writer to one file that reports every failed write at once with
// the operating system's reason (a full disk is ENOSPC on the first write
// that does not fit), instead of std::ofstream's silent failbit.
#ifndef SLUICE_INTERNAL_FILE_WRITER_H_
#define SLUICE_INTERNAL_FILE_WRITER_H_

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sluice::internal {

class FileWriter {
 public:
  static constexpr size_t kBufferBytes = 64 * 1024;

  FileWriter() = default;
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;
  ~FileWriter() {
    if (fd_ >= 0) ::close(fd_);
  }

  // Creates or truncates `path`; throws naming it and why not.
  void Open(const std::string& path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) Fail("cannot create");
    path_ = path;
  }
  bool is_open() const { return fd_ >= 0; }

  void Append(std::string_view bytes) {
    if (buffer_.size() + bytes.size() > kBufferBytes) Flush();
    if (bytes.size() >= kBufferBytes) {
      WriteAll(bytes);
    } else {
      buffer_.append(bytes);
    }
  }

  // Writes what is buffered and closes the file; throws if any of it failed.
  void Close() {
    Flush();
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) Fail("cannot write");
  }

 private:
  void Flush() {
    WriteAll(buffer_);
    buffer_.clear();
  }

  void WriteAll(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) Fail("cannot write");
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }

  [[noreturn]] void Fail(const char* what) const {
    throw std::runtime_error(std::string(what) + " " + path_ + ": " + std::strerror(errno));
  }

  int fd_ = -1;
  std::string path_;
  std::string buffer_;
};

}  // namespace sluice::internal

#endif  // SLUICE_INTERNAL_FILE_WRITER_H_
