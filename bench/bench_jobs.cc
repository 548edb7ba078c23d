// The engine benchmark's pipeline as a job library, for runs on a cluster:
// generator -> map -> keyBy -> sum -> discard with ~100-byte records.
#include <string>

#include "examples/args.h"
#include "sluice/sluice.h"

struct BenchEvent {
  std::string key;
  int64_t value = 0;
  std::string payload;
};
SLUICE_SERIALIZABLE(BenchEvent, key, value, payload);

SLUICE_JOB(KeyedPipeline) {
  examples::Args flags(args);
  auto records = static_cast<int64_t>(flags.Number("--records", 10'000'000));
  env.Generate(
         [](int64_t i) {
           return BenchEvent{"key-" + std::to_string(i % 10000), i,
                             std::string(80, static_cast<char>('a' + i % 26))};
         },
         records)
      .Name("Events")
      .Map([](const BenchEvent& e) { return BenchEvent{e.key, e.value * 3 + 1, e.payload}; })
      .KeyBy([](const BenchEvent& e) { return e.key; })
      .Reduce([](const BenchEvent& a, const BenchEvent& b) {
        BenchEvent r = a;
        r.value += b.value;
        return r;
      })
      .Discard();
}
