// A JobMaster driven through fake hosts: how a job's life ends.
#include "jobmanager/job_master.h"

#include <gtest/gtest.h>

#include <atomic>

#include "absl/synchronization/notification.h"
#include "sluice/sluice.h"

namespace sluice {
namespace {

class JobMasterTest : public ::testing::Test {
 protected:
  JobMasterTest() {
    StreamEnvironment env("job");
    env.Sequence(0, 10).Discard();
    graph_ = env.Build();
    host_.slot_pool = &pool_;
    host_.declare = [this](const v1::DeclareResources& declaration) {
      pool_.Declare(declaration);
      v1::OfferSlotsRequest offer;  // a TaskManager offers the slot at once
      offer.set_job_id(declaration.job_id());
      offer.add_offers()->set_allocation_id("slot-1");
      pool_.Offer(offer);
    };
    host_.cancel_tasks = [this](const std::string&) { ++cancelled_; };
    host_.release = [this](const std::string&) { ++released_; };
  }

  std::string WaitForState(JobMaster& master, const std::string& state) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (master.Status().state() != state && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    return master.Status().state();
  }

  JobGraph graph_;
  SlotPool pool_;
  JobMasterHost host_;
  std::atomic<int> cancelled_{0};
  std::atomic<int> released_{0};
};

TEST_F(JobMasterTest, ACancelDuringDeploymentEndsTheJobAndFreesItsSlots) {
  absl::Notification deploying, may_finish;
  host_.deploy = [&](const std::string&, const std::vector<OfferedSlot>&) {
    deploying.Notify();
    may_finish.WaitForNotificationWithTimeout(absl::Seconds(10));
    return absl::OkStatus();
  };
  JobMaster master("job-1", v1::JobSubmission{}, graph_, host_);
  ASSERT_TRUE(deploying.WaitForNotificationWithTimeout(absl::Seconds(10)));
  master.Cancel();
  may_finish.Notify();
  EXPECT_EQ(WaitForState(master, "CANCELED"), "CANCELED");
  EXPECT_EQ(cancelled_.load(), 1) << "the deployed tasks are stopped";
  EXPECT_EQ(released_.load(), 1) << "the slots go back";
}

TEST_F(JobMasterTest, AFailedDeploymentFailsTheJobWithItsReason) {
  host_.deploy = [](const std::string&, const std::vector<OfferedSlot>&) {
    return absl::UnavailableError("TaskManager gone");
  };
  JobMaster master("job-2", v1::JobSubmission{}, graph_, host_);
  EXPECT_EQ(WaitForState(master, "FAILED"), "FAILED");
  EXPECT_EQ(master.Status().error(), "TaskManager gone");
  EXPECT_EQ(released_.load(), 1);
}

TEST_F(JobMasterTest, ARunningJobFinishesWhenAllItsTasksHave) {
  host_.deploy = [](const std::string&, const std::vector<OfferedSlot>&) {
    return absl::OkStatus();
  };
  JobMaster master("job-3", v1::JobSubmission{}, graph_, host_);
  ASSERT_EQ(WaitForState(master, "RUNNING"), "RUNNING");
  for (int i = 0; i < master.Status().total_tasks(); ++i) master.TaskFinished();
  EXPECT_EQ(master.Status().state(), "FINISHED");
  EXPECT_EQ(released_.load(), 1);
}

}  // namespace
}  // namespace sluice
