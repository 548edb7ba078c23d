// A job written against the installed SDK only: a struct of the user's own
// namespace, job arguments, keyed state.
#include <sluice/sluice.h>

namespace user {
struct Square {
  int64_t n = 0;
  int64_t v = 0;  // a field named like the old macro's parameter
};
SLUICE_SERIALIZABLE(Square, n, v);
}  // namespace user

SLUICE_JOB(Squares) {
  auto params = sluice::ParameterTool::FromArgs(args);
  const int64_t last = params.GetLong("last", 10);
  env.Sequence(1, last + 1)
      .Map([](int64_t x) {
        return user::Square{x, x * x};
      })
      .Name("Square")
      .KeyBy([](const user::Square& s) { return s.n; })
      .Reduce([](const user::Square& a, const user::Square&) { return a; })
      .Print([](const user::Square& s) {
        return "(" + std::to_string(s.n) + "," + std::to_string(s.v) + ")";
      });
}
