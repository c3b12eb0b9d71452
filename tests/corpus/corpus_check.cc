// corpus_check: how far Conduit's decoders agree with the tshark oracle.
//
//   corpus_check [--proto DIR] [--file PCAP] [--verbose] [--max N]
//
// DIR is a directory under pcap/ (modbus, dnp3, ...); PCAP a path relative to
// the corpus root. Prints one line per capture and the differing frames.
#include <cstdio>
#include <string>

#include "corpus/corpus_compare.h"

int main(int argc, char** argv) {
  std::string proto, file;
  bool verbose = false;
  size_t max_shown = 10;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--proto" && i + 1 < argc) proto = argv[++i];
    else if (a == "--file" && i + 1 < argc) file = argv[++i];
    else if (a == "--verbose") verbose = true;
    else if (a == "--max" && i + 1 < argc) max_shown = std::stoul(argv[++i]);
    else {
      std::fprintf(stderr, "usage: corpus_check [--proto DIR] [--file PCAP] [--verbose] [--max N]\n");
      return 2;
    }
  }
  const std::string root = conduit::corpus::FindCorpus(CONDUIT_SOURCE_ROOT);
  if (root.empty()) {
    std::fprintf(stderr, "corpus not found (set CONDUIT_CORPUS)\n");
    return 2;
  }
  uint64_t frames = 0, agree = 0;
  for (const std::string& pcap : conduit::corpus::ListCaptures(root)) {
    if (!file.empty() && pcap != file) continue;
    if (!proto.empty() && pcap.find("/" + proto + "/") == std::string::npos) continue;
    auto r = conduit::corpus::CompareCapture(root, pcap);
    if (!r.ok()) {
      std::printf("%s: %s\n", pcap.c_str(), std::string(r.status().message()).c_str());
      continue;
    }
    frames += r->frames;
    agree += r->agreeing;
    std::printf("%-90s %6lu/%-6lu frames agree (%lu with ICS in oracle)\n", pcap.c_str(),
                r->agreeing, r->frames, r->oracle_frames);
    if (verbose || !file.empty()) {
      size_t shown = 0;
      for (const auto& m : r->mismatches) {
        if (shown++ == max_shown) break;
        std::printf("  frame %lu: oracle %s | conduit %s\n", m.frame,
                    conduit::corpus::FormatRows(m.expected).c_str(),
                    conduit::corpus::FormatRows(m.actual).c_str());
      }
    }
  }
  std::printf("TOTAL %lu/%lu frames agree\n", agree, frames);
  return agree == frames ? 0 : 1;
}
