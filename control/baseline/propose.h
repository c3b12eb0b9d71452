// The proposal engine (DESIGN.md, "From baseline to policy"): observed
// tuples in, a policy file in the enforced schema out, that admits everything
// observed and nothing else it can avoid. The same engine serves
// `conduitctl propose --pcap` (tuple_collector.h) and, later, a gateway's
// baseline store: it takes tuples, not packets.
//
// What the proposal admits is what the judge (dataplane/verdict/judge.cc)
// would evaluate against rules:
//   - every ICS operation that is not a response (requests, and ops of
//     unknown direction), by the flow's initiator (`from`) toward its
//     responder (`to`) on the server port: an allow rule. Responses follow
//     their request and need none.
//   - housekeeping ops (dnp3.link, cotp, iec104.apci, enip encapsulation,
//     opcua transport, bacnet apdu/npdu/bvlc) ride on any allow rule of their
//     protocol between the same hosts and port (the policy's session list);
//     a pair that only did housekeeping gets a "session" rule naming function
//     255, which no decoder assigns: it opens the session and admits no
//     operation (or, where the housekeeping op has a name the schema takes,
//     a rule naming it).
//   - other TCP/UDP traffic: protocol tcp|udp rules with the server port.
//   - IP traffic without ports (ICMP, ...), which no rule can name:
//     non_ics: alert (passes, reported); non-IP ethertypes: allow_non_ip;
//     frames the judge decides by `unparsable`: unparsable: alert.
// Reads and writes are never in one rule; hosts that do the same are one
// rule; address ranges are those seen; every rule carries its evidence.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "observe/observation.h"

namespace conduit::baseline {

struct ObservedTuple {
  observe::TupleKey key;
  observe::TupleStats stats;
};

// What a capture (or a baseline store) saw on the wires.
//
// Tuple conventions: `client` is the flow's initiator; ICS responses are not
// recorded (they need no rule); an ICS op whose address range the policy
// cannot prove (none decoded, or truncated) while others of its tuple have
// one widens the tuple's ranges to [0, 0xFFFFFFFF] (kAnyAddress), so a rule
// never restricts addresses an op without them must pass.
struct Observation {
  std::vector<ObservedTuple> tuples;
  std::map<uint16_t, uint64_t> non_ip;  // ethertype -> frames
  uint64_t unparsable = 0;              // frames the judge decides by `unparsable`
  uint64_t frames = 0;
  uint64_t first_seen_ns = 0;
  uint64_t last_seen_ns = 0;
};

inline constexpr observe::AddressRange kAnyAddress{0, 0xFFFFFFFFu};

struct ProposeOptions {
  // The base policy's YAML text; empty: none (one conduit `proposed`).
  std::string base_policy;
  // Without a base: the proposed conduit's wire. With one: the conduit on
  // this wire gets the proposed rules (the others keep theirs).
  uint32_t wire = 0;
  // Named in the header comment ("capture lab.pcap").
  std::string source;
};

// The proposed policy's YAML text. Deterministic: the same observation gives
// the same bytes. Fails when the base does not load or has no conduit on the
// wire, or (a bug) when the proposal does not validate.
absl::StatusOr<std::string> ProposePolicy(const Observation& observation,
                                          const ProposeOptions& options);

// "read", "write" (anything that changes state, and anything unknown) for an
// ICS operation; the rule class its function goes to.
bool IsReadFunction(ics::OpKind kind, uint16_t function);

}  // namespace conduit::baseline
