// Side outputs (Flink's OutputTag): a process function or a window emits
// records of another type, or records it would drop, next to its main
// output; `GetSideOutput(tag)` on the stream it returned reads them.
//
//   const sluice::OutputTag<Reading> late("late-readings");
//   auto averages = readings.KeyBy(...).Window(...).SideOutputLateData(late).Aggregate(...);
//   averages.GetSideOutput(late).WriteAsText(dir + "/late");
//
// A tag is its id: emitting and reading must agree on the type (checked when
// the task starts). Records of a side output that nothing reads are dropped.
#ifndef SLUICE_SIDE_OUTPUT_H_
#define SLUICE_SIDE_OUTPUT_H_

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <utility>

#include "sluice/collector.h"

namespace sluice {

template <typename T>
class OutputTag {
 public:
  using Type = T;
  explicit OutputTag(std::string id) : id_(std::move(id)) {
    if (id_.empty()) throw std::invalid_argument("an OutputTag needs a non-empty id");
  }
  const std::string& id() const { return id_; }

 private:
  std::string id_;
};

namespace internal {

// An operator's side outputs, looked up once per tag through the runtime
// (OperatorContext::side_output).
class SideOutputs {
 public:
  using Lookup = std::function<AnyCollector*(const std::string& tag, const std::string& type)>;
  explicit SideOutputs(Lookup lookup = nullptr) : lookup_(std::move(lookup)) {}

  // The collector of `tag`, or null when nothing reads it.
  template <typename T>
  Collector<T>* Get(const OutputTag<T>& tag) {
    auto it = collectors_.find(tag.id());
    if (it == collectors_.end()) {
      AnyCollector* found = lookup_ ? lookup_(tag.id(), typeid(T).name()) : nullptr;
      it = collectors_.emplace(tag.id(), found).first;
    }
    return static_cast<Collector<T>*>(it->second);
  }
  template <typename T>
  void Emit(const OutputTag<T>& tag, const T& record) {
    if (Collector<T>* out = Get(tag)) out->Collect(record);
  }

 private:
  Lookup lookup_;
  std::map<std::string, AnyCollector*> collectors_;
};

}  // namespace internal
}  // namespace sluice

#endif  // SLUICE_SIDE_OUTPUT_H_
