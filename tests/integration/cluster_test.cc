// A ResourceManager, a JobManager and TaskManagers in one process on
// 127.0.0.1 with port 0, talking real gRPC.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "client/cluster_client.h"
#include "client/status_format.h"
#include "jobmanager/job_manager.h"
#include "resourcemanager/resource_manager_server.h"
#include "taskmanager/task_manager.h"
#include "tests/testing/test_cluster.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;
using testing::HttpGet;
using testing::LoopbackConfig;
using testing::MetricValue;
using testing::WaitFor;

// The slots the JobManager's pool holds for `job_id` now.
std::vector<OfferedSlot> SlotsOf(const JobManager& jm, const std::string& job_id) {
  return jm.InspectSlotPool([job_id](const SlotPool& pool) { return pool.Slots(job_id); });
}

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto rm = ResourceManagerServer::Start(LoopbackConfig());
    ASSERT_TRUE(rm.ok()) << rm.status();
    rm_ = std::move(*rm);
  }

  std::vector<std::string> Peers(std::vector<std::string> extra = {}) {
    extra.push_back(absl::StrCat("resourcemanager.rpc.port=", rm_->rpc_port()));
    return extra;
  }

  std::unique_ptr<TaskManager> StartTaskManager(std::vector<std::string> overrides) {
    auto tm = TaskManager::Start(LoopbackConfig(Peers(std::move(overrides))));
    EXPECT_TRUE(tm.ok()) << tm.status();
    return tm.ok() ? std::move(*tm) : nullptr;
  }

  std::unique_ptr<JobManager> StartJobManager() {
    auto jm = JobManager::Start(LoopbackConfig(Peers()));
    EXPECT_TRUE(jm.ok()) << jm.status();
    return jm.ok() ? std::move(*jm) : nullptr;
  }

  int RegisteredTaskManagers() {
    return rm_->core().GetClusterStatus().get().overview.totals.task_managers;
  }

  std::string RmMetrics() { return HttpGet(rm_->metrics_port(), "/metrics").value_or(""); }

  std::unique_ptr<ResourceManagerServer> rm_;
};

TEST_F(ClusterTest, ClusterStatusFromJobManagerAndResourceManagerMatches) {
  auto jm = StartJobManager();
  auto tm1 = StartTaskManager({"taskmanager.numberOfTaskSlots=2", "taskmanager.cpu.cores=4",
                               "taskmanager.resource.gpu.amount=2"});
  auto tm2 =
      StartTaskManager({"taskmanager.numberOfTaskSlots=3", "taskmanager.memory.process.size=3g"});
  ASSERT_TRUE(jm && tm1 && tm2);
  ASSERT_TRUE(WaitFor([&] { return RegisteredTaskManagers() == 2 && jm->registered(); }));

  for (int port : {jm->rpc_port(), rm_->rpc_port()}) {
    auto status = FetchClusterStatus(absl::StrCat("127.0.0.1:", port), absl::Seconds(5));
    ASSERT_TRUE(status.ok()) << status.status();
    ASSERT_EQ(status->task_managers_size(), 2);
    EXPECT_EQ(status->overview().slots_total(), 5);
    EXPECT_EQ(status->overview().slots_free(), 5);
    EXPECT_EQ(status->job_managers(), 1);
    for (const auto& tm : status->task_managers()) {
      const TaskManager& local = tm.id() == tm1->spec().id ? *tm1 : *tm2;
      EXPECT_EQ(tm.rpc_address(), local.spec().rpc_address);
      EXPECT_EQ(tm.slots_total(), static_cast<int>(local.spec().slots.size()));
      EXPECT_EQ(tm.total_resources().cpu_cores(), local.spec().total.cpu_cores);
      EXPECT_EQ(tm.total_resources().memory_bytes(), local.spec().total.memory_bytes);
      EXPECT_LT(tm.last_heartbeat_age_seconds(), 1.0);
    }
    std::string table = FormatStatusTable(*status);
    EXPECT_THAT(table, HasSubstr(tm1->spec().id));
    EXPECT_THAT(table, HasSubstr("GPU FREE/TOTAL"));
    EXPECT_THAT(FormatStatusJson(*status), HasSubstr("\"slots_total\": 5"));
  }

  // The JobManager serves the cluster utilization on its REST port.
  ASSERT_TRUE(WaitFor([&] {
    auto metrics = HttpGet(jm->rest_port(), "/metrics");
    return metrics &&
           MetricValue(*metrics, R"(sluice_cluster_resource_utilization{resource="gpu"})");
  }));
  std::string jm_metrics = *HttpGet(jm->rest_port(), "/metrics");
  for (const char* resource : {"slots", "cpu", "memory", "gpu"}) {
    auto value = MetricValue(
        jm_metrics,
        absl::StrCat(R"(sluice_cluster_resource_utilization{resource=")", resource, R"("})"));
    ASSERT_TRUE(value.has_value()) << resource;
    EXPECT_EQ(*value, 0) << resource;
  }
  EXPECT_TRUE(MetricValue(jm_metrics, "process_resident_memory_bytes").value_or(0) > 0);
  // The JobManager's overview follows the heartbeat acks.
  EXPECT_TRUE(WaitFor([&] {
    return HttpGet(jm->rest_port(), "/overview").value_or("").find(R"("slots-total":5)") !=
           std::string::npos;
  }));

  std::string rm_metrics = RmMetrics();
  EXPECT_EQ(MetricValue(rm_metrics, "sluice_resourcemanager_taskmanagers"), 2);
  EXPECT_EQ(MetricValue(rm_metrics, R"(sluice_resourcemanager_slots{state="free"})"), 5);
  EXPECT_EQ(MetricValue(rm_metrics, R"(sluice_resourcemanager_resource_capacity{resource="cpu"})"),
            7);
  EXPECT_EQ(MetricValue(rm_metrics, R"(sluice_resourcemanager_resource_capacity{resource="gpu"})"),
            2);
}

