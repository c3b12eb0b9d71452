#include "bypass/overload.h"

#include <gtest/gtest.h>

namespace conduit {
namespace {

TEST(OverloadGuard, EntersAfterTheHighWatermarkAndLeavesAfterTheLow) {
  OverloadGuard g(OverloadSettings{4, 3, 0});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(g.OnPoll(true, 100), OverloadTransition::kNone);
  EXPECT_FALSE(g.bypassing());
  EXPECT_EQ(g.OnPoll(true, 100), OverloadTransition::kEnter);  // 4th full burst in a row
  EXPECT_TRUE(g.bypassing());
  // Hysteresis: one calm poll is not enough, and a full burst restarts the count.
  EXPECT_EQ(g.OnPoll(false, 0), OverloadTransition::kNone);
  EXPECT_EQ(g.OnPoll(true, 0), OverloadTransition::kNone);
  EXPECT_EQ(g.OnPoll(false, 0), OverloadTransition::kNone);
  EXPECT_EQ(g.OnPoll(false, 0), OverloadTransition::kNone);
  EXPECT_TRUE(g.bypassing());
  EXPECT_EQ(g.OnPoll(false, 0), OverloadTransition::kExit);
  EXPECT_FALSE(g.bypassing());
}

TEST(OverloadGuard, BurstsThatAreNotFullNeverTrigger) {
  OverloadGuard g(OverloadSettings{4, 3, 0});
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(g.OnPoll(false, 100), OverloadTransition::kNone);
  EXPECT_FALSE(g.bypassing());
}

TEST(OverloadGuard, CostAboveTheBudgetTriggers) {
  OverloadGuard g(OverloadSettings{1000000, 2, 500});
  OverloadTransition t = OverloadTransition::kNone;
  int polls = 0;
  while (t == OverloadTransition::kNone && polls < 100) {
    t = g.OnPoll(false, 2000);  // 2000 cycles a packet against a 500 budget
    ++polls;
  }
  EXPECT_EQ(t, OverloadTransition::kEnter);
  EXPECT_GT(polls, 1);  // an average, not one expensive burst
  EXPECT_EQ(g.OnPoll(false, 0), OverloadTransition::kNone);
  EXPECT_EQ(g.OnPoll(false, 0), OverloadTransition::kExit);
}

}  // namespace
}  // namespace conduit
