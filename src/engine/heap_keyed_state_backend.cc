#include "engine/heap_keyed_state_backend.h"

#include <limits>
#include <stdexcept>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sluice::engine {

// One named state: per key group of the range, key bytes -> value object.
class HeapKeyedStateBackend::Table final : public internal::StateTable {
 public:
  Table(HeapKeyedStateBackend* backend, const internal::StateType& type)
      : backend_(backend), type_(type), groups_(backend->range_.size()) {}
  ~Table() override {
    for (auto& group : groups_) {
      for (auto& [key, value] : group) type_.destroy(value);
    }
  }
  void* Get() override {
    auto& group = groups_[backend_->index()];
    auto it = group.find(backend_->current());
    return it == group.end() ? nullptr : it->second;
  }
  void* GetOrCreate() override {
    auto& group = groups_[backend_->index()];
    auto it = group.find(backend_->current());
    if (it == group.end()) it = group.emplace(backend_->current_key_, type_.create()).first;
    return it->second;
  }
  void Remove() override {
    auto& group = groups_[backend_->index()];
    auto it = group.find(backend_->current());
    if (it == group.end()) return;
    type_.destroy(it->second);
    group.erase(it);
  }
  // Adds a value read from `bytes`; false if they are malformed.
  bool Put(int index, std::string key, std::string_view bytes) {
    void* value = type_.read(bytes);
    if (value == nullptr) return false;
    auto [it, inserted] = groups_[index].try_emplace(std::move(key), value);
    if (!inserted) {
      type_.destroy(it->second);
      it->second = value;
    }
    return true;
  }
  void Write(int index, Writer& w) const {
    const auto& group = groups_[index];
    w.VarUint(group.size());
    std::string value;
    for (const auto& [key, v] : group) {
      Serializer<std::string>::Write(key, w);
      value.clear();
      type_.write(v, &value);
      Serializer<std::string>::Write(value, w);
    }
  }
  size_t size() const {
    size_t n = 0;
    for (const auto& group : groups_) n += group.size();
    return n;
  }

 private:
  HeapKeyedStateBackend* backend_;
  const internal::StateType type_;
  std::vector<Map> groups_;
};

HeapKeyedStateBackend::HeapKeyedStateBackend(int max_parallelism, KeyGroupRange range,
                                             internal::TimerTarget* target)
    : max_parallelism_(max_parallelism),
      range_(range),
      target_(target),
      current_group_(range.start) {}

HeapKeyedStateBackend::~HeapKeyedStateBackend() = default;

void HeapKeyedStateBackend::SetCurrentKey(std::string_view key) {
  current_key_.assign(key.data(), key.size());
  current_hash_ = KeyHash(key);
  current_group_ = KeyGroupOfHash(current_hash_, max_parallelism_);
  // A key outside this subtask's range means the routing and the backend
  // disagree: state written now would be lost on the next restore.
  if (!range_.contains(current_group_)) {
    throw std::logic_error(absl::StrCat("key group ", current_group_, " is outside this subtask's ",
                                        range_.start, "..", range_.end));
  }
}

internal::StateTable* HeapKeyedStateBackend::State(const std::string& name,
                                                   const internal::StateType& type) {
  auto& table = tables_[name];
  if (table) return table.get();
  table = std::make_unique<Table>(this, type);
  if (auto it = pending_.find(name); it != pending_.end()) {
    for (auto& [group, key, value] : it->second) {
      if (!table->Put(group - range_.start, std::move(key), value)) {
        throw std::runtime_error(absl::StrCat("restored state '", name,
                                              "' does not match its type (key group ", group, ")"));
      }
    }
    pending_.erase(it);
  }
  return table.get();
}

void HeapKeyedStateBackend::RegisterProcessingTimeTimer(int64_t timestamp_ms) {
  timers_.Add(timestamp_ms, current_group_, current_key_);
}

void HeapKeyedStateBackend::DeleteProcessingTimeTimer(int64_t timestamp_ms) {
  timers_.Remove(timestamp_ms, current_key_);
}

void HeapKeyedStateBackend::RegisterEventTimeTimer(int64_t timestamp_ms) {
  if (event_target_ == nullptr) {
    event_target_ = dynamic_cast<internal::EventTimeTimerTarget*>(target_);
    if (event_target_ == nullptr) {
      throw std::logic_error("an event-time timer for an operator that cannot receive it");
    }
  }
  event_timers_.Add(timestamp_ms, current_group_, current_key_);
}

void HeapKeyedStateBackend::DeleteEventTimeTimer(int64_t timestamp_ms) {
  event_timers_.Remove(timestamp_ms, current_key_);
}

