// A checkpoint taken in a running job and a job started from it: sources
// continue from their positions and keyed state is split by key groups, so
// the restored job's output, added to what was checkpointed, holds every
// record exactly once - at the same and at another parallelism.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>

#include "absl/synchronization/mutex.h"
#include "engine/local_job.h"
#include "engine/task_snapshot.h"
#include "sluice/sluice.h"

namespace sluice::engine {
namespace {

constexpr int64_t kRecords = 40000;
constexpr int kKeys = 7;

// What the sinks saw: records, and the latest running sum per key.
struct Seen {
  absl::Mutex mu;
  int64_t records ABSL_GUARDED_BY(mu) = 0;
  std::map<int64_t, int64_t> sums ABSL_GUARDED_BY(mu);
};

// generator (2 subtasks) -> keyBy(x % 7) -> running sum (`parallelism`) -> sink,
// which takes `per_record` for each record (backpressure).
JobGraph SumsJob(int parallelism, double rate, std::shared_ptr<Seen> seen,
                 absl::Duration per_record = absl::ZeroDuration()) {
  StreamEnvironment env("sums");
  env.SetParallelism(parallelism);
  env.Generate([](int64_t i) { return i; }, kRecords, rate)
      .SetParallelism(2)
      .Map([](int64_t x) { return std::pair<int64_t, int64_t>(x % kKeys, x); })
      .SetParallelism(2)
      .KeyBy([](const std::pair<int64_t, int64_t>& p) { return p.first; })
      .Reduce([](const std::pair<int64_t, int64_t>& a, const std::pair<int64_t, int64_t>& b) {
        return std::pair<int64_t, int64_t>(a.first, a.second + b.second);
      })
      .Sink([seen, per_record](const std::pair<int64_t, int64_t>& sum) {
        if (per_record > absl::ZeroDuration()) absl::SleepFor(per_record);
        absl::MutexLock lock(&seen->mu);
        ++seen->records;
        seen->sums[sum.first] = sum.second;
      });
  return env.Build();
}

struct Snapshots {
  absl::Mutex mu;
  std::map<std::pair<int, int>, v1::TaskSnapshotProto> by_task ABSL_GUARDED_BY(mu);
};

const ChannelEvent kBarrier{EventKind::kCheckpointBarrier, 1, 0};
void Aligned(LocalJob& job) { job.InjectAtSources(kBarrier); }
void Unaligned(LocalJob& job) {
  job.InjectAtSources(kBarrier, Task::AfterEvent::kContinue, /*unaligned=*/true);
}
// Starts aligned; then the aligned timeout passes.
void SwitchedToUnaligned(LocalJob& job) {
  job.InjectAtSources(kBarrier);
  absl::SleepFor(absl::Milliseconds(20));
  job.SwitchToUnaligned(kBarrier);
}

// Runs the job until `after` records reached the sinks, takes checkpoint 1
// with `trigger`, waits for every task's snapshot and cancels.
RestoredState Checkpoint(int64_t after, void (*trigger)(LocalJob&) = Aligned,
                         absl::Duration per_record = absl::ZeroDuration()) {
  auto seen = std::make_shared<Seen>();
  auto snapshots = std::make_shared<Snapshots>();
  LocalJobOptions options;
  options.on_snapshot = [snapshots](int vertex, int subtask, int64_t id,
                                    absl::StatusOr<v1::TaskSnapshotProto> snapshot) {
    ASSERT_EQ(id, 1);
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    absl::MutexLock lock(&snapshots->mu);
    snapshots->by_task[{vertex, subtask}] = *snapshot;
  };
  auto job = LocalJob::Start(
      SumsJob(2, /*rate=*/per_record > absl::ZeroDuration() ? 0 : 10000, seen, per_record),
      options);
  EXPECT_TRUE(job.ok()) << job.status();
  {
    absl::MutexLock lock(&seen->mu);
    auto enough = [&]() ABSL_SHARED_LOCKS_REQUIRED(seen->mu) { return seen->records >= after; };
    EXPECT_TRUE(seen->mu.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(20)));
  }
  trigger(**job);
  {
    absl::MutexLock lock(&snapshots->mu);
    auto all = [&]() ABSL_SHARED_LOCKS_REQUIRED(snapshots->mu) {
      return snapshots->by_task.size() == 4u;  // 2 sources, 2 summing tasks
    };
    EXPECT_TRUE(snapshots->mu.AwaitWithTimeout(absl::Condition(&all), absl::Seconds(20)));
  }
  (*job)->Cancel();
  EXPECT_EQ((*job)->Wait().state, JobState::kCanceled);
  RestoredState state;
  absl::MutexLock lock(&snapshots->mu);
  for (const auto& [task, snapshot] : snapshots->by_task) {
    v1::TaskSnapshotProto shipped;  // as it travels: serialized
    EXPECT_TRUE(shipped.ParseFromString(snapshot.SerializeAsString()));
    state.vertices[task.first].push_back(shipped);
  }
  return state;
}

// Records each source emitted before the barrier: its saved next index.
int64_t RecordsBeforeBarrier(const RestoredState& state) {
  int64_t before = 0;
  for (const auto& snapshot : state.vertices.at(0)) {
    EXPECT_TRUE(snapshot.has_source_position());
    const int64_t next = Deserialize<int64_t>(snapshot.source_position());  // s, s + 2, ...
    before += (next - snapshot.subtask()) / 2;
  }
  return before;
}

// Records of an unaligned checkpoint's in-flight data.
int64_t InFlightRecords(const RestoredState& state) {
  int64_t records = 0;
  for (const auto& [vertex, snapshots] : state.vertices) {
    for (const auto& snapshot : snapshots) {
      for (const auto& channel : snapshot.input_channels()) {
        ElementReader elements(channel.data());
        ElementReader::Kind kind;
        std::string_view record;
        ChannelEvent event;
        while (elements.Next(&kind, &record, &event).ok() && kind != ElementReader::Kind::kEnd) {
          records += kind == ElementReader::Kind::kRecord;
        }
      }
    }
  }
  return records;
}

void ExpectExactlyOnceAfterRestore(int parallelism, const RestoredState& state) {
  const int64_t before = RecordsBeforeBarrier(state);
  ASSERT_GT(before, 0);
  ASSERT_LT(before, kRecords) << "the checkpoint was taken mid-stream";

  auto seen = std::make_shared<Seen>();
  LocalJobOptions options;
  options.restore = std::make_shared<RestoredState>(state);
  auto job = LocalJob::Start(SumsJob(parallelism, /*rate=*/0, seen), options);
  ASSERT_TRUE(job.ok()) << job.status();
  JobResult result = (*job)->Wait();
  ASSERT_EQ(result.state, JobState::kFinished) << result.error;

  std::map<int64_t, int64_t> expected;  // an independent computation
  for (int64_t x = 0; x < kRecords; ++x) expected[x % kKeys] += x;
  absl::MutexLock lock(&seen->mu);
  EXPECT_EQ(seen->records, kRecords - before + InFlightRecords(state))
      << "each record after the barrier once, and those in flight at it, none else again";
  EXPECT_EQ(seen->sums, expected) << "the sums continue from the checkpointed state";
}

void ExpectExactlyOnceAfterRestore(int parallelism) {
  const RestoredState state = Checkpoint(/*after=*/3000);
  EXPECT_EQ(InFlightRecords(state), 0) << "aligned: nothing in flight";
  ExpectExactlyOnceAfterRestore(parallelism, state);
}

TEST(SnapshotRestoreTest, AJobRestoredAtTheSameParallelismSeesEveryRecordExactlyOnce) {
  ExpectExactlyOnceAfterRestore(2);
}

TEST(SnapshotRestoreTest, KeyedStateIsSplitByKeyGroupsWhenTheParallelismChanges) {
  ExpectExactlyOnceAfterRestore(3);
  ExpectExactlyOnceAfterRestore(1);
}

// Under backpressure (a slow sink, full input queues) the barrier overtakes
// the queued records, which go into the checkpoint and come back first.
TEST(SnapshotRestoreTest, AnUnalignedCheckpointKeepsTheRecordsItOvertookAndReplaysThem) {
  const RestoredState state = Checkpoint(3000, Unaligned, absl::Microseconds(20));
  EXPECT_GT(InFlightRecords(state), 0) << "the barrier overtook queued records";
  ExpectExactlyOnceAfterRestore(2, state);
}

TEST(SnapshotRestoreTest, AnAlignedCheckpointPastItsTimeoutGoesOnUnaligned) {
  const RestoredState state = Checkpoint(3000, SwitchedToUnaligned, absl::Microseconds(20));
  EXPECT_GT(InFlightRecords(state), 0) << "the aligned barrier was still queued";
  ExpectExactlyOnceAfterRestore(2, state);
}

TEST(SnapshotRestoreTest, InFlightDataIsRestoredOnlyAtTheSameParallelism) {
  const RestoredState state = Checkpoint(3000, Unaligned, absl::Microseconds(20));
  ASSERT_GT(InFlightRecords(state), 0);
  LocalJobOptions options;
  options.restore = std::make_shared<RestoredState>(state);
  auto job = LocalJob::Start(SumsJob(3, 0, std::make_shared<Seen>()), options);
  ASSERT_TRUE(job.ok());
  JobResult result = (*job)->Wait();
  EXPECT_EQ(result.state, JobState::kFailed);
  EXPECT_THAT(result.error, ::testing::HasSubstr("rescale from a savepoint"));
}

TEST(SnapshotRestoreTest, ASourceResumesOnlyAtItsParallelismAndBadStateIsNamed) {
  const RestoredState state = Checkpoint(/*after=*/1000);
  RestoredState narrower = state;
  narrower.vertices[0].pop_back();  // as if the source had run with parallelism 1
  LocalJobOptions options;
  options.restore = std::make_shared<RestoredState>(narrower);
  auto job = LocalJob::Start(SumsJob(2, 0, std::make_shared<Seen>()), options);
  ASSERT_TRUE(job.ok());
  JobResult result = (*job)->Wait();
  EXPECT_EQ(result.state, JobState::kFailed);
  EXPECT_THAT(result.error, ::testing::HasSubstr("resumes only at the parallelism"));

  RestoredState corrupt = state;
  for (auto& snapshot : corrupt.vertices[1]) {
    for (auto& op : *snapshot.mutable_operators()) {
      for (auto& kg : *op.mutable_key_groups()) kg.set_data("garbage");
    }
  }
  options.restore = std::make_shared<RestoredState>(corrupt);
  auto broken = LocalJob::Start(SumsJob(2, 0, std::make_shared<Seen>()), options);
  ASSERT_TRUE(broken.ok());
  result = (*broken)->Wait();
  EXPECT_EQ(result.state, JobState::kFailed);
  EXPECT_THAT(result.error, ::testing::HasSubstr("state of operator"));
}

// A source without a position (like the socket source).
class Unreplayable final : public SourceRunner {
 public:
  bool Step() override { return false; }
};

TEST(SnapshotRestoreTest, ASourceThatCannotBeReplayedSavesNoPositionButDoesNotFailTheCheckpoint) {
  Unreplayable source;
  auto snapshot = SnapshotTask(0, 0, 7, "Socket-0", &source, {}, {});
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_FALSE(snapshot->has_source_position());
  EXPECT_EQ(snapshot->checkpoint_id(), 7);
  RestoredState state;
  state.vertices[0].push_back(*snapshot);
  EXPECT_EQ(SavedSourceParallelism(state, "Socket-0"), 0);
  EXPECT_TRUE(RestoreSource(state, "Socket-0", 0, 4, &source).ok())
      << "nothing saved: it starts where it is, at any parallelism";
}

}  // namespace
}  // namespace sluice::engine

