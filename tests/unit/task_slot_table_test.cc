#include "taskmanager/task_slot_table.h"

#include <gtest/gtest.h>

#include "common/clock.h"

namespace sluice {
namespace {

class TaskSlotTableTest : public ::testing::Test {
 protected:
  static std::vector<SlotState> TwoSlots() {
    std::vector<SlotState> slots(2);
    slots[1].index = 1;
    return slots;
  }
  FakeClock clock_;
  TaskSlotTable table_{&clock_, TwoSlots(), absl::Seconds(10)};
};

TEST_F(TaskSlotTableTest, RequestsAreIdempotentOnTheAllocation) {
  auto first = table_.Request(0, "alloc-1", "job", "jm:1");
  EXPECT_TRUE(first.accepted);
  EXPECT_TRUE(first.offer);
  auto again = table_.Request(0, "alloc-1", "job", "jm:1");
  EXPECT_TRUE(again.accepted) << "a retried request is accepted again";
  EXPECT_TRUE(table_.Activate("alloc-1"));
  auto after = table_.Request(0, "alloc-1", "job", "jm:1");
  EXPECT_TRUE(after.accepted);
  EXPECT_FALSE(after.offer) << "an active slot is not offered again";
  EXPECT_EQ(table_.free_slots(), 1);
}

TEST_F(TaskSlotTableTest, OccupiedSlotIsRefusedWithItsOccupant) {
  table_.Request(1, "alloc-1", "job-a", "jm:1");
  auto refused = table_.Request(1, "alloc-2", "job-b", "jm:1");
  EXPECT_FALSE(refused.accepted);
  EXPECT_EQ(refused.occupant_allocation, "alloc-1");
  EXPECT_EQ(refused.occupant_job, "job-a");
  EXPECT_FALSE(table_.Request(7, "alloc-3", "job-c", "jm:1").accepted) << "no such slot";
}

TEST_F(TaskSlotTableTest, UnacceptedOfferIsFreedAfterTheSlotTimeout) {
  table_.Request(0, "alloc-1", "job", "jm:1");
  table_.Request(1, "alloc-2", "job", "jm:1");
  table_.Activate("alloc-2");
  clock_.Advance(absl::Seconds(10) - absl::Milliseconds(1));
  EXPECT_TRUE(table_.ExpireOffers().empty());
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(table_.ExpireOffers(), std::vector<std::string>{"alloc-1"});
  EXPECT_EQ(table_.Find("alloc-1"), nullptr);
  EXPECT_NE(table_.Find("alloc-2"), nullptr) << "accepted slots stay";
}

TEST_F(TaskSlotTableTest, HoldsAnAllocationForItsJobUntilItIsFreed) {
  EXPECT_FALSE(table_.Holds("alloc-1", "job"));
  table_.Request(0, "alloc-1", "job", "jm:1");
  EXPECT_TRUE(table_.Holds("alloc-1", "job")) << "offered";
  EXPECT_FALSE(table_.Holds("alloc-1", "other-job"));
  EXPECT_FALSE(table_.Holds("", "job"));
  table_.Activate("alloc-1");
  EXPECT_TRUE(table_.Holds("alloc-1", "job")) << "active";
  table_.Free("alloc-1");
  EXPECT_FALSE(table_.Holds("alloc-1", "job"));
}

TEST_F(TaskSlotTableTest, ReportShowsWhatRunsWhere) {
  table_.Request(1, "alloc-1", "job", "jm:1");
  auto report = table_.Report();
  ASSERT_EQ(report.size(), 2u);
  EXPECT_TRUE(report[0].IsFree());
  EXPECT_EQ(report[1].allocation_id, "alloc-1");
  EXPECT_EQ(report[1].job_id, "job");
  EXPECT_TRUE(table_.Free("alloc-1"));
  EXPECT_FALSE(table_.Free("alloc-1"));
  EXPECT_TRUE(table_.Report()[1].IsFree());
}

TEST_F(TaskSlotTableTest, AnActiveSlotIsHeldOnlyWhileItsJobMasterConfirmsIt) {
  table_.Request(0, "alloc-1", "job", "jm:1");
  table_.Request(1, "alloc-2", "other", "jm:1");
  table_.Activate("alloc-1");
  table_.Activate("alloc-2");
  clock_.Advance(absl::Seconds(4));
  table_.Confirm("job");  // a heartbeat of job's JobMaster
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ(table_.Unconfirmed(absl::Seconds(5)), std::vector<std::string>{"alloc-2"})
      << "other's JobMaster has been silent for 6 s";
  clock_.Advance(absl::Seconds(4));
  EXPECT_EQ(table_.Unconfirmed(absl::Seconds(5)), (std::vector<std::string>{"alloc-1", "alloc-2"}));
}

}  // namespace
}  // namespace sluice
