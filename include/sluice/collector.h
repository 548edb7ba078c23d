// Records flow downstream through Collectors: between chained operators as
// objects (a direct call), and into the runtime at the end of a chain.
#ifndef SLUICE_COLLECTOR_H_
#define SLUICE_COLLECTOR_H_

#include <cstdint>
#include <utility>

namespace sluice {

class AnyCollector {
 public:
  virtual ~AnyCollector() = default;
  // No more input will come (a bounded job finishes).
  virtual void EndOfInput() = 0;
};

template <typename T>
class Collector : public AnyCollector {
 public:
  virtual void Collect(T&& record) = 0;
  // A record the caller keeps: copied, unless the collector only reads it
  // and overrides this too.
  virtual void Collect(const T& record) {
    T copy(record);
    Collect(std::move(copy));
  }
};

}  // namespace sluice

#endif  // SLUICE_COLLECTOR_H_