namespace sluice::engine {
namespace {

class NoTimers final : public internal::TimerTarget {
  void OnTimer(int64_t, std::string_view) override {}
};

// Subtask `subtask` of 2 over 8 key groups, its event time at `watermark`.
v1::TaskSnapshotProto KeyedSnapshotAt(int subtask, std::optional<int64_t> watermark) {
  NoTimers timers;
  HeapKeyedStateBackend backend(8, KeyGroupRange{subtask * 4, subtask * 4 + 3}, &timers);
  if (watermark) backend.AdvanceWatermark(*watermark);
  auto snapshot = SnapshotTask(0, subtask, 1, "", nullptr, {{"windows", &backend}}, {});
  EXPECT_TRUE(snapshot.ok()) << snapshot.status();
  return *snapshot;
}

int64_t RestoredWatermark(const RestoredState& state, KeyGroupRange range) {
  NoTimers timers;
  HeapKeyedStateBackend backend(8, range, &timers);
  EXPECT_TRUE(RestoreKeyedOperator(state, "windows", &backend).ok());
  return backend.current_watermark();
}

TEST(SnapshotRestoreTest, EventTimeResumesAtTheSmallestWatermarkOfTheSubtasksRestoredFrom) {
  RestoredState state;
  state.checkpoint_id = 1;
  state.vertices[0] = {KeyedSnapshotAt(0, 5000), KeyedSnapshotAt(1, 7000)};
  EXPECT_EQ(RestoredWatermark(state, {0, 3}), 5000);
  EXPECT_EQ(RestoredWatermark(state, {4, 7}), 7000);
  EXPECT_EQ(RestoredWatermark(state, {2, 5}), 5000) << "rescaled: from both";
  EXPECT_EQ(RestoredWatermark(state, {0, 7}), 5000);
  state.vertices[0][0] = KeyedSnapshotAt(0, std::nullopt);
  EXPECT_EQ(RestoredWatermark(state, {0, 7}), internal::kNoWatermark) << "one of them had none yet";
  EXPECT_EQ(RestoredWatermark(state, {4, 7}), 7000);
}

}  // namespace
}  // namespace sluice::engine
