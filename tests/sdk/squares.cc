// A job written against the installed SDK only.
#include <sluice/sluice.h>

SLUICE_JOB(Squares) {
  env.Sequence(1, 11)
      .Map([](int64_t x) { return std::make_pair(x, x * x); })
      .Name("Square")
      .Print();
}
