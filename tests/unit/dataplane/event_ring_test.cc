#include "events/event_ring.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace conduit {
namespace {

EventRecord WithFrame(uint64_t frame) {
  EventRecord e;
  e.frame = frame;
  e.dport = static_cast<uint16_t>(frame);
  return e;
}

TEST(EventRingTest, CapacityIsAPowerOfTwo) {
  EXPECT_EQ(EventRing(1).capacity(), 2u);
  EXPECT_EQ(EventRing(8).capacity(), 8u);
  EXPECT_EQ(EventRing(1000).capacity(), 1024u);
}

TEST(EventRingTest, FullRingRefusesAndCountsDrops) {
  EventRing ring(4);
  for (uint64_t i = 1; i <= 4; ++i) EXPECT_TRUE(ring.TryPush(WithFrame(i)));
  EXPECT_FALSE(ring.TryPush(WithFrame(5)));
  EXPECT_FALSE(ring.TryPush(WithFrame(6)));
  EXPECT_EQ(ring.dropped(), 2u);
  EXPECT_EQ(ring.pushed(), 4u);
  EXPECT_EQ(ring.size(), 4u);

  // Room again once the consumer frees a slot; the dropped ones stay lost.
  EventRecord out[8];
  ASSERT_EQ(ring.PopBatch(out, 1), 1u);
  EXPECT_EQ(out[0].frame, 1u);
  EXPECT_TRUE(ring.TryPush(WithFrame(7)));
  ASSERT_EQ(ring.PopBatch(out, 8), 4u);
  EXPECT_EQ(out[0].frame, 2u);
  EXPECT_EQ(out[1].frame, 3u);
  EXPECT_EQ(out[2].frame, 4u);
  EXPECT_EQ(out[3].frame, 7u);
  EXPECT_EQ(ring.PopBatch(out, 8), 0u);
  EXPECT_EQ(ring.dropped(), 2u);
  EXPECT_EQ(ring.pushed(), 5u);
}

TEST(EventRingTest, OrderPreservedAcrossWrap) {
  EventRing ring(8);
  EventRecord out[3];
  uint64_t next_in = 1, next_out = 1;
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(ring.TryPush(WithFrame(next_in++)));
    size_t n;
    while ((n = ring.PopBatch(out, 3)) != 0) {
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(out[i].frame, next_out);
        ASSERT_EQ(out[i].dport, static_cast<uint16_t>(next_out));
        ++next_out;
      }
    }
  }
  EXPECT_EQ(next_out, next_in);
  EXPECT_EQ(ring.dropped(), 0u);
}

TEST(EventRingTest, ProducerAndConsumerThreadsMoveAMillionInOrder) {
  constexpr uint64_t kCount = 1000000;
  EventRing ring(1024);
  std::thread producer([&] {
    for (uint64_t i = 1; i <= kCount; ++i) {
      // The worker would drop on full; here we retry to check for loss.
      while (!ring.TryPush(WithFrame(i))) std::this_thread::yield();
    }
  });
  std::vector<EventRecord> out(256);
  uint64_t expected = 1;
  bool in_order = true;
  while (expected <= kCount) {
    const size_t n = ring.PopBatch(out.data(), out.size());
    if (n == 0) {
      std::this_thread::yield();
      continue;
    }
    for (size_t i = 0; i < n; ++i) {
      if (out[i].frame != expected || out[i].dport != static_cast<uint16_t>(expected)) {
        in_order = false;
      }
      ++expected;
    }
  }
  producer.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(expected, kCount + 1);
  EXPECT_EQ(ring.pushed(), kCount);
  EXPECT_EQ(ring.PopBatch(out.data(), out.size()), 0u);
}

}  // namespace
}  // namespace conduit
