// The ResourceManager core with in-memory session peers and a fake clock.
#include "resourcemanager/resource_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/base/thread_annotations.h"
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
  void SendSlotRequest(const SlotGrant& grant, const std::string& address) override {
    absl::MutexLock lock(&mu_);
    slot_requests_.push_back(grant);
    job_master_address_ = address;
  }
  void SendFreeAllocation(const std::string& allocation_id, const std::string&) override {
    absl::MutexLock lock(&mu_);
    freed_.push_back(allocation_id);
  }
  void SendDeclarationResult(const std::string& job_id, const absl::Status& status) override {
    absl::MutexLock lock(&mu_);
    declaration_results_[job_id] = status;
  }
  void SendSlotsRevoked(const std::vector<SlotManagerEffects::Revocation>& revoked) override {
    absl::MutexLock lock(&mu_);
    revoked_.insert(revoked_.end(), revoked.begin(), revoked.end());
  }
  void SendRequestFailed(const std::string& job_id, const std::string& message) override {
    absl::MutexLock lock(&mu_);
    failures_[job_id] = message;
  }
  std::vector<SlotGrant> slot_requests() const {
    absl::MutexLock lock(&mu_);
    return slot_requests_;
  }
  std::string job_master_address() const {
    absl::MutexLock lock(&mu_);
    return job_master_address_;
  }
  std::vector<std::string> freed() const {
    absl::MutexLock lock(&mu_);
    return freed_;
  }
  std::optional<absl::Status> declaration_result(const std::string& job) const {
    absl::MutexLock lock(&mu_);
    auto it = declaration_results_.find(job);
    return it == declaration_results_.end() ? std::nullopt : std::optional(it->second);
  }
  std::vector<SlotManagerEffects::Revocation> revoked() const {
    absl::MutexLock lock(&mu_);
    return revoked_;
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
  std::string accepted_ ABSL_GUARDED_BY(mu_);
  uint64_t last_ack_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<absl::Status> closed_ ABSL_GUARDED_BY(mu_);
  std::optional<ClusterOverview> last_overview_ ABSL_GUARDED_BY(mu_);
  std::vector<SlotGrant> slot_requests_ ABSL_GUARDED_BY(mu_);
  std::string job_master_address_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> freed_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Status> declaration_results_ ABSL_GUARDED_BY(mu_);
  std::vector<SlotManagerEffects::Revocation> revoked_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> failures_ ABSL_GUARDED_BY(mu_);
};

TaskManagerInfo Info(const std::string& id, const std::string& address) {
  TaskManagerInfo info;
  info.id = id;
  info.rpc_address = address;
  info.hostname = "host";
  info.total.cpu_cores = 2;
  for (int i = 0; i < 2; ++i) {
    SlotState slot;
    slot.index = i;
    info.slots.push_back(slot);
  }
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
  rm_.TaskManagerHeartbeat(1, 7, Info("tm-a", "a:1").slots, 0, {});
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

JobDeclaration Declaration(const std::string& job, int slots) {
  JobDeclaration d;
  d.job_id = job;
  d.requirements.push_back({ResourceProfile{}, slots, slots});
  return d;
}

TEST_F(ResourceManagerTest, DeclaredJobGetsSlotsRequestedFromTheTaskManager) {
  auto tm = std::make_shared<RecordingPeer>();
  auto jm = std::make_shared<RecordingPeer>();
  rm_.RegisterJobManager(1, jm, JobManagerInfo{"jm", "jm-host:6123", ""});
  rm_.DeclareResources(1, Declaration("job-1", 2));
  ASSERT_TRUE(WaitFor([&] { return jm->declaration_result("job-1").has_value(); }));
  EXPECT_TRUE(jm->declaration_result("job-1")->ok());
  EXPECT_EQ(Status().waiting.size(), 1u) << "no TaskManager yet: the request waits";
  rm_.RegisterTaskManager(2, tm, Info("tm-a", "a:1"));
  ASSERT_TRUE(WaitFor([&] { return tm->slot_requests().size() == 2; }));
  EXPECT_EQ(tm->job_master_address(), "jm-host:6123");
  EXPECT_EQ(tm->slot_requests()[0].job_id, "job-1");
  auto status = Status();
  EXPECT_TRUE(status.waiting.empty());
  EXPECT_EQ(status.overview.totals.slots_free, 0);
  EXPECT_EQ(status.task_managers.at(0).info.slots.at(0).job_id, "job-1");
  // The job ends: the TaskManager is told to free both slots.
  rm_.ReleaseJob(1, "job-1");
  ASSERT_TRUE(WaitFor([&] { return tm->freed().size() == 2; }));
  EXPECT_EQ(Status().overview.totals.slots_free, 2);
}

TEST_F(ResourceManagerTest, OccupiedSlotIsCorrectedAndAnotherPicked) {
  auto a = std::make_shared<RecordingPeer>();
  auto b = std::make_shared<RecordingPeer>();
  auto jm = std::make_shared<RecordingPeer>();
  rm_.RegisterJobManager(1, jm, JobManagerInfo{"jm", "jm:1", ""});
  TaskManagerInfo one_slot = Info("tm-a", "a:1");
  one_slot.slots.resize(1);
  rm_.RegisterTaskManager(2, a, one_slot);
  rm_.DeclareResources(1, Declaration("job-1", 1));
  ASSERT_TRUE(WaitFor([&] { return a->slot_requests().size() == 1; }));
  TaskManagerInfo other = Info("tm-b", "b:1");
  other.slots.resize(1);
  rm_.RegisterTaskManager(3, b, other);
  rm_.SlotRequestAnswered(2, SlotRequestAnswer{a->slot_requests()[0].allocation_id, false, "ghost",
                                               "ghost-allocation"});
  ASSERT_TRUE(WaitFor([&] { return b->slot_requests().size() == 1; }));
  auto status = Status();
  for (const auto& tm : status.task_managers) {
    if (tm.info.id == "tm-a") {
      EXPECT_EQ(tm.info.slots.at(0).allocation_id, "ghost-allocation");
    }
  }
}

TEST_F(ResourceManagerTest, LostTaskManagerRevokesItsSlotsAtTheJobManager) {
  auto tm = std::make_shared<RecordingPeer>();
  auto jm = std::make_shared<RecordingPeer>();
  rm_.RegisterJobManager(1, jm, JobManagerInfo{"jm", "jm:1", ""});
  rm_.RegisterTaskManager(2, tm, Info("tm-a", "a:1"));
  rm_.DeclareResources(1, Declaration("job-1", 2));
  ASSERT_TRUE(WaitFor([&] { return tm->slot_requests().size() == 2; }));
  rm_.TaskManagerSessionClosed(2);
  ASSERT_TRUE(WaitFor([&] { return jm->revoked().size() == 2; }));
  EXPECT_THAT(jm->revoked()[0].reason, ::testing::HasSubstr("TaskManager 'tm-a' was lost"));
  EXPECT_EQ(Status().waiting.size(), 1u) << "the job waits for replacement slots";
}

TEST_F(ResourceManagerTest, WrongTenantTokenIsRefusedToTheJobManager) {
  auto jm = std::make_shared<RecordingPeer>();
  rm_.RegisterJobManager(1, jm, JobManagerInfo{"jm", "jm:1", ""});
  JobDeclaration d = Declaration("job-1", 1);
  d.tenant = "nobody";
  rm_.DeclareResources(1, d);
  ASSERT_TRUE(WaitFor([&] { return jm->declaration_result("job-1").has_value(); }));
  EXPECT_EQ(jm->declaration_result("job-1")->code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace sluice
