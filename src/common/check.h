// SLUICE_CHECK: a broken invariant is a bug; crash with a message, in every
// build type (unlike assert).
#ifndef SLUICE_COMMON_CHECK_H_
#define SLUICE_COMMON_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define SLUICE_CHECK(condition, message)                                                      \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "Check failed at %s:%d: %s: %s\n", __FILE__, __LINE__, #condition, \
                   message);                                                                  \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)

#endif  // SLUICE_COMMON_CHECK_H_
