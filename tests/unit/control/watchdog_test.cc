#include "watchdog/watchdog.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace conduit {
namespace {

using std::chrono::milliseconds;

TEST(Watchdog, ReportsAStalledWorkerOnceAndNotALiveOne) {
  std::atomic<uint64_t> beats[2] = {0, 0};
  std::atomic<bool> stop_beating{false};
  std::atomic<int> stalls[2] = {0, 0};
  std::atomic<long> reported_age_ms{0};
  std::thread live([&] {
    while (!stop_beating) {
      ++beats[0];
      ++beats[1];
      std::this_thread::sleep_for(milliseconds(2));
    }
  });
  Watchdog w(2, [&](size_t i) { return beats[i].load(); },
             [&](size_t i, milliseconds age) {
               ++stalls[i];
               reported_age_ms = age.count();
             },
             milliseconds(200), milliseconds(10));
  w.Start();
  std::this_thread::sleep_for(milliseconds(400));
  EXPECT_EQ(stalls[0] + stalls[1], 0) << "live workers reported as stalled";
  // Worker 1 stops beating; worker 0 goes on.
  stop_beating = true;
  live.join();
  std::thread only0([&] {
    for (int i = 0; i < 150; ++i) {
      ++beats[0];
      std::this_thread::sleep_for(milliseconds(2));
    }
  });
  only0.join();  // ~300+ ms: worker 1 has been silent longer than 200 ms
  std::this_thread::sleep_for(milliseconds(100));
  w.Stop();
  EXPECT_EQ(stalls[1], 1);  // reported once, not at every check
  EXPECT_GE(reported_age_ms.load(), 200);
  EXPECT_GE(w.Ages()[1], std::chrono::microseconds(200000));
}

}  // namespace
}  // namespace conduit
