#include "common/mailbox.h"

#include <gtest/gtest.h>

#include <vector>

namespace sluice {
namespace {

TEST(MailboxTest, RunsTasksInOrderOnItsOwnThread) {
  Mailbox mailbox("test");
  std::vector<int> seen;
  for (int i = 0; i < 100; ++i) mailbox.Post([&seen, i] { seen.push_back(i); });
  bool on_mailbox = mailbox.Ask([&] { return mailbox.IsMailboxThread(); }).get();
  EXPECT_TRUE(on_mailbox);
  ASSERT_EQ(seen.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(seen[i], i);
}

TEST(MailboxTest, DelayedTasksRunAfterReadyOnes) {
  Mailbox mailbox("test");
  std::promise<std::vector<int>> done;
  auto order = std::make_shared<std::vector<int>>();
  mailbox.PostAfter(absl::Milliseconds(20), [order, &done] {
    order->push_back(2);
    done.set_value(*order);
  });
  mailbox.Post([order] { order->push_back(1); });
  auto future = done.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(future.get(), (std::vector<int>{1, 2}));
}

TEST(MailboxTest, StopDropsPendingTasks) {
  auto ran = std::make_shared<std::atomic<int>>(0);
  {
    Mailbox mailbox("test");
    mailbox.PostAfter(absl::Hours(1), [ran] { ++*ran; });
    mailbox.Stop();
    mailbox.Post([ran] { ++*ran; });
  }
  EXPECT_EQ(*ran, 0);
}

}  // namespace
}  // namespace sluice
