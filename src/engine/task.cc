#include "engine/task.h"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <streambuf>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "spdlog/spdlog.h"

namespace sluice::engine {

namespace {
thread_local const Task* current_task = nullptr;
}  // namespace

const Task* CurrentTask() { return current_task; }

// Collects a task's printed text and hands out whole lines, so lines of
// different subtasks never interleave.
class Task::LineBuffer final : public std::streambuf {
 public:
  explicit LineBuffer(JobContext* job) : job_(job) {}

 protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) return 0;
    line_.push_back(static_cast<char>(c));
    if (c == '\n') Emit();
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    for (std::streamsize i = 0; i < n; ++i) overflow(static_cast<unsigned char>(s[i]));
    return n;
  }
  int sync() override {
    if (!line_.empty()) Emit();
    return 0;
  }

 private:
  void Emit() {
    std::lock_guard<std::mutex> lock(job_->print_mu);
    *job_->print_out << line_;
    job_->print_out->flush();
    line_.clear();
  }
  JobContext* job_;
  std::string line_;
};

Task::Task(const JobGraph& graph, const JobVertex& vertex, int subtask, JobContext* job)
    : graph_(graph),
      vertex_(vertex),
      subtask_(subtask),
      job_(job),
      name_(absl::StrCat(vertex.name, " (", subtask + 1, "/", vertex.parallelism, ")")),
      gate_(job->buffers_per_channel, job->segment_size, &job->cancelled),
      line_buffer_(std::make_unique<LineBuffer>(job)),
      out_(std::make_unique<std::ostream>(line_buffer_.get())),
      chained_(std::make_unique<std::atomic<uint64_t>[]>(vertex.chain.size())),
      operator_watermarks_(std::make_unique<std::atomic<int64_t>[]>(vertex.chain.size())) {
  for (size_t k = 0; k < vertex.chain.size(); ++k) operator_watermarks_[k] = internal::kNoWatermark;
}

Task::~Task() = default;

namespace {

// Counts what a channel carries and how long writing waited for room.
class MeteredSink final : public ChannelSink {
 public:
  MeteredSink(ChannelSink* sink, TaskStats* stats, bool* waited)
      : sink_(sink), stats_(stats), waited_(waited) {}
  absl::Status Write(std::string buffer) override {
    stats_->bytes_out.fetch_add(buffer.size(), std::memory_order_relaxed);
    absl::Time start = absl::Now();
    absl::Status status = sink_->Write(std::move(buffer));
    const absl::Duration took = absl::Now() - start;
    stats_->backpressured_ns.fetch_add(absl::ToInt64Nanoseconds(took), std::memory_order_relaxed);
    if (took > absl::Milliseconds(1)) *waited_ = true;
    return status;
  }
  absl::Status Close() override { return sink_->Close(); }
  absl::Status WritePriority(std::string data, const ChannelEvent& barrier) override {
    stats_->bytes_out.fetch_add(data.size(), std::memory_order_relaxed);
    return sink_->WritePriority(std::move(data), barrier);
  }
  double usage() const override { return sink_->usage(); }
  bool HasRoom() const override { return sink_->HasRoom(); }
  void AwaitRoom(absl::Duration at_most) override { sink_->AwaitRoom(at_most); }

 private:
  ChannelSink* sink_;
  TaskStats* stats_;
  bool* waited_;
};

}  // namespace

void Task::AddOutput(const JobEdge& edge, std::vector<ChannelSink*> channels) {
  for (auto& channel : channels) {
    metered_outputs_.push_back(std::make_unique<MeteredSink>(channel, &stats_, &output_waited_));
    channel = metered_outputs_.back().get();
  }
  outputs_.emplace_back(&edge, std::move(channels));
}

uint64_t Task::records_out() const {
  uint64_t total = 0;
  for (const auto& writer : writers_) total += writer->records_out();
  return total;
}

double Task::output_pool_usage() const {
  if (metered_outputs_.empty()) return 0;
  double total = 0;
  for (const auto& output : metered_outputs_) total += output->usage();
  return total / static_cast<double>(metered_outputs_.size());
}

std::vector<Task::OperatorCounts> Task::operator_counts() const {
  const size_t n = vertex_.chain.size();
  std::vector<OperatorCounts> counts(n);
  for (size_t k = 0; k < n; ++k) {
    counts[k].node_id = vertex_.chain[k];
    counts[k].name = graph_.node(vertex_.chain[k]).name;
    counts[k].records_in = k == 0 ? stats_.records_in.load() : chained_[k - 1].load();
    counts[k].records_out = k + 1 < n ? chained_[k].load() : records_out();
    counts[k].input_watermark = operator_watermarks_[k].load(std::memory_order_relaxed);
  }
  return counts;
}