void HeapKeyedStateBackend::AdvanceWatermark(int64_t watermark) {
  if (watermark <= watermark_) return;
  watermark_ = watermark;
  while (auto timer = event_timers_.PopDue(watermark)) {
    SetKeyOf(*timer);
    event_target_->OnEventTimeTimer(timer->timestamp, current_key_);
  }
}

void HeapKeyedStateBackend::SetKeyOf(const TimerQueue::Timer& timer) {
  current_key_ = timer.key;
  current_hash_ = KeyHash(current_key_);
  current_group_ = timer.key_group;
}

void HeapKeyedStateBackend::FireDueTimers(int64_t now_ms) {
  while (auto timer = timers_.PopDue(now_ms)) {
    SetKeyOf(*timer);
    target_->OnTimer(timer->timestamp, current_key_);
  }
}

void HeapKeyedStateBackend::FireAllTimers() {
  TimerQueue pending;
  std::swap(pending, timers_);
  while (auto timer = pending.PopDue(std::numeric_limits<int64_t>::max())) {
    SetKeyOf(*timer);
    target_->OnTimer(timer->timestamp, current_key_);
  }
  timers_ = TimerQueue();  // registered while firing: dropped (the input has ended)
}

std::optional<int64_t> HeapKeyedStateBackend::next_timer() const { return timers_.next(); }

size_t HeapKeyedStateBackend::size(const std::string& name) const {
  auto it = tables_.find(name);
  return it == tables_.end() ? 0 : it->second->size();
}

absl::StatusOr<std::string> HeapKeyedStateBackend::SnapshotKeyGroup(int key_group) const {
  if (!range_.contains(key_group)) {
    return absl::InvalidArgumentError(
        absl::StrCat("key group ", key_group, " is not in ", range_.start, "..", range_.end));
  }
  std::string out;
  Writer w(&out);
  w.VarUint(tables_.size());
  for (const auto& [name, table] : tables_) {
    Serializer<std::string>::Write(name, w);
    table->Write(key_group - range_.start, w);
  }
  WriteTimers(timers_, key_group, w);
  WriteTimers(event_timers_, key_group, w);
  return out;
}

void HeapKeyedStateBackend::WriteTimers(const TimerQueue& timers, int key_group, Writer& w) {
  const auto of_group = timers.OfKeyGroup(key_group);
  w.VarUint(of_group.size());
  for (const auto& [timestamp, key] : of_group) {
    Serializer<int64_t>::Write(timestamp, w);
    Serializer<std::string>::Write(key, w);
  }
}

void HeapKeyedStateBackend::ReadTimers(Reader& r, int key_group, TimerQueue* timers) {
  for (uint64_t n = r.VarUint(); n > 0; --n) {
    int64_t timestamp = Serializer<int64_t>::Read(r);
    timers->Add(timestamp, key_group, Serializer<std::string>::Read(r));
  }
}

absl::Status HeapKeyedStateBackend::RestoreKeyGroup(int key_group, std::string_view bytes) {
  if (!range_.contains(key_group)) {
    return absl::InvalidArgumentError(
        absl::StrCat("key group ", key_group, " is not in ", range_.start, "..", range_.end));
  }
  try {
    Reader r(bytes.data(), bytes.size());
    for (uint64_t states = r.VarUint(); states > 0; --states) {
      std::string name = Serializer<std::string>::Read(r);
      auto table = tables_.find(name);
      for (uint64_t n = r.VarUint(); n > 0; --n) {
        std::string key = Serializer<std::string>::Read(r);
        std::string value = Serializer<std::string>::Read(r);
        if (table == tables_.end()) {
          pending_[name].emplace_back(key_group, std::move(key), std::move(value));
        } else if (!table->second->Put(key_group - range_.start, std::move(key), value)) {
          return absl::DataLossError(absl::StrCat("state '", name, "' of key group ", key_group,
                                                  " holds a malformed value"));
        }
      }
    }
    ReadTimers(r, key_group, &timers_);
    // Snapshots taken before event time existed end here.
    if (!r.done()) ReadTimers(r, key_group, &event_timers_);
    if (!event_timers_.empty() && event_target_ == nullptr) {
      event_target_ = dynamic_cast<internal::EventTimeTimerTarget*>(target_);
      if (event_target_ == nullptr) {
        return absl::DataLossError("event-time timers restored for an operator without them");
      }
    }
    if (!r.done()) return absl::DataLossError("trailing bytes after the key group's state");
  } catch (const std::runtime_error& e) {
    return absl::DataLossError(absl::StrCat("key group ", key_group, ": ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace sluice::engine
