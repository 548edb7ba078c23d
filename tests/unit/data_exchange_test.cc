// The data port between two TaskManagers, in one process over loopback:
// ordering, credit-based backpressure, cancellation, broken connections and
// malformed input.
#include "taskmanager/data_exchange.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <future>
#include <thread>

#include "common/net/tcp.h"
#include "taskmanager/data_protocol.h"

namespace sluice {
namespace {

constexpr int kChannel = 7;
const char kJob[] = "job-1";

std::unique_ptr<DataExchange> StartExchange(const std::string& id) {
  DataExchangeOptions options;
  options.bind_host = "127.0.0.1";
  options.advertised_host = "127.0.0.1";
  options.credits_per_channel = 2;
  options.connect_timeout = absl::Seconds(5);
  auto exchange = DataExchange::Start(options);
  EXPECT_TRUE(exchange.ok()) << exchange.status();
  (*exchange)->SetId(id);
  return *std::move(exchange);
}

// Vertex 0 (the producer) runs on A, vertex 1 (the consumer) on B.
class DataExchangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = StartExchange("A");
    b_ = StartExchange("B");
    JobLocations where{{{0, 0}, {"A", a_->address()}}, {{1, 0}, {"B", b_->address()}}};
    receiving_ = b_->PlacementFor(kJob, where);
    sending_ = a_->PlacementFor(kJob, where);
    engine::ChannelSink* sink = gate_.AddChannel();
    receiving_->RemoteInput(kChannel, 0, 0, &gate_, 0, sink);
    out_ = sending_->RemoteOutput(kChannel, 1, 0);
  }
  void TearDown() override {
    receiver_cancelled_ = true;
    gate_.Wake();
    if (b_) b_->StopReceiving(kJob);
  }

  std::optional<engine::InputGate::Delivery> Next() {
    return gate_.Next(absl::Now() + absl::Seconds(10));
  }

  std::unique_ptr<DataExchange> a_;
  std::unique_ptr<DataExchange> b_;
  std::atomic<bool> receiver_cancelled_{false};
  engine::InputGate gate_{2, 32 << 10, &receiver_cancelled_};
  std::unique_ptr<engine::Placement> receiving_;
  std::unique_ptr<engine::Placement> sending_;
  engine::ChannelSink* out_ = nullptr;
};

// A buffer of 20 KiB: two never fit in one 32 KiB frame or gate buffer.
std::string Big(const std::string& tag) { return tag + std::string(20 << 10, '.'); }

TEST_F(DataExchangeTest, BuffersArriveInOrderFollowedByEndOfPartition) {
  // Small buffers may be joined on the way (while waiting for credit, or in
  // the gate): the bytes and their order are what must hold.
  std::string sent;
  for (int i = 0; i < 2000; ++i) sent += "buffer-" + std::to_string(i) + ";";
  std::thread producer([this] {
    for (int i = 0; i < 2000; ++i)
      EXPECT_TRUE(out_->Write("buffer-" + std::to_string(i) + ";").ok());
    EXPECT_TRUE(out_->Close().ok());
  });
  std::string received;
  while (true) {
    auto event = Next();
    ASSERT_TRUE(event.has_value()) << "stalled after " << received.size() << " bytes";
    if (event->end_of_partition) break;
    received += event->buffer;
  }
  EXPECT_EQ(received, sent);
  producer.join();
}

