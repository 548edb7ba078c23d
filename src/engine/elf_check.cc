#include "engine/elf_check.h"

#include <elf.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"

namespace sluice::engine {
namespace {

#if defined(__x86_64__)
constexpr int kMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr int kMachine = EM_AARCH64;
#else
#error "add this machine's ELF e_machine value"
#endif

absl::Status Refuse(const std::string& path, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("cannot load job library '", path, "': ", why));
}

bool Inside(uint64_t offset, uint64_t size, uint64_t file_size) {
  return offset <= file_size && size <= file_size - offset;
}

}  // namespace

absl::Status CheckSharedObjectFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return Refuse(path, absl::StrCat("cannot open it: ", std::strerror(errno)));
  const auto end = in.tellg();
  if (end < 0) return Refuse(path, "cannot read it (is it a directory?)");
  const uint64_t file_size = static_cast<uint64_t>(end);
  Elf64_Ehdr header{};
  in.seekg(0);
  if (file_size < sizeof header || !in.read(reinterpret_cast<char*>(&header), sizeof header)) {
    return Refuse(path, absl::StrCat("it is only ", file_size, " bytes long"));
  }
  if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0) {
    return Refuse(path, "it is not an ELF file (no ELF magic number)");
  }
  if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB ||
      header.e_machine != kMachine) {
    return Refuse(path, "it is an ELF file for another machine");
  }
  if (header.e_type != ET_DYN) {
    return Refuse(path, "it is an ELF file but not a shared object (build it with SHARED)");
  }
  if (header.e_phentsize != sizeof(Elf64_Phdr) ||
      !Inside(header.e_phoff, uint64_t{header.e_phnum} * sizeof(Elf64_Phdr), file_size)) {
    return Refuse(path, absl::StrCat("its program headers lie outside its ", file_size,
                                     " bytes: the file is truncated or corrupt"));
  }
  if (header.e_shnum > 0 &&
      (header.e_shentsize != sizeof(Elf64_Shdr) ||
       !Inside(header.e_shoff, uint64_t{header.e_shnum} * sizeof(Elf64_Shdr), file_size))) {
    return Refuse(path, absl::StrCat("its section headers lie outside its ", file_size,
                                     " bytes: the file is truncated or corrupt"));
  }
  std::vector<Elf64_Phdr> segments(header.e_phnum);
  in.seekg(static_cast<std::streamoff>(header.e_phoff));
  if (!in.read(reinterpret_cast<char*>(segments.data()),
               static_cast<std::streamsize>(segments.size() * sizeof(Elf64_Phdr)))) {
    return Refuse(path, "its program headers cannot be read");
  }
  for (const auto& segment : segments) {
    if (segment.p_type == PT_INTERP) {
      return Refuse(path, "it is a program, not a shared object (build it with SHARED)");
    }
    if (segment.p_type != PT_LOAD && segment.p_type != PT_DYNAMIC) continue;
    if (!Inside(segment.p_offset, segment.p_filesz, file_size)) {
      return Refuse(path,
                    absl::StrCat("a segment ends at byte ", segment.p_offset + segment.p_filesz,
                                 " of a ", file_size, "-byte file: the file is truncated"));
    }
  }
  return absl::OkStatus();
}

}  // namespace sluice::engine