double Task::input_pool_usage() const {
  int capacity = gate_.channels() * job_->buffers_per_channel;
  return capacity == 0 ? 0.0 : static_cast<double>(gate_.queued()) / capacity;
}

void Task::AddInput(const JobEdge& edge, int first_channel, int count) {
  inputs_.emplace_back(&edge, std::make_pair(first_channel, count));
}

int64_t Task::NowMs() const { return absl::ToUnixMillis(absl::Now()); }

void Task::Post(std::function<void()> action) {
  {
    absl::MutexLock lock(&posted_mu_);
    posted_.push_back(std::move(action));
  }
  has_posted_.store(true, std::memory_order_release);
  gate_.Interrupt();
}

void Task::InjectEvent(const ChannelEvent& event, AfterEvent after, bool unaligned) {
  Post([this, event, after, unaligned] {
    if (!source_) return;
    const bool barrier = event.kind == EventKind::kCheckpointBarrier;
    if (barrier && (unaligned || event.id <= switched_to_unaligned_.load())) {
      EmitPriorityBarrier(event);
    } else {
      Emit(event);
    }
    if (barrier) {
      RecordBarrierTimes(event, absl::Now());
      Snapshot(event.id);
    }
    if (after != AfterEvent::kContinue) source_after_ = after;
  });
}

void Task::SwitchToUnaligned(const ChannelEvent& barrier) {
  int64_t seen = switched_to_unaligned_.load();
  while (seen < barrier.id && !switched_to_unaligned_.compare_exchange_weak(seen, barrier.id)) {
  }
  Post([this, barrier] {
    if (source_ || barrier.id <= aligner_->last_done()) return;  // passed already
    if (channel_state_->active() && channel_state_->id() >= barrier.id) return;
    StartUnaligned(barrier);
  });
}

void Task::StartUnaligned(const ChannelEvent& barrier) {
  AbandonUnaligned();
  const bool aligning = aligner_->aligning() == barrier.id;
  std::vector<bool> passed = aligner_->Passed(barrier.id);
  Apply(0, aligner_->GiveUp(barrier.id));
  channel_state_->Start(barrier.id, passed);
  EmitPriorityBarrier(barrier);
  RecordBarrierTimes(barrier, aligning ? first_barrier_ : absl::Now());
  unaligned_snapshot_ = TakeSnapshot(barrier.id);
  RecordQueuedBarriers();
  AckIfComplete();
}

// Barriers that came in band before the task went unaligned: what is queued
// before them is all their channel owes the checkpoint.
void Task::RecordQueuedBarriers() {
  for (int c = 0; c < gate_.channels(); ++c) {
    if (!channel_state_->recording(c)) continue;
    if (auto before = gate_.QueuedBeforeBarrier(c, channel_state_->id())) {
      channel_state_->Append(c, *before);
      channel_state_->Finish(c);
    }
  }
}

void Task::OnPriorityBarrier(int channel, const ChannelEvent& barrier, uint64_t cut) {
  const bool current = channel_state_->active() && channel_state_->id() == barrier.id;
  if (!current) {
    if (barrier.id <= aligner_->last_done()) return;  // stale
    if (channel_state_->active() && channel_state_->id() > barrier.id) return;
    StartUnaligned(barrier);
  }
  if (channel_state_->recording(channel)) {
    auto queued = gate_.CopyQueued(channel, cut);
    if (!queued.ok()) {
      throw std::runtime_error(
          absl::StrCat("checkpoint ", barrier.id, ": ", queued.status().message()));
    }
    channel_state_->Append(channel, *queued);
  }
  FinishChannelState(channel);
}

void Task::FinishChannelState(int channel) {
  if (!channel_state_->active()) return;
  channel_state_->Finish(channel);
  AckIfComplete();
}

void Task::AckIfComplete() {
  if (!channel_state_->complete()) return;
  const int64_t id = channel_state_->id();
  std::vector<std::string> data = channel_state_->Take();
  if (unaligned_snapshot_.ok()) {
    unaligned_snapshot_->set_input_channel_count(gate_.channels());
    for (size_t c = 0; c < data.size(); ++c) {
      if (data[c].empty()) continue;
      auto* channel = unaligned_snapshot_->add_input_channels();
      channel->set_channel(static_cast<int>(c));
      channel->set_data(std::move(data[c]));
    }
  }
  if (job_->on_snapshot)
    job_->on_snapshot(vertex_.id, subtask_, id, std::move(unaligned_snapshot_));
  unaligned_snapshot_ = absl::CancelledError("no unaligned checkpoint");
}

