#include "simulate/pcap_reader.h"

#include <pcap/pcap.h>

#include "absl/strings/str_cat.h"

namespace conduit {

absl::Status ForEachFrame(const std::string& path,
                          const std::function<void(const CapturedFrame&)>& on_frame) {
  char errbuf[PCAP_ERRBUF_SIZE];
  pcap_t* pcap = pcap_open_offline(path.c_str(), errbuf);
  if (pcap == nullptr) return absl::NotFoundError(absl::StrCat(path, ": ", errbuf));
  if (pcap_datalink(pcap) != DLT_EN10MB) {
    const int link = pcap_datalink(pcap);
    pcap_close(pcap);
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": link type ", link, " is not Ethernet (convert it, e.g. with editcap -T ether)"));
  }
  CapturedFrame frame;
  pcap_pkthdr* header;
  const u_char* data;
  while (pcap_next_ex(pcap, &header, &data) == 1) {
    ++frame.number;
    frame.timestamp_micros = uint64_t(header->ts.tv_sec) * 1000000 + header->ts.tv_usec;
    frame.bytes = {data, header->caplen};
    frame.original_length = header->len;
    on_frame(frame);
  }
  pcap_close(pcap);
  return absl::OkStatus();
}

}  // namespace conduit
