#include "engine/task.h"

#include <exception>
#include <streambuf>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace sluice::engine {

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
      gate_(job->buffers_per_channel, &job->cancelled),
      line_buffer_(std::make_unique<LineBuffer>(job)),
      out_(std::make_unique<std::ostream>(line_buffer_.get())),
      chained_(std::make_unique<std::atomic<uint64_t>[]>(vertex.chain.size())) {}

Task::~Task() = default;

namespace {

// Counts what a channel carries and how long writing waited for room.
class MeteredSink final : public ChannelSink {
 public:
  MeteredSink(ChannelSink* sink, TaskStats* stats) : sink_(sink), stats_(stats) {}
  void Write(std::string buffer) override {
    stats_->bytes_out.fetch_add(buffer.size(), std::memory_order_relaxed);
    absl::Time start = absl::Now();
    sink_->Write(std::move(buffer));
    stats_->backpressured_ns.fetch_add(absl::ToInt64Nanoseconds(absl::Now() - start),
                                       std::memory_order_relaxed);
  }
  void Close() override { sink_->Close(); }
  double usage() const override { return sink_->usage(); }

 private:
  ChannelSink* sink_;
  TaskStats* stats_;
};

}  // namespace

void Task::AddOutput(const JobEdge& edge, std::vector<ChannelSink*> channels) {
  for (auto& channel : channels) {
    metered_outputs_.push_back(std::make_unique<MeteredSink>(channel, &stats_));
    channel = metered_outputs_.back().get();
  }
  outputs_.emplace_back(&edge, std::move(channels));
}

uint64_t Task::records_out() const {
  uint64_t total = 0;
  for (const AnyCollector* writer : writers_) total += writer->records_out();
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

void Task::RegisterTimer(int64_t when_ms, std::function<void()> fire) {
  timers_.emplace(when_ms, std::move(fire));
}

AnyCollector* Task::BuildTail(OperatorContext& ctx) {
  const StreamNode& tail = graph_.node(vertex_.chain.back());
  if (tail.kind == StreamNode::Kind::kSink) {
    collectors_.push_back(tail.make_operator(ctx, nullptr));
    return collectors_.back().get();
  }
  for (auto& [edge, channels] : outputs_) {
    const StreamNode& target = graph_.node(edge->target_node);
    collectors_.push_back(tail.make_channel_writer(
        channels, edge->partitioning, target.key_hash.get(), graph_.max_parallelism, subtask_));
    writers_.push_back(collectors_.back().get());
    if (job_->buffer_timeout == absl::ZeroDuration()) writers_.back()->FlushEveryRecord();
  }
  if (writers_.size() == 1) return writers_.front();
  collectors_.push_back(tail.make_fan_out(writers_));
  return collectors_.back().get();
}

void Task::BuildChain() {
  OperatorContext ctx;
  ctx.runtime = this;
  AnyCollector* downstream = nullptr;
  for (auto it = vertex_.chain.rbegin(); it != vertex_.chain.rend(); ++it) {
    const StreamNode& node = graph_.node(*it);
    current_operator_ = node.name;
    ctx.name = node.name;
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
    } else if (node.kind != StreamNode::Kind::kSink || it != vertex_.chain.rbegin()) {
      collectors_.push_back(node.make_operator(ctx, downstream));
      downstream = collectors_.back().get();
    }
  }
  head_ = downstream;
  readers_.resize(gate_.channels());
  for (const auto& [edge, range] : inputs_) {
    auto reader = graph_.node(edge->source_node).make_channel_reader(head_);
    for (int c = range.first; c < range.first + range.second; ++c) readers_[c] = reader;
  }
}

void Task::FireTimers() {
  const int64_t now = NowMs();
  while (!timers_.empty() && timers_.begin()->first <= now) {
    auto fire = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    fire();
  }
}

absl::Time Task::NextWakeUp() const {
  // Idle with empty buffers: sleep until a timer or input (or cancellation).
  absl::Time wake = records_out() != records_at_flush_ ? last_flush_ + job_->buffer_timeout
                                                       : absl::Now() + absl::Seconds(1);
  if (!timers_.empty()) wake = std::min(wake, absl::FromUnixMillis(timers_.begin()->first));
  return wake;
}

void Task::FlushIfDue() {
  absl::Time now = absl::Now();
  const uint64_t written = records_out();
  if (written == records_at_flush_) {
    last_flush_ = now;  // nothing waits: the next record's clock starts now
    return;
  }
  if (now - last_flush_ < job_->buffer_timeout) return;
  for (AnyCollector* writer : writers_) writer->Flush();
  last_flush_ = now;
  records_at_flush_ = written;
}

void Task::RunSource() {
  while (!cancelled() && source_->Step()) {
    FireTimers();
    FlushIfDue();
  }
  if (cancelled()) throw TaskCancelled{};
}

void Task::RunInputs() {
  int open = gate_.channels();
  while (open > 0) {
    absl::Time waiting = absl::Now();
    auto event = gate_.Next(NextWakeUp());
    stats_.idle_ns.fetch_add(absl::ToInt64Nanoseconds(absl::Now() - waiting),
                             std::memory_order_relaxed);
    if (event) {
      if (event->end_of_partition) {
        --open;
      } else {
        stats_.bytes_in.fetch_add(event->buffer.size(), std::memory_order_relaxed);
        size_t records = readers_[event->channel](event->buffer.data(), event->buffer.size());
        stats_.records_in.fetch_add(records, std::memory_order_relaxed);
      }
    }
    FireTimers();
    FlushIfDue();
  }
}

void Task::Run() {
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
    if (head_ != nullptr) head_->EndOfInput();
    out_->flush();
  } catch (const TaskCancelled&) {
    cancelled_ = true;  // the job is being cancelled: nothing to report
  } catch (const UserCodeError& e) {
    error_ = absl::StrCat("operator '", e.op(), "' of ", name_, " failed: ", e.what());
  } catch (const std::exception& e) {
    error_ = absl::StrCat("operator '", current_operator_, "' of ", name_, " failed: ", e.what());
  } catch (...) {
    error_ = absl::StrCat("operator '", current_operator_, "' of ", name_,
                          " failed with an unknown exception");
  }
  if (!error_.empty()) job_->on_failure(error_);
}

}  // namespace sluice::engine
