// The runtime's network stack in one process: record writers, the element
// format with in-band events, input gates that block single channels, and
// barrier alignment.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "engine/barrier_aligner.h"
#include "engine/channel.h"
#include "engine/input_gate.h"
#include "engine/key_groups.h"
#include "engine/record_writer.h"
#include "engine/watermark_valve.h"
#include "sluice/serialization.h"

namespace sluice::engine {
namespace {

// What a channel received, element by element.
struct Element {
  std::string record;  // empty for events
  std::optional<ChannelEvent> event;
};

class RecordingChannel final : public ChannelSink {
 public:
  absl::Status Write(std::string buffer) override {
    if (fail) return absl::UnavailableError("connection lost");
    buffers.push_back(std::move(buffer));
    return absl::OkStatus();
  }
  absl::Status Close() override {
    closed = true;
    return absl::OkStatus();
  }
  std::vector<Element> Elements() const {
    std::vector<Element> out;
    for (const auto& b : buffers) {
      ElementReader reader(b);
      while (true) {
        ElementReader::Kind kind;
        std::string_view record;
        ChannelEvent event;
        EXPECT_TRUE(reader.Next(&kind, &record, &event).ok());
        if (kind == ElementReader::Kind::kEnd) break;
        if (kind == ElementReader::Kind::kRecord) {
          out.push_back({std::string(record), std::nullopt});
        } else {
          out.push_back({"", event});
        }
      }
    }
    return out;
  }
  std::vector<std::string> Records() const {
    std::vector<std::string> out;
    for (const auto& e : Elements()) {
      if (!e.event) out.push_back(e.record);
    }
    return out;
  }
  std::vector<std::string> buffers;
  bool closed = false;
  bool fail = false;
};

std::string Key(int64_t k) { return Serialize(k); }

TEST(RecordWriterTest, HashEdgesRouteByKeyGroupWithFlinksFormula) {
  RecordingChannel a, b, c;
  RecordWriterOptions options;
  options.partitioning = Partitioning::kHash;
  options.key_groups = 6;
  RecordWriter writer({&a, &b, &c}, options);
  std::vector<std::string> expected[3];
  for (int64_t k = 0; k < 60; ++k) {
    std::string record = "r" + std::to_string(k);
    writer.Emit(record, Key(k));
    // An independent computation: XXH3 of the key bytes, mod key groups,
    // then Flink's kg * parallelism / max parallelism.
    int kg = static_cast<int>(((KeyHash(Key(k)) >> 32) * 6) >> 32);
    expected[kg * 3 / 6].push_back(record);
  }
  writer.Close();
  EXPECT_EQ(a.Records(), expected[0]);
  EXPECT_EQ(b.Records(), expected[1]);
  EXPECT_EQ(c.Records(), expected[2]);
  EXPECT_FALSE(expected[0].empty() || expected[1].empty() || expected[2].empty());
  EXPECT_TRUE(a.closed && b.closed && c.closed);
  EXPECT_EQ(writer.records_out(), 60u);
}

TEST(RecordWriterTest, BuffersHoldAtMostTheConfiguredSegmentSize) {
  for (size_t segment : {4096u, 65536u}) {
    RecordingChannel channel;
    RecordWriterOptions options;
    options.segment_size = segment;
    RecordWriter writer({&channel}, options);
    for (int i = 0; i < 2000; ++i) writer.Emit(std::string(100, 'x'), "");
    writer.Flush();
    EXPECT_EQ(channel.Records().size(), 2000u);
    EXPECT_GE(channel.buffers.size(), 200 * 1024 / segment);
    for (const auto& buffer : channel.buffers) EXPECT_LE(buffer.size(), segment + 104);
  }
}

TEST(RecordWriterTest, EventsGoToEveryChannelBehindTheRecordsBeforeThem) {
  RecordingChannel a, b;
  RecordWriterOptions options;
  options.partitioning = Partitioning::kRebalance;
  RecordWriter writer({&a, &b}, options);
  writer.Emit("1", "");
  writer.Emit("2", "");
  writer.Emit("3", "");
  writer.BroadcastEvent({EventKind::kCheckpointBarrier, 7, 1000});
  writer.Emit("4", "");
  writer.Emit("5", "");
  writer.Close();
  auto elements = a.Elements();
  ASSERT_EQ(elements.size(), 4u);
  EXPECT_EQ(elements[0].record, "1");
  EXPECT_EQ(elements[1].record, "3");
  ASSERT_TRUE(elements[2].event.has_value());
  EXPECT_EQ(*elements[2].event, (ChannelEvent{EventKind::kCheckpointBarrier, 7, 1000}));
  EXPECT_EQ(elements[3].record, "5");
  auto other = b.Elements();
  ASSERT_EQ(other.size(), 3u);
  EXPECT_EQ(other[0].record, "2");
  EXPECT_TRUE(other[1].event.has_value());
  EXPECT_EQ(other[2].record, "4");
}

TEST(RecordWriterTest, AFailedChannelIsAStatusAndLaterRecordsAreDropped) {
  RecordingChannel channel;
  RecordWriterOptions options;
  options.flush_every_record = true;
  RecordWriter writer({&channel}, options);
  writer.Emit("ok", "");
  channel.fail = true;
  writer.Emit("lost", "");  // no exception into the operator that emitted it
  writer.Emit("dropped", "");
  EXPECT_TRUE(absl::IsUnavailable(writer.status())) << writer.status();
  EXPECT_EQ(channel.Records(), std::vector<std::string>{"ok"});
}

TEST(ElementReaderTest, MalformedBuffersAreErrorsNotCrashes) {
  std::string buffer;
  AppendRecord(&buffer, "hello", internal::kNoTimestamp);
  ElementReader::Kind kind;
  std::string_view record;
  ChannelEvent event;
  ElementReader truncated(std::string_view(buffer).substr(0, buffer.size() - 1));
  EXPECT_TRUE(absl::IsDataLoss(truncated.Next(&kind, &record, &event)));
  std::string bad_event;
  AppendEvent(&bad_event, {EventKind::kWatermark, 0, 5});
  bad_event[4] = 42;  // no such kind
  ElementReader unknown(bad_event);
  EXPECT_TRUE(absl::IsDataLoss(unknown.Next(&kind, &record, &event)));
}

class InputGateTest : public ::testing::Test {
 protected:
  std::optional<InputGate::Delivery> Next() {
    return gate_.Next(absl::Now() + absl::Milliseconds(200));
  }
  std::atomic<bool> cancelled_{false};
  InputGate gate_{4, 1 << 10, &cancelled_};
};

TEST_F(InputGateTest, ABlockedChannelWaitsWhileTheOthersGoOn) {
  ChannelSink* zero = gate_.AddChannel();
  ChannelSink* one = gate_.AddChannel();
  ASSERT_TRUE(zero->Write(std::string(800, 'a')).ok());
  ASSERT_TRUE(zero->Write(std::string(800, 'b')).ok());
  ASSERT_TRUE(one->Write(std::string(800, 'c')).ok());
  ASSERT_TRUE(one->Write(std::string(800, 'd')).ok());
  auto first = Next();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->channel, 0);
  gate_.Block(0);
  EXPECT_EQ(Next()->buffer[0], 'c');
  EXPECT_EQ(Next()->buffer[0], 'd');
  EXPECT_FALSE(Next().has_value()) << "channel 0 is blocked";
  gate_.Unblock(0);
  EXPECT_EQ(Next()->buffer[0], 'b');
}

TEST_F(InputGateTest, ChannelsTakeTurnsAndAPutBackRestComesFirst) {
  ChannelSink* zero = gate_.AddChannel();
  ChannelSink* one = gate_.AddChannel();
  for (char c : {'a', 'b'}) ASSERT_TRUE(zero->Write(std::string(800, c)).ok());
  for (char c : {'x', 'y'}) ASSERT_TRUE(one->Write(std::string(800, c)).ok());
  EXPECT_EQ(Next()->buffer[0], 'a');
  EXPECT_EQ(Next()->buffer[0], 'x');
  gate_.PushFront(1, "rest");
  EXPECT_EQ(Next()->buffer[0], 'b');
  EXPECT_EQ(Next()->buffer, "rest");
  EXPECT_EQ(Next()->buffer[0], 'y');
  ASSERT_TRUE(one->Close().ok());
  EXPECT_TRUE(Next()->end_of_partition);
}

TEST_F(InputGateTest, CancellationIsAStatusForTheProducer) {
  ChannelSink* zero = gate_.AddChannel();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(zero->Write(std::string(800, 'a')).ok());
  cancelled_ = true;  // the channel is full: the next write would wait
  EXPECT_TRUE(absl::IsCancelled(zero->Write(std::string(800, 'b'))));
  EXPECT_FALSE(Next().has_value());
}

TEST_F(InputGateTest, AnUnalignedBarrierOvertakesAFullChannelAndKnowsItsCut) {
  ChannelSink* zero = gate_.AddChannel();
  for (char c : {'a', 'b', 'c', 'd'}) ASSERT_TRUE(zero->Write(std::string(800, c)).ok());
  EXPECT_EQ(Next()->buffer[0], 'a');
  // Full again (4 buffers); the producer's unsent rest joins without room.
  ASSERT_TRUE(zero->Write(std::string(800, 'e')).ok());
  const ChannelEvent barrier{EventKind::kCheckpointBarrier, 3, 0};
  ASSERT_TRUE(zero->WritePriority("rest", barrier).ok());
  EXPECT_TRUE(gate_.has_priority());
  auto first = Next();
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(first->priority.has_value()) << "ahead of every queued buffer";
  EXPECT_EQ(*first->priority, barrier);
  EXPECT_EQ(first->cut, 5u * 800 + 4);
  EXPECT_FALSE(gate_.has_priority());
  auto queued = gate_.CopyQueued(0, first->cut);
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(*queued, std::string(800, 'b') + std::string(800, 'c') + std::string(800, 'd') +
                         std::string(800, 'e') + "rest")
      << "what the consumer has not processed before the barrier";
  EXPECT_EQ(*gate_.CopyQueued(0, 800 + 100), std::string(100, 'b')) << "a cut inside a buffer";
  EXPECT_EQ(Next()->buffer[0], 'b') << "the queued buffers are still processed";
  EXPECT_TRUE(absl::IsDataLoss(gate_.CopyQueued(0, 800).status())) << "already past it";
}

TEST_F(InputGateTest, AnInBandBarrierIsFoundInTheQueueAndReplayedDataComesFirst) {
  ChannelSink* zero = gate_.AddChannel();
  std::string small, big, last;
  AppendRecord(&small, "abc", internal::kNoTimestamp);
  AppendRecord(&big, std::string(1020, 'p'), internal::kNoTimestamp);  // too big to join
  AppendRecord(&last, "xyz", internal::kNoTimestamp);
  const size_t before_barrier = last.size();
  AppendEvent(&last, {EventKind::kCheckpointBarrier, 2, 0});
  AppendRecord(&last, "after", internal::kNoTimestamp);
  for (const std::string* b : {&small, &big, &last}) ASSERT_TRUE(zero->Write(*b).ok());
  auto before = gate_.QueuedBeforeBarrier(0, 2);
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(*before, small + big + last.substr(0, before_barrier));
  EXPECT_FALSE(gate_.QueuedBeforeBarrier(0, 5).has_value());
  gate_.Replay(0, "old");
  EXPECT_EQ(Next()->buffer, "old") << "in-flight data of a restored checkpoint first";
  EXPECT_EQ(Next()->buffer, small);
}

TEST(BarrierAlignerTest, BlocksEachChannelUntilAllHaveTheBarrierThenForwardsOnce) {
  BarrierAligner aligner(3);
  const ChannelEvent barrier{EventKind::kCheckpointBarrier, 1, 100};
  auto d0 = aligner.OnEvent(0, barrier);
  EXPECT_TRUE(d0.block_channel);
  EXPECT_FALSE(d0.forward);
  auto d2 = aligner.OnEvent(2, barrier);
  EXPECT_TRUE(d2.block_channel);
  EXPECT_EQ(aligner.aligning(), 1);
  auto d1 = aligner.OnEvent(1, barrier);
  EXPECT_FALSE(d1.block_channel);
  EXPECT_TRUE(d1.unblock_all);
  ASSERT_TRUE(d1.forward.has_value());
  EXPECT_EQ(*d1.forward, barrier);
  EXPECT_FALSE(aligner.OnEvent(0, barrier).forward) << "a late duplicate is ignored";
}

TEST(BarrierAlignerTest, EndedChannelsDoNotHoldUpAndNewerBarriersWin) {
  BarrierAligner aligner(2);
  EXPECT_TRUE(aligner.OnEvent(0, {EventKind::kCheckpointBarrier, 1, 0}).block_channel);
  auto newer = aligner.OnEvent(1, {EventKind::kCheckpointBarrier, 2, 0});
  EXPECT_TRUE(newer.unblock_all) << "checkpoint 1 is given up";
  EXPECT_TRUE(newer.block_channel);
  auto ended = aligner.OnEndOfPartition(0);
  ASSERT_TRUE(ended.forward.has_value());
  EXPECT_EQ(ended.forward->id, 2);
  auto cancel = aligner.OnEvent(1, {EventKind::kCancelCheckpoint, 3, 0});
  ASSERT_TRUE(cancel.forward.has_value());
  EXPECT_EQ(cancel.forward->kind, EventKind::kCancelCheckpoint);
  EXPECT_FALSE(aligner.OnEvent(1, {EventKind::kCheckpointBarrier, 3, 0}).forward)
      << "a barrier of a cancelled checkpoint is stale";
}

TEST(WatermarkValveTest, IdleChannelsHoldNothingBackUntilTheyAreActiveAgain) {
  WatermarkValve valve(3);
  valve.OnWatermark(0, 10);
  valve.OnWatermark(1, 30);
  EXPECT_EQ(valve.OnWatermark(2, 50), 10) << "channel 0 holds it at 10";
  EXPECT_EQ(valve.OnStatus(0, true), 30) << "an idle channel is left out of the minimum";
  EXPECT_FALSE(valve.idle());
  EXPECT_EQ(valve.OnStatus(1, true), 50);
  EXPECT_FALSE(valve.OnStatus(2, true));
  EXPECT_TRUE(valve.idle()) << "every open channel idle: the task is idle";
  EXPECT_FALSE(valve.OnWatermark(0, 20)) << "back, but behind: it waits to catch up";
  EXPECT_FALSE(valve.idle());
  EXPECT_EQ(valve.OnWatermark(0, 60), 60);
  EXPECT_FALSE(valve.OnEndOfPartition(0));
  EXPECT_TRUE(valve.idle()) << "the channels left are idle";
  valve.OnEndOfPartition(1);
  valve.OnEndOfPartition(2);
  EXPECT_FALSE(valve.idle()) << "the end of every input is not idleness";
}

TEST(ElementReaderTest, RecordsCarryTheirEventTimeOnlyWhenTheyHaveOne) {
  std::string buffer;
  AppendRecord(&buffer, "plain", internal::kNoTimestamp);
  AppendRecord(&buffer, "timed", 1'700'000'000'123);
  AppendEvent(&buffer, {EventKind::kWatermarkStatus, 1, 0});
  ElementReader reader(buffer);
  ElementReader::Kind kind;
  std::string_view record;
  ChannelEvent event;
  ASSERT_TRUE(reader.Next(&kind, &record, &event).ok());
  EXPECT_EQ(record, "plain");
  EXPECT_EQ(reader.timestamp(), internal::kNoTimestamp);
  ASSERT_TRUE(reader.Next(&kind, &record, &event).ok());
  EXPECT_EQ(record, "timed");
  EXPECT_EQ(reader.timestamp(), 1'700'000'000'123);
  ASSERT_TRUE(reader.Next(&kind, &record, &event).ok());
  ASSERT_EQ(kind, ElementReader::Kind::kEvent);
  EXPECT_EQ(event, (ChannelEvent{EventKind::kWatermarkStatus, 1, 0}));
  // A timestamped record cut inside its time is an error, not garbage.
  std::string cut;
  AppendRecord(&cut, "x", 5);
  ElementReader truncated(std::string_view(cut).substr(0, 9));
  EXPECT_FALSE(truncated.Next(&kind, &record, &event).ok());
}

TEST(WatermarkValveTest, TheMinimumOfOpenChannelsAdvances) {
  WatermarkValve valve(2);
  EXPECT_FALSE(valve.OnWatermark(0, 10));
  EXPECT_EQ(valve.OnWatermark(1, 5), 5);
  EXPECT_FALSE(valve.OnWatermark(1, 4)) << "watermarks never go back";
  EXPECT_EQ(valve.OnWatermark(1, 20), 10);
  EXPECT_EQ(valve.OnEndOfPartition(0), 20);
}

}  // namespace
}  // namespace sluice::engine
