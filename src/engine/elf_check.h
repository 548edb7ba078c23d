// Checks that a file is a whole ELF shared object for this machine before it
// is handed to dlopen(): dlopen() maps a truncated file and the process dies
// of SIGBUS when the loader touches the missing pages, before any error can
// be reported. The check reads the headers and verifies that every segment
// and the section table lie inside the file.
#ifndef SLUICE_ENGINE_ELF_CHECK_H_
#define SLUICE_ENGINE_ELF_CHECK_H_

#include <string>

#include "absl/status/status.h"

namespace sluice::engine {

// OK, or INVALID_ARGUMENT naming `path` and what is wrong with it.
absl::Status CheckSharedObjectFile(const std::string& path);

}  // namespace sluice::engine

#endif  // SLUICE_ENGINE_ELF_CHECK_H_
