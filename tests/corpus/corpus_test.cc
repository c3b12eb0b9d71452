// Every capture of shared/corpus decoded by Conduit and compared frame by
// frame with the tshark oracle. A frame may differ only if it is listed in
// known_differences.tsv with its reason; a listed frame that agrees again
// fails too, so the list stays true.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "absl/strings/str_split.h"
#include "corpus/corpus_compare.h"

namespace conduit::corpus {
namespace {

std::string g_root;

using KnownDifferences = std::map<std::string, std::set<uint64_t>>;

KnownDifferences LoadKnown() {
  KnownDifferences known;
  std::ifstream in(std::string(CONDUIT_SOURCE_ROOT) + "/tests/corpus/known_differences.tsv");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols = absl::StrSplit(line, '\t');
    if (cols.size() < 3) continue;
    const std::vector<std::string> frames = absl::StrSplit(cols[1], ',');
    for (const std::string& f : frames) known[cols[0]].insert(std::stoull(f));
  }
  return known;
}

class CorpusTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CorpusTest, AgreesWithTheOracle) {
  static const KnownDifferences known = LoadKnown();
  const std::string& pcap = GetParam();
  auto result = CompareCapture(g_root, pcap);
  ASSERT_TRUE(result.ok()) << result.status();
  const auto it = known.find(pcap);
  const std::set<uint64_t> allowed = it == known.end() ? std::set<uint64_t>{} : it->second;
  std::set<uint64_t> differing;
  for (const Mismatch& m : result->mismatches) {
    differing.insert(m.frame);
    EXPECT_TRUE(allowed.count(m.frame)) << pcap << " frame " << m.frame << ": oracle "
                                        << FormatRows(m.expected) << " | conduit "
                                        << FormatRows(m.actual);
  }
  for (uint64_t f : allowed) {
    EXPECT_TRUE(differing.count(f)) << pcap << " frame " << f
                                    << " now agrees with the oracle: remove it from "
                                       "known_differences.tsv";
  }
  std::printf("%s: %lu/%lu frames agree, %zu known differences\n", pcap.c_str(),
              result->agreeing, result->frames, allowed.size());
}

std::vector<std::string> Captures() {
  return g_root.empty() ? std::vector<std::string>{} : ListCaptures(g_root);
}

std::string TestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name;
  for (char c : info.param) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Corpus, CorpusTest, ::testing::ValuesIn(Captures()), TestName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(CorpusTest);

}  // namespace
}  // namespace conduit::corpus

int main(int argc, char** argv) {
  conduit::corpus::g_root = conduit::corpus::FindCorpus(CONDUIT_SOURCE_ROOT);
  if (conduit::corpus::g_root.empty()) {
    std::printf("SKIP: ICS corpus not found: set CONDUIT_CORPUS or place it at ../shared/corpus\n");
    return 77;  // meson: skipped
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