void Task::AbandonUnaligned() {
  channel_state_->Abandon();
  unaligned_snapshot_ = absl::CancelledError("no unaligned checkpoint");
}

void Task::RunPosted() {
  if (!has_posted_.load(std::memory_order_acquire)) return;
  std::vector<std::function<void()>> actions;
  {
    absl::MutexLock lock(&posted_mu_);
    actions.swap(posted_);
    has_posted_.store(false, std::memory_order_release);
  }
  for (auto& action : actions) action();
}

void Task::EmitPriorityBarrier(const ChannelEvent& barrier) {
  for (auto& writer : writers_) writer->BroadcastPriorityBarrier(barrier);
  if (job_->on_event) job_->on_event(vertex_.id, subtask_, barrier);
}

void Task::Emit(const ChannelEvent& event) {
  for (auto& writer : writers_) writer->BroadcastEvent(event);
  if (job_->on_event) job_->on_event(vertex_.id, subtask_, event);
}

void Task::Snapshot(int64_t checkpoint_id) {
  if (!job_->on_snapshot) return;
  job_->on_snapshot(vertex_.id, subtask_, checkpoint_id, TakeSnapshot(checkpoint_id));
}

absl::StatusOr<v1::TaskSnapshotProto> Task::TakeSnapshot(int64_t checkpoint_id) {
  std::vector<KeyedOperator> keyed;
  for (size_t i = 0; i < keyed_.size(); ++i) keyed.push_back({keyed_ids_[i], keyed_[i].get()});
  const std::string source_id =
      source_ ? OperatorStateId(graph_.node(vertex_.chain.front())) : std::string();
  std::vector<ListState> lists;
  for (const Checkpointed& c : checkpointed_) {
    lists.push_back({OperatorStateId(*c.node),
                     CallUser(c.node->name, [&] { return c.op->SnapshotState(checkpoint_id); })});
  }
  auto snapshot = SnapshotTask(vertex_.id, subtask_, checkpoint_id, source_id, source_.get(), keyed,
                               std::move(lists));
  if (source_ && snapshot.ok() && !snapshot->has_source_position() && !warned_unreplayable_) {
    warned_unreplayable_ = true;
    spdlog::warn(
        "{}: source '{}' cannot be replayed: after a restore, what it read since the "
        "last checkpoint is not read again",
        name_, source_id);
  }
  return snapshot;
}

void Task::NotifyCheckpointComplete(int64_t id) {
  Post([this, id] {
    for (const Checkpointed& c : checkpointed_) {
      CallUser(c.node->name, [&] { c.op->NotifyCheckpointComplete(id); });
    }
  });
}

AnyCollector* Task::Adopt(const StreamNode& node, std::unique_ptr<AnyCollector> op) {
  if (auto* checkpointed = dynamic_cast<internal::CheckpointedOperator*>(op.get())) {
    checkpointed_.push_back({&node, checkpointed});
  }
  EventTimeStage stage;
  stage.node = &node;
  stage.position = static_cast<size_t>(
      std::find(vertex_.chain.begin(), vertex_.chain.end(), node.id) - vertex_.chain.begin());
  stage.op = dynamic_cast<internal::WatermarkOperator*>(op.get());
  stage.generator = dynamic_cast<internal::WatermarkGeneratorOperator*>(op.get());
  if (!keyed_.empty() && keyed_ids_.back() == OperatorStateId(node)) {
    stage.keyed = keyed_.back().get();
  }
  if (stage.op != nullptr || stage.generator != nullptr || stage.keyed != nullptr) {
    event_time_.push_back(stage);  // tail first, like the chain is built
  }
  collectors_.push_back(std::move(op));
  return collectors_.back().get();
}

void Task::InitializeOperatorState() {
  for (const Checkpointed& c : checkpointed_) {
    std::vector<std::string> states;
    int64_t id = 0;
    if (job_->restore) {
      states = OperatorListStates(*job_->restore, OperatorStateId(*c.node));
      id = job_->restore->checkpoint_id;
    }
    CallUser(c.node->name, [&] { c.op->InitializeState(id, states); });
  }
}