TEST_F(ClusterTest, DuplicateIdIsRefusedAndTheFirstKept) {
  auto first = StartTaskManager({"taskmanager.resource-id=tm-x"});
  ASSERT_TRUE(first);
  ASSERT_TRUE(WaitFor([&] { return first->registered(); }));
  auto second = StartTaskManager({"taskmanager.resource-id=tm-x"});
  ASSERT_TRUE(second);
  ASSERT_TRUE(WaitFor([&] {
    return MetricValue(RmMetrics(),
                       "sluice_resourcemanager_taskmanager_registrations_refused_total")
               .value_or(0) >= 1;
  }));
  EXPECT_FALSE(second->registered());
  auto status = rm_->core().GetClusterStatus().get();
  ASSERT_EQ(status.task_managers.size(), 1u);
  EXPECT_EQ(status.task_managers[0].info.rpc_address, first->spec().rpc_address);
}

TEST_F(ClusterTest, ATaskManagerAnnouncingMoreSlotsThanAllowedIsRefused) {
  auto rm =
      ResourceManagerServer::Start(LoopbackConfig({"resourcemanager.taskmanager.max-slots=4"}));
  ASSERT_TRUE(rm.ok()) << rm.status();
  rm_ = std::move(*rm);
  auto greedy = StartTaskManager({"taskmanager.numberOfTaskSlots=8"});
  ASSERT_TRUE(greedy);
  ASSERT_TRUE(WaitFor([&] {
    return MetricValue(RmMetrics(),
                       "sluice_resourcemanager_taskmanager_registrations_refused_total")
               .value_or(0) >= 1;
  }));
  EXPECT_FALSE(greedy->registered());
  EXPECT_EQ(RegisteredTaskManagers(), 0);
  auto modest = StartTaskManager({"taskmanager.numberOfTaskSlots=4"});
  ASSERT_TRUE(modest);
  EXPECT_TRUE(WaitFor([&] { return modest->registered(); }));
  EXPECT_EQ(RegisteredTaskManagers(), 1);
}

TEST_F(ClusterTest, ShutdownDeregistersSoSlotsLeaveAtOnce) {
  auto tm1 = StartTaskManager({});
  auto tm2 = StartTaskManager({});
  ASSERT_TRUE(tm1 && tm2);
  ASSERT_TRUE(WaitFor([&] { return RegisteredTaskManagers() == 2; }));
  tm1->Shutdown();
  // Deregistration is synchronous with Shutdown: no waiting for a timeout.
  EXPECT_TRUE(WaitFor([&] { return RegisteredTaskManagers() == 1; }, absl::Milliseconds(500)));
  EXPECT_EQ(rm_->core().GetClusterStatus().get().overview.task_managers_lost_total, 0);
}

