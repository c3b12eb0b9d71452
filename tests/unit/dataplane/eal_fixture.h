// A real DPDK EAL for tests: no hugepages, no PCI, its own file prefix so
// tests can run in parallel with each other and with a running conduitd.
#pragma once

#include <rte_eal.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace conduit::testing {

class EalEnvironment : public ::testing::Environment {
 public:
  explicit EalEnvironment(std::string file_prefix) : prefix_(std::move(file_prefix)) {}
  void SetUp() override {
    std::vector<std::string> args = {"test", "--no-huge", "-m", "256", "--no-pci",
                                     "--file-prefix", prefix_, "-l", "0", "--log-level=error"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    ASSERT_GE(rte_eal_init(static_cast<int>(argv.size()), argv.data()), 0) << "EAL init failed";
  }
  void TearDown() override { rte_eal_cleanup(); }

 private:
  std::string prefix_;
};

}  // namespace conduit::testing