internal::KeyedRuntime* Task::CreateKeyedRuntime(const StreamNode& node,
                                                 internal::TimerTarget* target) {
  KeyGroupRange range = KeyGroupRangeFor(node.max_parallelism, vertex_.parallelism, subtask_);
  keyed_.push_back(std::make_unique<HeapKeyedStateBackend>(node.max_parallelism, range, target));
  keyed_ids_.push_back(OperatorStateId(node));
  if (job_->restore) {
    absl::Status restored =
        RestoreKeyedOperator(*job_->restore, keyed_ids_.back(), keyed_.back().get());
    if (!restored.ok()) throw std::runtime_error(std::string(restored.message()));
  }
  return keyed_.back().get();
}

AnyCollector* Task::EdgeOutput(const JobEdge& edge, const std::vector<ChannelSink*>& channels,
                               const StreamNode& typed) {
  const StreamNode& target = graph_.node(edge.target_node);
  RecordWriterOptions options;
  options.partitioning = edge.partitioning;
  options.key_groups = target.max_parallelism;
  options.subtask = subtask_;
  options.segment_size = job_->segment_size;
  options.flush_every_record = job_->buffer_timeout == absl::ZeroDuration();
  options.timestamp = &timestamp_;
  writers_.push_back(std::make_unique<RecordWriter>(channels, options));
  const KeyWriter* key = edge.partitioning == Partitioning::kHash ? &target.key_writer : nullptr;
  collectors_.push_back(typed.make_edge_writer(writers_.back().get(), key));
  return collectors_.back().get();
}

AnyCollector* Task::BuildTail(OperatorContext& ctx) {
  const StreamNode& tail = graph_.node(vertex_.chain.back());
  if (tail.kind == StreamNode::Kind::kSink) return Adopt(tail, tail.make_operator(ctx, nullptr));
  std::vector<AnyCollector*> edges;
  for (auto& [edge, channels] : outputs_) {
    if (!graph_.node(edge->target_node).side_output_tag.empty()) continue;
    edges.push_back(EdgeOutput(*edge, channels, tail));
  }
  if (edges.size() == 1) return edges.front();
  collectors_.push_back(tail.make_fan_out(edges));  // none: only side outputs are read
  return collectors_.back().get();
}

void Task::BuildSideOutputs() {
  std::map<std::pair<int, std::string>, std::vector<AnyCollector*>> edges;
  for (auto& [edge, channels] : outputs_) {
    const StreamNode& reader = graph_.node(edge->target_node);
    if (reader.side_output_tag.empty()) continue;
    const auto id = std::make_pair(edge->source_node, reader.side_output_tag);
    edges[id].push_back(EdgeOutput(*edge, channels, reader));
    side_outputs_[id].reader = &reader;
  }
  for (auto& [id, collectors] : edges) {
    AnyCollector* collector = collectors.front();
    if (collectors.size() > 1) {
      collectors_.push_back(side_outputs_[id].reader->make_fan_out(collectors));
      collector = collectors_.back().get();
    }
    side_outputs_[id].collector = collector;
  }
}

AnyCollector* Task::SideOutput(const StreamNode& node, const std::string& tag,
                               const std::string& type) {
  auto it = side_outputs_.find({node.id, tag});
  if (it == side_outputs_.end()) return nullptr;
  if (it->second.reader->output_type != type) {
    throw std::runtime_error(absl::StrCat("side output '", tag, "' of operator '", node.name,
                                          "' is emitted with type ", type, " but read as type ",
                                          it->second.reader->output_type));
  }
  return it->second.collector;
}

