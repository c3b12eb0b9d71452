// Shared by the benchmark executables: finding the corpus and loading a
// capture's frames into memory before any timed loop runs.
//
// Reads captures with libpcap directly (not control/simulate/pcap_reader.h)
// so the benchmarks link only the dataplane libraries, not the gRPC control
// plane.
#pragma once

#include <pcap/pcap.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ics/ics_op.h"
#include "ics/ports.h"

#ifndef CONDUIT_SOURCE_ROOT
#define CONDUIT_SOURCE_ROOT "."
#endif

namespace conduit::bench {

// One captured frame, owned.
struct Frame {
  std::vector<uint8_t> bytes;
  uint64_t timestamp_micros = 0;
};

// $CONDUIT_CORPUS, else <source root>/../shared/corpus; "" if neither exists.
inline std::string FindCorpus() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("CONDUIT_CORPUS"); env && fs::is_directory(env)) return env;
  const fs::path shared = fs::path(CONDUIT_SOURCE_ROOT) / ".." / "shared" / "corpus";
  std::error_code ec;
  if (fs::is_directory(shared, ec)) return fs::canonical(shared, ec).string();
  return "";
}

// Every .pcap/.pcapng under <corpus>/pcap/<dir>, sorted; relative to the corpus
// root (the form oracle-args.tsv uses).
inline std::vector<std::string> CapturesIn(const std::string& corpus, const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  const fs::path base = fs::path(corpus) / "pcap" / dir;
  std::error_code ec;
  if (!fs::is_directory(base, ec)) return out;
  for (const auto& e : fs::directory_iterator(base)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".pcap" || ext == ".pcapng")) {
      out.push_back(fs::relative(e.path(), corpus).string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Reads every Ethernet frame of a capture; empty on any failure.
inline std::vector<Frame> LoadCapture(const std::string& path) {
  std::vector<Frame> frames;
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  if (p == nullptr) return frames;
  if (pcap_datalink(p) != DLT_EN10MB) {
    pcap_close(p);
    return frames;
  }
  pcap_pkthdr* h;
  const u_char* data;
  while (pcap_next_ex(p, &h, &data) == 1) {
    Frame f;
    f.bytes.assign(data, data + h->caplen);
    f.timestamp_micros = uint64_t(h->ts.tv_sec) * 1000000 + uint64_t(h->ts.tv_usec);
    frames.push_back(std::move(f));
  }
  pcap_close(p);
  return frames;
}

// Default ports plus the capture's decode-as overrides from oracle-args.tsv
// ("-d tcp.port==20001,dnp3"), as the corpus test applies them.
inline ics::ProtocolPorts PortsFor(const std::string& corpus, const std::string& rel) {
  ics::ProtocolPorts ports = ics::ProtocolPorts::Defaults();
  std::ifstream args(std::filesystem::path(corpus) / "oracle-args.tsv");
  std::string line;
  while (std::getline(args, line)) {
    const size_t tab = line.find('\t');
    if (tab == std::string::npos || line.substr(0, tab) != rel) continue;
    size_t pos = tab + 1;
    while (pos < line.size()) {
      size_t end = line.find(' ', pos);
      if (end == std::string::npos) end = line.size();
      const std::string tok = line.substr(pos, end - pos);
      pos = end + 1;
      const size_t eq = tok.find("=="), comma = tok.find(','), dot = tok.find('.');
      if (eq == std::string::npos || comma == std::string::npos || dot == std::string::npos) {
        continue;
      }
      const std::string l4 = tok.substr(0, dot);
      const int port = std::atoi(tok.substr(eq + 2, comma - eq - 2).c_str());
      const std::string name = tok.substr(comma + 1);
      for (int i = 1; i < static_cast<int>(ics::Protocol::kCount); ++i) {
        const auto proto = static_cast<ics::Protocol>(i);
        if (ics::ProtocolName(proto) != name) continue;
        if (l4 == "tcp") ports.SetTcp(static_cast<uint16_t>(port), proto);
        if (l4 == "udp") ports.SetUdp(static_cast<uint16_t>(port), proto);
      }
    }
  }
  return ports;
}

}  // namespace conduit::bench