TEST_F(ClusterTest, TaskManagersComeBackWhenTheResourceManagerRestarts) {
  auto tm = StartTaskManager({});
  auto jm = StartJobManager();
  ASSERT_TRUE(tm && jm);
  ASSERT_TRUE(WaitFor([&] { return tm->registered() && jm->registered(); }));
  int port = rm_->rpc_port();
  rm_.reset();
  ASSERT_TRUE(WaitFor([&] { return !tm->registered(); }));
  auto restarted = ResourceManagerServer::Start(
      LoopbackConfig({absl::StrCat("resourcemanager.rpc.port=", port)}));
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  rm_ = std::move(*restarted);
  EXPECT_TRUE(WaitFor([&] { return RegisteredTaskManagers() == 1 && tm->registered(); }));
  EXPECT_TRUE(WaitFor([&] { return jm->registered(); }));
  EXPECT_EQ(tm->spec().id, rm_->core().GetClusterStatus().get().task_managers.at(0).info.id);
}

v1::DeclareResources Declaration(const std::string& job, int slots) {
  v1::DeclareResources d;
  d.set_job_id(job);
  auto* requirement = d.add_requirements();
  requirement->set_desired(slots);
  requirement->set_min(slots);
  return d;
}

TEST_F(ClusterTest, DeclaredJobGetsSlotsOfferedByATaskManagerThatJoinsLater) {
  auto jm = StartJobManager();
  ASSERT_TRUE(jm);
  ASSERT_TRUE(WaitFor([&] { return jm->registered(); }));
  jm->DeclareResources(Declaration("job-1", 2));
  ASSERT_TRUE(WaitFor([&] { return rm_->core().GetClusterStatus().get().waiting.size() == 1; }));
  auto declared = [&] {
    return jm->InspectSlotPool(
        [](const SlotPool& pool) { return pool.DeclarationStatus("job-1"); });
  };
  ASSERT_TRUE(WaitFor([&] { return declared().has_value(); }));
  EXPECT_TRUE(declared()->ok());

  auto tm = StartTaskManager({"taskmanager.numberOfTaskSlots=3"});
  ASSERT_TRUE(tm);
  ASSERT_TRUE(WaitFor([&] { return SlotsOf(*jm, "job-1").size() >= 2; }));
  for (const auto& slot : SlotsOf(*jm, "job-1")) {
    EXPECT_EQ(slot.task_manager_id, tm->spec().id);
    EXPECT_EQ(slot.task_manager_address, tm->spec().rpc_address);
  }
  auto held_by_job = [&] {
    int held = 0;
    for (const auto& slot : tm->SlotReport()) held += slot.job_id == "job-1" ? 1 : 0;
    return held;
  };
  EXPECT_EQ(held_by_job(), 2);
  auto status = FetchClusterStatus(absl::StrCat("127.0.0.1:", jm->rpc_port()), absl::Seconds(5));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->overview().slots_free(), 1);
  EXPECT_EQ(status->waiting_size(), 0);
  EXPECT_THAT(FormatStatusTable(*status), HasSubstr("TENANT"));

  // The job ends: its slots are free on both sides at once.
  jm->ReleaseJob("job-1");
  EXPECT_TRUE(WaitFor([&] { return held_by_job() == 0; }));
  EXPECT_TRUE(WaitFor(
      [&] { return rm_->core().GetClusterStatus().get().overview.totals.slots_free == 3; }));
}

TEST_F(ClusterTest, AJobManagerThatReconnectsDeclaresAgainAndKeepsItsSlots) {
  auto jm = StartJobManager();
  auto tm = StartTaskManager({"taskmanager.numberOfTaskSlots=2"});
  ASSERT_TRUE(jm && tm);
  ASSERT_TRUE(WaitFor([&] { return jm->registered(); }));
  jm->DeclareResources(Declaration("job-1", 2));
  ASSERT_TRUE(WaitFor([&] { return SlotsOf(*jm, "job-1").size() >= 2; }));
  int port = rm_->rpc_port();
  rm_.reset();
  ASSERT_TRUE(WaitFor([&] { return !jm->registered(); }));
  auto restarted = ResourceManagerServer::Start(
      LoopbackConfig({absl::StrCat("resourcemanager.rpc.port=", port)}));
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  rm_ = std::move(*restarted);
  // The new RM learns the allocations from the TaskManager's slot report and
  // the job's need from the re-sent declaration: nothing is allocated twice.
  ASSERT_TRUE(WaitFor([&] {
    auto status = rm_->core().GetClusterStatus().get();
    return status.overview.totals.task_managers == 1 && status.job_managers == 1 &&
           status.overview.totals.slots_free == 0 && status.waiting.empty();
  }));
  EXPECT_EQ(SlotsOf(*jm, "job-1").size(), 2u);
  EXPECT_TRUE(
      jm->InspectSlotPool([](const SlotPool& pool) { return pool.Revoked("job-1"); }).empty());
}

}  // namespace
}  // namespace sluice