void Task::BuildChain() {
  OperatorContext ctx;
  ctx.runtime = this;
  ctx.timestamp = &timestamp_;
  ctx.late_records_dropped = &stats_.late_records_dropped;
  BuildSideOutputs();
  AnyCollector* downstream = nullptr;
  for (auto it = vertex_.chain.rbegin(); it != vertex_.chain.rend(); ++it) {
    const StreamNode& node = graph_.node(*it);
    current_operator_ = node.name;
    ctx.name = node.name;
    ctx.max_parallelism = node.max_parallelism;
    // By pointer: the operators keep these past this iteration.
    ctx.keyed_runtime = [this, n = &node](internal::TimerTarget* target) {
      return CreateKeyedRuntime(*n, target);
    };
    ctx.emit_watermark = [this, n = &node](int64_t watermark) {
      OnGeneratedWatermark(*n, watermark);
    };
    ctx.side_output = [this, n = &node](const std::string& tag, const std::string& type) {
      return SideOutput(*n, tag, type);
    };
    if (it == vertex_.chain.rbegin()) {
      downstream = BuildTail(ctx);
      if (node.kind == StreamNode::Kind::kSink) continue;
    } else {  // count what this node hands to the next one
      const auto position = static_cast<size_t>(vertex_.chain.rend() - it - 1);
      collectors_.push_back(node.make_counter(downstream, &chained_[position]));
      downstream = collectors_.back().get();
    }
    if (node.kind == StreamNode::Kind::kSource) {
      source_ = node.make_source(ctx, downstream);
      if (job_->restore) {
        absl::Status restored = RestoreSource(*job_->restore, OperatorStateId(node), subtask_,
                                              vertex_.parallelism, source_.get());
        if (!restored.ok()) throw std::runtime_error(std::string(restored.message()));
      }
    } else if (node.kind != StreamNode::Kind::kSink || it != vertex_.chain.rbegin()) {
      downstream = Adopt(node, node.make_operator(ctx, downstream));
    }
  }
  InitializeOperatorState();
  std::reverse(event_time_.begin(), event_time_.end());
  generates_watermarks_ = std::any_of(event_time_.begin(), event_time_.end(),
                                      [](const EventTimeStage& s) { return s.generator; });
  head_ = downstream;
  readers_.resize(gate_.channels());
  for (const auto& [edge, range] : inputs_) {
    auto reader = graph_.EdgeRecordType(*edge).make_record_reader(head_);
    for (int c = range.first; c < range.first + range.second; ++c) readers_[c] = reader;
  }
  open_channels_ = gate_.channels();
  aligner_ = std::make_unique<BarrierAligner>(gate_.channels());
  channel_state_ = std::make_unique<ChannelStateRecorder>(gate_.channels());
  watermarks_ = std::make_unique<WatermarkValve>(gate_.channels());
  if (job_->restore) ReplayChannelState();
}

void Task::ReplayChannelState() {
  auto it = job_->restore->vertices.find(vertex_.id);
  if (it == job_->restore->vertices.end()) return;
  for (const v1::TaskSnapshotProto& snapshot : it->second) {
    if (snapshot.subtask() != subtask_ || snapshot.input_channels().empty()) continue;
    if (static_cast<int>(it->second.size()) != vertex_.parallelism ||
        snapshot.input_channel_count() != gate_.channels()) {
      throw std::runtime_error(absl::StrCat(
          "checkpoint ", job_->restore->checkpoint_id, " is unaligned and holds in-flight data of ",
          name_, " for parallelism ", it->second.size(), " and ", snapshot.input_channel_count(),
          " input channels (now ", vertex_.parallelism, " and ", gate_.channels(),
          "): restore it unchanged, or rescale from a savepoint, which is always aligned"));
    }
    for (const auto& channel : snapshot.input_channels()) {
      if (channel.channel() < 0 || channel.channel() >= gate_.channels()) {
        throw std::runtime_error(absl::StrCat(
            "checkpoint ", job_->restore->checkpoint_id, ": in-flight data for input channel ",
            channel.channel(), " of ", name_, ", which has ", gate_.channels()));
      }
      gate_.Replay(channel.channel(), channel.data());
    }
  }
}

void Task::SetOperatorWatermarks(size_t from, size_t to, int64_t watermark) {
  for (size_t k = from; k < to && k < vertex_.chain.size(); ++k) {
    operator_watermarks_[k].store(watermark, std::memory_order_relaxed);
  }
}

void Task::AdvanceWatermark(size_t from, int64_t watermark) {
  if (from == 0) stats_.input_watermark.store(watermark, std::memory_order_relaxed);
  const size_t first_operator = from == 0 ? 0 : event_time_[from - 1].position + 1;
  for (size_t i = from; i < event_time_.size(); ++i) {
    EventTimeStage& stage = event_time_[i];
    if (stage.generator != nullptr) {
      if (watermark != internal::kMaxWatermark) {  // it makes its own
        SetOperatorWatermarks(first_operator, stage.position + 1, watermark);
        return;
      }
      stage.generated = watermark;
    }
    current_operator_ = stage.node->name;
    timestamp_ = internal::kNoTimestamp;
    if (stage.keyed != nullptr) stage.keyed->AdvanceWatermark(watermark);
    if (stage.op != nullptr) {
      CallUser(stage.node->name, [&] { stage.op->ProcessWatermark(watermark); });
    }
  }
  SetOperatorWatermarks(first_operator, vertex_.chain.size(), watermark);
  EmitWatermark(watermark);
}

