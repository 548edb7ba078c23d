// The ResourceManager core with in-memory session peers and a fake clock.
#include "resourcemanager/resource_manager.h"

#include <gtest/gtest.h>

#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "prometheus/registry.h"
#include "tests/testing/test_cluster.h"

namespace sluice {
namespace {

using testing::WaitFor;

class RecordingPeer final : public SessionPeer {
 public:
  void SendAccepted(const std::string& registration_id, const std::string&) override {
    absl::MutexLock lock(&mu_);
    accepted_ = registration_id;
  }
  void SendHeartbeatAck(uint64_t sequence, const ClusterOverview* overview) override {
    absl::MutexLock lock(&mu_);
    last_ack_ = sequence;
    if (overview != nullptr) last_overview_ = *overview;
  }
  void Close(const absl::Status& status) override {
    absl::MutexLock lock(&mu_);
    closed_ = status;
  }
  std::string accepted() const {
    absl::MutexLock lock(&mu_);
    return accepted_;
  }
  uint64_t last_ack() const {
    absl::MutexLock lock(&mu_);
    return last_ack_;
  }
  std::optional<absl::Status> closed() const {
    absl::MutexLock lock(&mu_);
    return closed_;
  }
  std::optional<ClusterOverview> overview() const {
    absl::MutexLock lock(&mu_);
    return last_overview_;
  }

 private:
  mutable absl::Mutex mu_;
  std::string accepted_;
  uint64_t last_ack_ = 0;
  std::optional<absl::Status> closed_;
  std::optional<ClusterOverview> last_overview_;
};

TaskManagerInfo Info(const std::string& id, const std::string& address) {
  TaskManagerInfo info{id, address, 0, "host", {}, {}};
  info.total.cpu_cores = 2;
  info.slots = {SlotState{0, {}, "", ""}, SlotState{1, {}, "", ""}};
  return info;
}

class ResourceManagerTest : public ::testing::Test {
 protected:
  ResourceManagerOptions Options() {
    ResourceManagerOptions options;
    options.heartbeat_interval = absl::Milliseconds(100);
    options.heartbeat_timeout = absl::Seconds(1);
    return options;
  }
  ClusterStatusSnapshot Status() { return rm_.GetClusterStatus().get(); }

  FakeClock clock_;
  prometheus::Registry metrics_;
  ResourceManager rm_{Options(), &clock_, metrics_};
};

TEST_F(ResourceManagerTest, RegistersAndAcksHeartbeats) {
  auto peer = std::make_shared<RecordingPeer>();
  rm_.RegisterTaskManager(1, peer, Info("tm-a", "a:1"));
  rm_.TaskManagerHeartbeat(1, 7, Info("tm-a", "a:1").slots, {});
  ASSERT_TRUE(WaitFor([&] { return peer->last_ack() == 7; }));
  EXPECT_FALSE(peer->accepted().empty());
  auto status = Status();
  ASSERT_EQ(status.task_managers.size(), 1u);
  EXPECT_EQ(status.overview.totals.slots_total, 2);
}

TEST_F(ResourceManagerTest, DuplicateIsClosedWithAlreadyExists) {
  auto first = std::make_shared<RecordingPeer>();
  auto second = std::make_shared<RecordingPeer>();
  rm_.RegisterTaskManager(1, first, Info("tm-a", "a:1"));
  rm_.RegisterTaskManager(2, second, Info("tm-a", "b:1"));
  ASSERT_TRUE(WaitFor([&] { return second->closed().has_value(); }));
  EXPECT_EQ(second->closed()->code(), absl::StatusCode::kAlreadyExists);
  EXPECT_FALSE(first->closed().has_value());
  EXPECT_EQ(Status().task_managers.at(0).info.rpc_address, "a:1");
}

TEST_F(ResourceManagerTest, SilentTaskManagerIsDeclaredLostAndItsStreamClosed) {
  auto peer = std::make_shared<RecordingPeer>();
  rm_.RegisterTaskManager(1, peer, Info("tm-a", "a:1"));
  ASSERT_TRUE(WaitFor([&] { return !peer->accepted().empty(); }));
  clock_.Advance(absl::Seconds(1) + absl::Milliseconds(1));
  ASSERT_TRUE(WaitFor([&] { return peer->closed().has_value(); }));
  EXPECT_EQ(peer->closed()->code(), absl::StatusCode::kUnavailable);
  auto status = Status();
  EXPECT_TRUE(status.task_managers.empty());
  EXPECT_EQ(status.overview.task_managers_lost_total, 1);
}

TEST_F(ResourceManagerTest, BrokenStreamIsLostAndDeregistrationIsNot) {
  auto a = std::make_shared<RecordingPeer>();
  auto b = std::make_shared<RecordingPeer>();
  rm_.RegisterTaskManager(1, a, Info("tm-a", "a:1"));
  rm_.RegisterTaskManager(2, b, Info("tm-b", "b:1"));
  rm_.TaskManagerSessionClosed(1);
  rm_.DeregisterTaskManager(2, "shutting down");
  ASSERT_TRUE(WaitFor([&] { return b->closed().has_value(); }));
  EXPECT_TRUE(b->closed()->ok());
  auto status = Status();
  EXPECT_TRUE(status.task_managers.empty());
  EXPECT_EQ(status.overview.task_managers_lost_total, 1);
}

TEST_F(ResourceManagerTest, JobManagerHeartbeatAcksCarryTheOverview) {
  auto tm = std::make_shared<RecordingPeer>();
  auto jm = std::make_shared<RecordingPeer>();
  rm_.RegisterTaskManager(1, tm, Info("tm-a", "a:1"));
  rm_.RegisterJobManager(2, jm, JobManagerInfo{"jm", "jm:1", ""});
  rm_.JobManagerHeartbeat(2, 3);
  ASSERT_TRUE(WaitFor([&] { return jm->last_ack() == 3; }));
  ASSERT_TRUE(jm->overview().has_value());
  EXPECT_EQ(jm->overview()->totals.task_managers, 1);
  EXPECT_EQ(Status().job_managers, 1);
}

}  // namespace
}  // namespace sluice
