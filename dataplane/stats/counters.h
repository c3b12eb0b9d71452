// Per-worker counters, declared once as X-macro lists (VPP's foreach_*_error).
//
// Each worker owns one WorkerCounters and is its only writer; control threads
// read it at any time and sum over workers. Writes are plain relaxed stores
// (no locked instructions on the hot path); reads are relaxed loads, so a
// reader sees each counter whole, possibly a few packets behind.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "ics/malformed.h"
#include "parse/parse.h"

namespace conduit {

// Totals. Invariants once queues drain: rx = tx + dropped;
// rx = inspected + bypassed.
#define CONDUIT_WORKER_COUNTERS(X)                                      \
  X(rx_packets)                                                         \
  X(rx_bytes)                                                           \
  X(tx_packets)                                                         \
  X(tx_bytes)                                                           \
  X(dropped_packets)                                                    \
  X(inspected_packets)                                                  \
  X(bypassed_packets)                                                   \
  X(non_ip_packets)                                                     \
  X(rx_bursts)                                                          \
  X(idle_polls)                                                         \
  X(resets_sent)     /* TCP RSTs sent for denied segments */            \
  X(resets_failed)   /* RSTs not sent: no mbuf or the TX queue full */ \
  X(overload_enter)  /* bursts of overload bypass begun (hysteresis) */ \
  X(observe_overflow) /* observed tuples with no room left (observe/) */ \
  X(overload_exit)

// The normalizer's reasons (dataplane/normalize/) follow the first three:
// packets the receiving host would discard, or that would make it execute
// bytes other than the ones judged. They are dropped whatever the policy says.
#define CONDUIT_DROP_REASONS(X)                                                        \
  X(tx_full, "the peer port's TX queue refused the packet")                           \
  X(policy_deny, "denied by policy")                                                  \
  X(unparsable, "malformed or truncated headers, policy says drop")                   \
  X(ip_truncated, "frame shorter than its IP total length")                           \
  X(bad_ip_checksum, "IPv4 header checksum wrong")                                    \
  X(bad_l4_checksum, "TCP or UDP checksum wrong")                                     \
  X(ip_fragment, "IP fragment toward an ICS service (or of TCP)")                     \
  X(ip_fragment_overlap, "fragments overlapping with different bytes (reassemble)")  \
  X(ip_fragment_limit, "fragment past the reassembly table's bounds (reassemble)")   \
  X(ip_fragment_held, "fragment taken into reassembly; the whole datagram leaves")   \
  X(tcp_no_ack, "TCP data without the ACK flag")                                      \
  X(tcp_urgent, "URG on an ICS flow")                                                 \
  X(tcp_outside_window, "TCP data beyond the receiver's window")                      \
  X(tcp_out_of_order, "ICS data beyond a hole: the sender retransmits in order")      \
  X(tcp_overlap_conflict, "retransmission whose bytes differ from the judged ones")   \
  X(tcp_overlap_unverifiable, "retransmission that covers part of a judged segment")  \
  X(tcp_unacked_limit, "more judged, unacknowledged ICS segments than a flow holds")   \
  X(tcp_syn_data, "a SYN carrying data: a connected peer ignores it, a new one keeps it only with TFO")

// Flow and ICS decode counters (the Inspector's).
#define CONDUIT_INSPECT_COUNTERS(X)                                          \
  X(flows_created)                                                           \
  X(ics_packets)       /* packets of flows on an ICS port */                 \
  X(ics_pdus)          /* PDUs handed to a decoder */                        \
  X(ics_ops)           /* operations decoded */                              \
  X(decode_errors)     /* PDUs a decoder refused (truncated, malformed) */   \
  X(ops_overflow)      /* ops beyond OpList capacity in one packet */        \
  X(retransmissions)                                                         \
  X(tcp_gaps)          /* segments after bytes the gateway never saw */      \
  X(hole_fills)        /* late bytes of such a gap: not inspected */         \
  X(framing_lost)      /* flows whose framing was lost (bad header) */       \
  X(unparsable_packets)/* packets of flows whose framing was lost */         \
  X(not_ics_packets)   /* on an ICS port but not that protocol */           \
  X(scan_candidates)   /* PDUs found scanning bytes whose framing was lost */ \
  X(datagrams_reassembled) /* IP datagrams rebuilt (fragments: reassemble) */\
  X(datagrams_expired) /* ... given up on: timed out with fragments missing */

enum class WorkerCounter : uint8_t {
#define X(name) name,
  CONDUIT_WORKER_COUNTERS(X)
#undef X
      kCount
};
enum class DropReason : uint8_t {
#define X(name, why) name,
  CONDUIT_DROP_REASONS(X)
#undef X
      kCount
};

enum class InspectCounter : uint8_t {
#define X(name) name,
  CONDUIT_INSPECT_COUNTERS(X)
#undef X
      kCount
};
inline constexpr int kInspectCounterCount = static_cast<int>(InspectCounter::kCount);

inline constexpr int kWorkerCounterCount = static_cast<int>(WorkerCounter::kCount);
inline constexpr int kDropReasonCount = static_cast<int>(DropReason::kCount);
// The first reason that belongs to the normalizer (see CONDUIT_DROP_REASONS).
inline constexpr DropReason kFirstNormalizeReason = DropReason::ip_truncated;
inline bool IsNormalizeReason(DropReason r) {
  return r >= kFirstNormalizeReason && r < DropReason::kCount;
}

std::string_view WorkerCounterName(WorkerCounter c);
std::string_view DropReasonName(DropReason r);
std::string_view InspectCounterName(InspectCounter c);

// A counter with one writer. Add() compiles to a plain load/add/store.
class Counter {
 public:
  void Add(uint64_t n) {
    __atomic_store_n(&value_, __atomic_load_n(&value_, __ATOMIC_RELAXED) + n,
                     __ATOMIC_RELAXED);
  }
  uint64_t Load() const { return __atomic_load_n(&value_, __ATOMIC_RELAXED); }

 private:
  uint64_t value_ = 0;
};

struct alignas(64) WorkerCounters {
  std::array<Counter, kWorkerCounterCount> totals{};
  std::array<Counter, kDropReasonCount> drops{};
  std::array<Counter, kParseResultCount> parse{};

  Counter& operator[](WorkerCounter c) { return totals[static_cast<int>(c)]; }
  Counter& operator[](DropReason r) { return drops[static_cast<int>(r)]; }
  Counter& operator[](ParseResult r) { return parse[static_cast<int>(r)]; }
};

// A plain-value copy, for summing and printing on the control side.
struct CounterSnapshot {
  std::array<uint64_t, kWorkerCounterCount> totals{};
  std::array<uint64_t, kDropReasonCount> drops{};
  std::array<uint64_t, kParseResultCount> parse{};
  std::array<uint64_t, kInspectCounterCount> inspect{};
  // Malformed PDUs by why (the Inspector's; index 0, kNone, stays 0).
  std::array<uint64_t, ics::kMalformedReasonCount> malformed{};

  uint64_t operator[](WorkerCounter c) const { return totals[static_cast<int>(c)]; }
  uint64_t operator[](DropReason r) const { return drops[static_cast<int>(r)]; }
  uint64_t operator[](ParseResult r) const { return parse[static_cast<int>(r)]; }
  uint64_t operator[](InspectCounter c) const { return inspect[static_cast<int>(c)]; }

  void Accumulate(const WorkerCounters& c);
  void Accumulate(const CounterSnapshot& s);
};

}  // namespace conduit