void Task::EmitWatermark(int64_t watermark) {
  if (watermark <= output_watermark_) return;
  output_watermark_ = watermark;
  stats_.output_watermark.store(watermark, std::memory_order_relaxed);
  Emit(ChannelEvent{EventKind::kWatermark, 0, watermark});
}

void Task::EmitWatermarkStatus(bool idle) {
  if (idle == output_idle_) return;
  output_idle_ = idle;
  Emit(ChannelEvent{EventKind::kWatermarkStatus, idle ? 1 : 0, 0});
}

void Task::OnWatermarkStatus(int channel, bool idle) {
  if (auto advanced = watermarks_->OnStatus(channel, idle)) AdvanceWatermark(0, *advanced);
  if (!generates_watermarks_) EmitWatermarkStatus(watermarks_->idle());
}

void Task::OnGeneratedWatermark(const StreamNode& node, int64_t watermark) {
  for (size_t i = 0; i < event_time_.size(); ++i) {
    EventTimeStage& stage = event_time_[i];
    if (stage.node != &node || watermark <= stage.generated) continue;
    stage.generated = watermark;
    AdvanceWatermark(i + 1, watermark);
  }
}

void Task::EmitPeriodicWatermarks() {
  if (!generates_watermarks_) return;
  const absl::Time now = absl::Now();
  if (now < next_periodic_watermark_) return;
  next_periodic_watermark_ = now + job_->auto_watermark_interval;
  const int64_t now_ms = absl::ToUnixMillis(now);
  size_t last_generator = 0;
  for (size_t i = 0; i < event_time_.size(); ++i) {
    if (event_time_[i].generator != nullptr) last_generator = i;
  }
  for (size_t i = 0; i < event_time_.size(); ++i) {
    EventTimeStage& stage = event_time_[i];
    if (stage.generator == nullptr) continue;
    current_operator_ = stage.node->name;
    const int64_t watermark =
        CallUser(stage.node->name, [&] { return stage.generator->OnPeriodicEmit(now_ms); });
    const bool idle = stage.generator->idle(now_ms);
    if (!idle && i == last_generator) EmitWatermarkStatus(false);
    if (watermark > stage.generated) {
      stage.generated = watermark;
      AdvanceWatermark(i + 1, watermark);
    }
    if (idle && i == last_generator) EmitWatermarkStatus(true);
  }
}

void Task::FireTimers() {
  if (keyed_.empty()) return;
  const int64_t now = NowMs();
  for (auto& backend : keyed_) backend->FireDueTimers(now);
}

absl::Time Task::NextWakeUp() const {
  // Idle with empty buffers: sleep until a timer or input (or cancellation).
  absl::Time wake = records_out() != records_at_flush_ ? last_flush_ + job_->buffer_timeout
                                                       : absl::Now() + absl::Seconds(1);
  for (const auto& backend : keyed_) {
    if (auto next = backend->next_timer()) wake = std::min(wake, absl::FromUnixMillis(*next));
  }
  if (generates_watermarks_) wake = std::min(wake, next_periodic_watermark_);
  return wake;
}

void Task::FlushIfDue() {
  absl::Time now = absl::Now();
  if (checking_room_ && now - last_output_wait_ > absl::Seconds(1)) checking_room_ = false;
  const uint64_t written = records_out();
  if (written == records_at_flush_) {
    last_flush_ = now;  // nothing waits: the next record's clock starts now
    return;
  }
  if (now - last_flush_ < job_->buffer_timeout) return;
  for (auto& writer : writers_) writer->Flush();
  last_flush_ = now;
  records_at_flush_ = written;
}

bool Task::Healthy() const {
  if (cancelled()) return false;
  for (const auto& writer : writers_) {
    if (!writer->status().ok()) return false;
  }
  return true;
}

// A step that emitted nothing waited for its next record (a rate limit, an
// empty partition): idle time, as Flink counts a source without data.
ChannelSink* Task::FullOutput() const {
  for (const auto& output : metered_outputs_) {
    if (!output->HasRoom()) return output.get();
  }
  return nullptr;
}

bool Task::CheckingRoom() {
  if (output_waited_) {
    output_waited_ = false;
    last_output_wait_ = absl::Now();
    checking_room_ = true;
  }
  return checking_room_;
}

