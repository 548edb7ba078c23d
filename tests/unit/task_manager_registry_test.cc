// The ResourceManager's registry and failure detector, driven by a fake clock.
#include "resourcemanager/task_manager_registry.h"

#include <gtest/gtest.h>

#include "common/clock.h"

namespace sluice {
namespace {

constexpr absl::Duration kTimeout = absl::Seconds(5);

TaskManagerInfo MakeInfo(const std::string& id, const std::string& address, int slots = 2) {
  TaskManagerInfo info;
  info.id = id;
  info.rpc_address = address;
  info.total.cpu_cores = slots;
  info.total.memory_bytes = slots * 1024;
  info.total.extended["gpu"] = 1;
  for (int i = 0; i < slots; ++i)
    info.slots.push_back(SlotState{i, info.total.Share(slots), "", ""});
  return info;
}

class TaskManagerRegistryTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  TaskManagerRegistry registry_{&clock_, kTimeout};
};

TEST_F(TaskManagerRegistryTest, RegisterAddsSlotsAndResources) {
  ASSERT_TRUE(registry_.Register(1, MakeInfo("tm-a", "host-a:1")).ok());
  ASSERT_TRUE(registry_.Register(2, MakeInfo("tm-b", "host-b:1", 3)).ok());
  EXPECT_EQ(registry_.size(), 2);
  EXPECT_DOUBLE_EQ(registry_.capacity().cpu_cores, 5);
  EXPECT_EQ(registry_.capacity().memory_bytes, 5 * 1024);
  EXPECT_DOUBLE_EQ(registry_.capacity().extended.at("gpu"), 2);
  ASSERT_NE(registry_.Find("tm-a"), nullptr);
  EXPECT_EQ(registry_.Find("tm-a")->info.rpc_address, "host-a:1");
}

TEST_F(TaskManagerRegistryTest, MoreSlotsThanTheConfiguredMostAreRefused) {
  TaskManagerRegistry bounded(&clock_, kTimeout, /*max_slots=*/8);
  ASSERT_TRUE(bounded.Register(1, MakeInfo("tm-a", "host-a:1", 8)).ok());
  auto forged = bounded.Register(2, MakeInfo("tm-b", "host-b:1", 50000));
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(forged.status().message(),
            "TaskManager 'tm-b' announces 50000 slots; resourcemanager.taskmanager.max-slots "
            "allows 8");
  EXPECT_EQ(bounded.size(), 1);
  EXPECT_EQ(bounded.capacity().cpu_cores, 8) << "nothing of it counted";
}

TEST_F(TaskManagerRegistryTest, LiveDuplicateIdIsRefusedAndTheExistingKept) {
  ASSERT_TRUE(registry_.Register(1, MakeInfo("tm-a", "host-a:1")).ok());
  auto second = registry_.Register(2, MakeInfo("tm-a", "host-b:7"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(second.status().message().find("already registered from host-a:1"),
            absl::string_view::npos);
  EXPECT_EQ(registry_.Find("tm-a")->session, 1u);
  EXPECT_EQ(registry_.size(), 1);
}

TEST_F(TaskManagerRegistryTest, RestartedTaskManagerReplacesItsOldEntry) {
  ASSERT_TRUE(registry_.Register(1, MakeInfo("tm-a", "host-a:1", 2)).ok());
  clock_.Advance(absl::Seconds(1));
  auto restarted = registry_.Register(2, MakeInfo("tm-a", "host-a:1", 4));
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  ASSERT_TRUE(restarted->has_value());
  EXPECT_EQ((*restarted)->reason, RemovalReason::kReplaced);
  EXPECT_EQ((*restarted)->session, 1u);
  EXPECT_EQ(registry_.size(), 1);
  EXPECT_EQ(registry_.Find("tm-a")->info.slots.size(), 4u);
  // The old stream closing later must not remove the new registration.
  EXPECT_FALSE(registry_.Remove(1, RemovalReason::kStreamBroken).has_value());
  EXPECT_EQ(registry_.Find("tm-a")->session, 2u);
}

TEST_F(TaskManagerRegistryTest, BrokenStreamRemovesAtOnce) {
  ASSERT_TRUE(registry_.Register(1, MakeInfo("tm-a", "host-a:1")).ok());
  auto removed = registry_.Remove(1, RemovalReason::kStreamBroken);
  ASSERT_TRUE(removed.has_value());
  EXPECT_EQ(removed->id, "tm-a");
  EXPECT_EQ(registry_.size(), 0);
  EXPECT_DOUBLE_EQ(registry_.capacity().cpu_cores, 0);
  EXPECT_EQ(registry_.Find("tm-a"), nullptr);
}

TEST_F(TaskManagerRegistryTest, SilencePastTheTimeoutExpires) {
  ASSERT_TRUE(registry_.Register(1, MakeInfo("tm-a", "host-a:1")).ok());
  ASSERT_TRUE(registry_.Register(2, MakeInfo("tm-b", "host-b:1")).ok());
  clock_.Advance(absl::Seconds(3));
  ASSERT_TRUE(registry_.Heartbeat(2, {}).ok());
  clock_.Advance(kTimeout - absl::Seconds(3) + absl::Milliseconds(1));
  auto lost = registry_.ExpireSilent();
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].id, "tm-a");
  EXPECT_EQ(lost[0].reason, RemovalReason::kHeartbeatTimeout);
  EXPECT_NE(registry_.Find("tm-b"), nullptr);
  // Heartbeats on the expired session are refused: it must register again.
  EXPECT_EQ(registry_.Heartbeat(1, {}).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(TaskManagerRegistryTest, LateHeartbeatJustUnderTheTimeoutKeepsTheTaskManager) {
  ASSERT_TRUE(registry_.Register(1, MakeInfo("tm-a", "host-a:1")).ok());
  clock_.Advance(kTimeout - absl::Milliseconds(1));
  EXPECT_TRUE(registry_.ExpireSilent().empty());
  auto heartbeat = registry_.Heartbeat(1, ProcessUsage{1.5, 1000});
  ASSERT_TRUE(heartbeat.ok());
  EXPECT_EQ(*heartbeat->id, "tm-a");
  EXPECT_EQ(heartbeat->gap, kTimeout - absl::Milliseconds(1));
  EXPECT_EQ(registry_.Find("tm-a")->usage.resident_memory_bytes, 1000);
  clock_.Advance(kTimeout - absl::Milliseconds(1));
  EXPECT_TRUE(registry_.ExpireSilent().empty());
  EXPECT_EQ(registry_.size(), 1);
}

TEST_F(TaskManagerRegistryTest, InvalidRegistrationsAreRefused) {
  TaskManagerInfo no_id = MakeInfo("", "host-a:1");
  EXPECT_EQ(registry_.Register(1, no_id).status().code(), absl::StatusCode::kInvalidArgument);
  TaskManagerInfo no_slots = MakeInfo("tm-a", "host-a:1", 0);
  EXPECT_EQ(registry_.Register(1, no_slots).status().code(), absl::StatusCode::kInvalidArgument);
  TaskManagerInfo repeated = MakeInfo("tm-a", "host-a:1");
  repeated.slots[1].index = 0;
  EXPECT_EQ(registry_.Register(1, repeated).status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(registry_.Register(1, MakeInfo("tm-a", "host-a:1")).ok());
  EXPECT_EQ(registry_.Register(1, MakeInfo("tm-b", "host-b:1")).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_.size(), 1);
}

TEST_F(TaskManagerRegistryTest, HeartbeatBeforeRegistrationIsRefused) {
  EXPECT_EQ(registry_.Heartbeat(9, {}).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace sluice