TEST_F(DataExchangeTest, SmallBuffersWithoutCreditAreJoinedIntoOneFrame) {
  // Full buffers, so the small ones cannot join them in the gate either.
  const std::string filler(32 << 10, '.');
  EXPECT_TRUE(out_->Write("first" + filler).ok());
  EXPECT_TRUE(out_->Write("second" + filler).ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (gate_.queued() < 2 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  ASSERT_EQ(gate_.queued(), 2);
  // Both credits are spent: these wait together.
  EXPECT_TRUE(out_->Write("a;").ok());
  EXPECT_TRUE(out_->Write("b;").ok());
  EXPECT_EQ(Next()->buffer, "first" + filler);
  EXPECT_EQ(Next()->buffer, "second" + filler);
  EXPECT_EQ(Next()->buffer, "a;b;");
}

TEST_F(DataExchangeTest, SenderWaitsForCreditUntilTheConsumerTakesABuffer) {
  EXPECT_TRUE(out_->Write(Big("first")).ok());
  EXPECT_TRUE(out_->Write(Big("second")).ok());
  EXPECT_TRUE(out_->Write(Big("third")).ok());  // waits for credit in the pending buffer
  auto fourth = std::async(std::launch::async, [this] { return out_->Write(Big("fourth")); });
  // Two credits per channel and a full pending buffer: the consumer must act.
  EXPECT_EQ(fourth.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  EXPECT_LE(gate_.queued(), 2);
  ASSERT_EQ(Next()->buffer, Big("first"));
  ASSERT_EQ(fourth.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(fourth.get().ok());
  EXPECT_EQ(Next()->buffer, Big("second"));
  EXPECT_EQ(Next()->buffer, Big("third"));
  EXPECT_EQ(Next()->buffer, Big("fourth"));
}

TEST_F(DataExchangeTest, AnUnalignedBarrierNeedsNoCreditAndTakesThePendingBufferAlong) {
  EXPECT_TRUE(out_->Write(Big("one")).ok());
  EXPECT_TRUE(out_->Write(Big("two")).ok());
  EXPECT_TRUE(out_->Write(Big("six")).ok());  // no credit left: waits in the sender
  const engine::ChannelEvent barrier{engine::EventKind::kCheckpointBarrier, 4, 99};
  EXPECT_TRUE(out_->WritePriority("rest;", barrier).ok()) << "sent without waiting for credit";
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!gate_.has_priority() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  auto first = Next();
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(first->priority.has_value()) << "the barrier overtook the queued buffers";
  EXPECT_EQ(*first->priority, barrier);
  const std::string before = Big("one") + Big("two") + Big("six") + "rest;";
  EXPECT_EQ(first->cut, before.size());
  auto queued = gate_.CopyQueued(0, first->cut);
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(*queued, before) << "everything written before the barrier, in order";
  std::string processed;
  while (processed.size() < before.size()) {
    auto next = Next();
    ASSERT_TRUE(next.has_value());
    processed += next->buffer;
  }
  EXPECT_EQ(processed, before) << "and still processed";
  EXPECT_TRUE(out_->Write("after;").ok()) << "credits still flow";
  EXPECT_EQ(Next()->buffer, "after;");
}

TEST_F(DataExchangeTest, CancellingTheJobReleasesASenderWaitingForCredit) {
  for (const char* tag : {"first", "second", "third"}) EXPECT_TRUE(out_->Write(Big(tag)).ok());
  auto fourth = std::async(std::launch::async, [this] { return out_->Write(Big("fourth")); });
  EXPECT_EQ(fourth.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  sending_->Cancel();
  ASSERT_EQ(fourth.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(absl::IsCancelled(fourth.get()));
}

TEST_F(DataExchangeTest, CancellingOneJobLeavesTheSharedConnectionToOthers) {
  // A second job between the same two TaskManagers shares the connection.
  const char kOther[] = "job-2";
  JobLocations where{{{0, 0}, {"A", a_->address()}}, {{1, 0}, {"B", b_->address()}}};
  auto other_receiving = b_->PlacementFor(kOther, where);
  auto other_sending = a_->PlacementFor(kOther, where);
  std::atomic<bool> other_cancelled{false};
  engine::InputGate other_gate(2, 32 << 10, &other_cancelled);
  other_receiving->RemoteInput(kChannel, 0, 0, &other_gate, 0, other_gate.AddChannel());
  engine::ChannelSink* other_out = other_sending->RemoteOutput(kChannel, 1, 0);

  for (const char* tag : {"first", "second", "third"}) EXPECT_TRUE(out_->Write(Big(tag)).ok());
  auto blocked = std::async(std::launch::async, [this] { return out_->Write(Big("fourth")); });
  EXPECT_EQ(blocked.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  sending_->Cancel();
  ASSERT_EQ(blocked.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(absl::IsCancelled(blocked.get()));
  b_->StopReceiving(kJob);
  sending_.reset();  // the cancelled job's streams close

  EXPECT_TRUE(other_out->Write("still flowing;").ok());
  EXPECT_TRUE(other_out->Close().ok());
  auto event = other_gate.Next(absl::Now() + absl::Seconds(10));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->buffer, "still flowing;");
  auto end = other_gate.Next(absl::Now() + absl::Seconds(10));
  ASSERT_TRUE(end.has_value());
  EXPECT_TRUE(end->end_of_partition);
  other_cancelled = true;
  b_->StopReceiving(kOther);
}

TEST_F(DataExchangeTest, ALostReceiverFailsTheSenderNamingItsAddress) {
  const std::string address = b_->address();
  for (const char* tag : {"first", "second", "third"}) EXPECT_TRUE(out_->Write(Big(tag)).ok());
  auto third = std::async(std::launch::async, [this] { return out_->Write(Big("fourth")); });
  EXPECT_EQ(third.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  b_->StopReceiving(kJob);
  b_.reset();  // the receiving TaskManager goes away
  ASSERT_EQ(third.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  absl::Status status = third.get();
  ASSERT_FALSE(status.ok()) << "the write succeeded";
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_NE(std::string(status.message()).find(address), std::string::npos) << status;
}

TEST_F(DataExchangeTest, ConnectingToNothingIsAClearError) {
  auto listener = net::Listen("127.0.0.1", 0);  // a port that then closes
  ASSERT_TRUE(listener.ok());
  std::string address = "127.0.0.1:" + std::to_string(listener->port);
  listener->fd = net::Fd();
  try {
    a_->ConnectionTo(address);
    FAIL() << "connected to a closed port";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot connect to the data port " + address),
              std::string::npos)
        << e.what();
  }
}

TEST(DataPortTest, APortInUseIsAClearStartupError) {
  auto taken = net::Listen("127.0.0.1", 0);
  ASSERT_TRUE(taken.ok());
  DataExchangeOptions options;
  options.bind_host = "127.0.0.1";
  options.port = taken->port;
  auto exchange = DataExchange::Start(options);
  ASSERT_FALSE(exchange.ok());
  EXPECT_THAT(std::string(exchange.status().message()),
              ::testing::AllOf(::testing::HasSubstr("taskmanager.data.port"),
                               ::testing::HasSubstr(std::to_string(taken->port)),
                               ::testing::HasSubstr("in use")));
}

// A raw client that speaks (or breaks) the protocol.
class RawClient {
 public:
  explicit RawClient(const std::string& address) {
    auto fd = net::Connect(address, absl::Seconds(5));
    EXPECT_TRUE(fd.ok()) << fd.status();
    fd_ = *std::move(fd);
    timeval timeout{10, 0};  // bounds ClosedByPeer()
    setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  void Raw(const std::string& bytes) { ASSERT_TRUE(TryRaw(bytes)); }
  // False once the peer has cut the connection off.
  bool TryRaw(const std::string& bytes) {
    return send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  bool TryFrame(data::FrameType type, uint32_t stream, const std::string& payload,
                std::optional<uint32_t> value = std::nullopt) {
    char header[data::kHeaderSize];
    data::EncodeHeader({type, stream, value.value_or(static_cast<uint32_t>(payload.size()))},
                       header);
    return TryRaw(std::string(header, sizeof(header)) + payload);
  }
  void Frame(data::FrameType type, uint32_t stream, const std::string& payload,
             std::optional<uint32_t> value = std::nullopt) {
    ASSERT_TRUE(TryFrame(type, stream, payload, value));
  }
  void Hello(const std::string& id) {
    Frame(data::FrameType::kHello, data::kVersion, data::EncodeHello({id, ""}));
  }
  void Open(uint32_t stream, int channel, const std::string& job) {
    Frame(data::FrameType::kOpen, stream, data::EncodeOpen({channel, job}));
  }
  // Reads until the peer closes; false if it did not within 10 s.
  bool ClosedByPeer() {
    char buffer[4096];
    while (true) {
      ssize_t got = recv(fd_.get(), buffer, sizeof(buffer), 0);
      if (got == 0) return true;
      if (got < 0) return errno == ECONNRESET;
    }
  }

 private:
  net::Fd fd_;
};

TEST_F(DataExchangeTest, SomethingElseOnTheDataPortIsDroppedAndRealSendersCarryOn) {
  RawClient http(b_->address());
  http.Raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(http.ClosedByPeer());
  RawClient old_version(b_->address());
  old_version.Frame(data::FrameType::kHello, 99, data::EncodeHello({"A", ""}));
  EXPECT_TRUE(old_version.ClosedByPeer());

  EXPECT_TRUE(out_->Write("still works").ok());
  EXPECT_TRUE(out_->Close().ok());
  EXPECT_EQ(Next()->buffer, "still works");
  EXPECT_TRUE(Next()->end_of_partition);
}

TEST_F(DataExchangeTest, ASenderIgnoringCreditsIsCutOffBeforeTheGateOverflows) {
  RawClient rogue(b_->address());
  rogue.Hello("A");
  rogue.Open(1, kChannel, kJob);
  // (Buffers too large to be joined in the gate, which would return credit.)
  // The receiver may cut the rogue off before it has written them all.
  for (int i = 0; i < 5 && rogue.TryFrame(data::FrameType::kData, 1, Big("x")); ++i) {
  }
  EXPECT_TRUE(rogue.ClosedByPeer());
  EXPECT_LE(gate_.queued(), 2);
}

TEST_F(DataExchangeTest, OversizedOrUnknownFramesEndTheConnection) {
  RawClient huge(b_->address());
  huge.Hello("A");
  huge.Open(1, kChannel, kJob);
  huge.Frame(data::FrameType::kData, 1, "", 1u << 30);
  EXPECT_TRUE(huge.ClosedByPeer());

  RawClient unknown_stream(b_->address());
  unknown_stream.Hello("A");
  unknown_stream.Frame(data::FrameType::kData, 42, "x");
  EXPECT_TRUE(unknown_stream.ClosedByPeer());

  RawClient bad_magic(b_->address());
  bad_magic.Frame(data::FrameType::kHello, data::kVersion, "NOT-SLUICE");
  EXPECT_TRUE(bad_magic.ClosedByPeer());

  RawClient short_open(b_->address());
  short_open.Hello("A");
  short_open.Frame(data::FrameType::kOpen, 1, "ab");
  EXPECT_TRUE(short_open.ClosedByPeer());

  RawClient bad_type(b_->address());
  bad_type.Hello("A");
  bad_type.Raw(std::string("\x7f\0\0\0\0\0\0\0\0\0\0\0", 12));
  EXPECT_TRUE(bad_type.ClosedByPeer());
}

TEST_F(DataExchangeTest, AChannelOpenedByTheWrongTaskManagerGetsNoCredit) {
  RawClient impostor(b_->address());
  impostor.Hello("not-A");
  impostor.Open(1, kChannel, kJob);
  impostor.Frame(data::FrameType::kData, 1, "x");  // no credit was granted
  EXPECT_TRUE(impostor.ClosedByPeer());
  EXPECT_EQ(gate_.queued(), 0);
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// taskmanager.isolation: process, in one test process: A's job process sends
// on a connection scoped to the job; TaskManager B's data port hands it over
// (as B does to its job process) to C, where the job's gate is.
TEST(JobScopedDataTest, AConnectionNamingItsJobIsHandedOverWithWhatFollowedItsHello) {
  auto scoped = [](const std::string& id) {
    DataExchangeOptions options;
    options.job_scope = kJob;
    options.connect_timeout = absl::Seconds(5);
    auto exchange = DataExchange::Start(options);
    EXPECT_TRUE(exchange.ok()) << exchange.status();
    (*exchange)->SetId(id);
    return *std::move(exchange);
  };
  auto a = scoped("A");
  auto c = scoped("B");  // B's job process: the TaskManager's id
  auto b = StartExchange("B");
  std::atomic<int> handed{0};
  b->SetHandOff([&](const std::string& job, net::Fd& fd, const std::string& buffered,
                    const std::string& sender) {
    EXPECT_EQ(job, kJob);
    EXPECT_EQ(sender, "A");
    ++handed;
    c->Adopt(std::move(fd), buffered, sender, "test");
    return true;
  });
  JobLocations where{{{0, 0}, {"A", ""}}, {{1, 0}, {"B", b->address()}}};
  std::atomic<bool> cancelled{false};
  engine::InputGate gate{2, 32 << 10, &cancelled};
  auto receiving = c->PlacementFor(kJob, where);
  receiving->RemoteInput(kChannel, 0, 0, &gate, 0, gate.AddChannel());
  auto sending = a->PlacementFor(kJob, where);
  engine::ChannelSink* out = sending->RemoteOutput(kChannel, 1, 0);
  std::thread producer([out] {
    for (int i = 0; i < 500; ++i) EXPECT_TRUE(out->Write(Big(std::to_string(i))).ok());
    EXPECT_TRUE(out->Close().ok());
  });
  std::string received;
  for (auto next = gate.Next(absl::Now() + absl::Seconds(10)); next && !next->end_of_partition;
       next = gate.Next(absl::Now() + absl::Seconds(10))) {
    received += next->buffer;
  }
  producer.join();
  std::string sent;
  for (int i = 0; i < 500; ++i) sent += Big(std::to_string(i));
  EXPECT_EQ(received.size(), sent.size());
  EXPECT_TRUE(received == sent) << "bytes lost or reordered in the hand-over";
  EXPECT_EQ(handed.load(), 1);
  c->StopReceiving(kJob);
}

TEST(DataProtocolTest, AHelloCarriesItsJobScopeAndAnUnscopedOneStaysAsItWas) {
  auto scoped = data::DecodeHello(data::EncodeHello({"tm-1", "job-7"}));
  ASSERT_TRUE(scoped.ok());
  EXPECT_EQ(scoped->sender, "tm-1");
  EXPECT_EQ(scoped->job, "job-7");
  auto shared = data::DecodeHello(std::string(data::kMagic, 8) + "tm-2");
  ASSERT_TRUE(shared.ok());
  EXPECT_EQ(shared->sender, "tm-2");
  EXPECT_EQ(shared->job, "");
}

}  // namespace
}  // namespace sluice