void Task::AwaitOutputRoom() {
  if (!CheckingRoom()) return;
  const int64_t start = absl::GetCurrentTimeNanos();
  while (Healthy() && !gate_.has_priority()) {
    ChannelSink* full = FullOutput();
    if (full == nullptr) break;
    last_output_wait_ = absl::Now();
    RunPosted();
    full->AwaitRoom(absl::Milliseconds(2));  // then posted work and barriers again
  }
  stats_.backpressured_ns.fetch_add(absl::GetCurrentTimeNanos() - start, std::memory_order_relaxed);
}

void Task::RunSource() {
  bool more = true;
  while (more && Healthy()) {
    AwaitOutputRoom();
    const int64_t step_start = absl::GetCurrentTimeNanos();
    const uint64_t emitted = SourceEmitted();
    switch (source_after_) {
      case AfterEvent::kContinue:
        more = source_->Step();
        break;
      case AfterEvent::kPause:  // stopped at a savepoint: until the job is cancelled
        absl::SleepFor(absl::Milliseconds(2));
        break;
      case AfterEvent::kEnd:
        more = false;
        break;
    }
    if (SourceEmitted() == emitted) {
      stats_.idle_ns.fetch_add(absl::GetCurrentTimeNanos() - step_start, std::memory_order_relaxed);
    }
    RunPosted();
    EmitPeriodicWatermarks();
    FireTimers();
    FlushIfDue();
  }
}

void Task::Apply(int channel, const BarrierAligner::Decision& decision) {
  if (decision.unblock_all) {
    for (int c = 0; c < gate_.channels(); ++c) gate_.Unblock(c);
  }
  if (decision.block_channel) {
    gate_.Block(channel);
    channel_blocked_ = true;
  }
  if (decision.forward) {
    Emit(*decision.forward);
    if (decision.forward->kind == EventKind::kCheckpointBarrier) {
      RecordBarrierTimes(*decision.forward,
                         aligning_id_ == decision.forward->id ? first_barrier_ : absl::Now());
      Snapshot(decision.forward->id);
    }
  }
}

void Task::RecordBarrierTimes(const ChannelEvent& barrier, absl::Time first_arrival) {
  const absl::Time now = absl::Now();
  const absl::Duration delay = first_arrival - absl::FromUnixMillis(barrier.timestamp);
  stats_.checkpoint_start_delay_ns.store(std::max<int64_t>(0, absl::ToInt64Nanoseconds(delay)),
                                         std::memory_order_relaxed);
  stats_.checkpoint_alignment_ns.store(absl::ToInt64Nanoseconds(now - first_arrival),
                                       std::memory_order_relaxed);
}

void Task::OnEvent(int channel, const ChannelEvent& event) {
  if (event.kind == EventKind::kWatermark) {
    if (auto advanced = watermarks_->OnWatermark(channel, event.timestamp)) {
      AdvanceWatermark(0, *advanced);
    }
    return;
  }
  if (event.kind == EventKind::kWatermarkStatus) {
    OnWatermarkStatus(channel, event.id != 0);
    return;
  }
  if (channel_state_->active()) {  // going on unaligned
    if (event.kind == EventKind::kCheckpointBarrier && event.id == channel_state_->id()) {
      FinishChannelState(channel);
      return;
    }
    if (event.id < channel_state_->id()) return;  // stale
    // Cancelled. (A newer checkpoint's barrier comes on a channel only after
    // this one's, so the recording goes on for the others.)
    if (event.id == channel_state_->id()) AbandonUnaligned();
  }
  if (event.kind == EventKind::kCheckpointBarrier && event.id != aligning_id_) {
    aligning_id_ = event.id;
    first_barrier_ = absl::Now();
  }
  Apply(channel, aligner_->OnEvent(channel, event));
}

void Task::OnEndOfPartition(int channel) {
  --open_channels_;
  FinishChannelState(channel);
  Apply(channel, aligner_->OnEndOfPartition(channel));
  if (auto advanced = watermarks_->OnEndOfPartition(channel)) AdvanceWatermark(0, *advanced);
}

// While an unaligned checkpoint records the channel, what is processed of
// the buffer goes into it too (up to the channel's barrier). An unaligned
// barrier waiting in the gate is taken between two records.
void Task::Consume(int channel, std::string buffer) {
  ElementReader elements(buffer);
  channel_blocked_ = false;
  size_t records = 0;
  size_t recorded = 0;  // bytes of the buffer recorded or not to be
  auto record_to = [&](size_t end) {
    if (channel_state_->recording(channel)) {
      channel_state_->Append(channel, std::string_view(buffer).substr(recorded, end - recorded));
    }
    recorded = end;
  };
  while (!channel_blocked_) {
    const size_t at = buffer.size() - elements.rest().size();
    if (gate_.has_priority() || (CheckingRoom() && FullOutput() != nullptr)) {
      channel_blocked_ = true;  // the rest goes back to the gate
      break;
    }
    ElementReader::Kind kind;
    std::string_view record;
    ChannelEvent event;
    absl::Status status = elements.Next(&kind, &record, &event);
    if (!status.ok()) {
      throw std::runtime_error(absl::StrCat("input channel ", channel, ": ", status.message()));
    }
    if (kind == ElementReader::Kind::kEnd) break;
    if (kind == ElementReader::Kind::kRecord) {
      timestamp_ = elements.timestamp();
      readers_[channel](record);
      ++records;
    } else {
      record_to(at);
      OnEvent(channel, event);
      if (event.kind == EventKind::kCheckpointBarrier) recorded = at + kEventSize;
    }
  }
  record_to(buffer.size() - elements.rest().size());
  // Blocked at a barrier: what follows it waits in the gate.
  if (channel_blocked_ && !elements.rest().empty()) {
    gate_.PushFront(channel, std::string(elements.rest()));
  }
  stats_.records_in.fetch_add(records, std::memory_order_relaxed);
}

void Task::RunInputs() {
  while (open_channels_ > 0 && Healthy()) {
    AwaitOutputRoom();
    if (channel_state_->active()) {  // a barrier that came in band since
      RecordQueuedBarriers();
      AckIfComplete();
    }
    absl::Time waiting = absl::Now();
    auto delivery = gate_.Next(NextWakeUp());
    stats_.idle_ns.fetch_add(absl::ToInt64Nanoseconds(absl::Now() - waiting),
                             std::memory_order_relaxed);
    if (delivery) {
      if (delivery->priority) {
        OnPriorityBarrier(delivery->channel, *delivery->priority, delivery->cut);
      } else if (delivery->end_of_partition) {
        OnEndOfPartition(delivery->channel);
      } else {
        stats_.bytes_in.fetch_add(delivery->buffer.size(), std::memory_order_relaxed);
        Consume(delivery->channel, std::move(delivery->buffer));
      }
    }
    RunPosted();
    EmitPeriodicWatermarks();
    FireTimers();
    FlushIfDue();
  }
}

// The input ended: the chain's operators finish (pending timers fire), then
// every output channel gets its end of partition.
void Task::Finish() {
  AdvanceWatermark(0, internal::kMaxWatermark);  // every event-time window and timer fires
  if (head_ != nullptr) head_->EndOfInput();
  for (auto& writer : writers_) writer->Close();
  out_->flush();
}

uint64_t Task::SourceEmitted() const {
  return vertex_.chain.size() > 1 ? chained_[0].load(std::memory_order_relaxed) : records_out();
}

void Task::Run() {
  current_task = this;
  stats_.running_since_ns.store(absl::GetCurrentTimeNanos(), std::memory_order_relaxed);
  bool finished = false;
  try {
    BuildChain();
    last_flush_ = absl::Now();
    records_at_flush_ = 0;
    current_operator_ = graph_.node(vertex_.chain.front()).name;
    if (source_) {
      RunSource();
    } else {
      RunInputs();
    }
    if (Healthy()) {
      Finish();
      finished = Healthy();
    }
  } catch (const UserCodeError& e) {
    error_ = absl::StrCat("operator '", e.op(), "' of ", name_, " failed: ", e.what());
  } catch (const std::exception& e) {
    error_ = absl::StrCat("operator '", current_operator_, "' of ", name_, " failed: ", e.what());
  } catch (...) {
    error_ = absl::StrCat("operator '", current_operator_, "' of ", name_,
                          " failed with an unknown exception");
  }
  if (error_.empty() && !finished) ReportOutputs();
  if (!error_.empty()) job_->on_failure(error_);
}

void Task::ReportOutputs() {
  if (job_->LeaseExpired() && !job_->cancelled.load()) {
    error_ = absl::StrCat(name_,
                          " stopped: its JobMaster stopped confirming the job (no heartbeat within "
                          "heartbeat.timeout)");
    return;
  }
  for (const auto& writer : writers_) {
    const absl::Status& status = writer->status();
    if (status.ok()) continue;
    if (absl::IsCancelled(status) || cancelled()) {
      cancelled_ = true;
    } else {
      error_ = absl::StrCat("an output of ", name_, " failed: ", status.message());
    }
    return;
  }
  if (cancelled()) cancelled_ = true;
}

}  // namespace sluice::engine
