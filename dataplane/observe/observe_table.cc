#include "observe/observe_table.h"

#include <bit>
#include <cstring>
#include <iterator>
#include <random>
#include <thread>

namespace conduit::observe {

TupleKey NonIcsKey(uint8_t wire, const PacketMeta& meta, bool has_flow, bool from_client) {
  TupleKey key;
  key.wire = wire;
  key.ip_version = meta.ip_version;
  key.l4_proto = meta.l4_proto;
  key.client = from_client ? meta.src_addr : meta.dst_addr;
  key.server = from_client ? meta.dst_addr : meta.src_addr;
  // Without a flow (ICMP, other IP protocols, later fragments) there is no
  // server port (ICMP's "ports" are its type and code).
  if (has_flow) key.server_port = from_client ? meta.dst_port : meta.src_port;
  return key;
}

// The addresses an op touched, if it counts any. A request the policy
// cannot prove (none decoded, or truncated) widens its tuple to every
// address, as the offline collector does (control/baseline/
// tuple_collector.cc): a proposed rule must never restrict addresses such
// an op has to pass. A response without addresses (most read responses
// carry only values) adds none: no rule names responses.
static bool RangeOf(const ics::IcsOp& op, AddressRange* range) {
  if (op.Has(ics::kOpHasAddress) && !op.Has(ics::kOpTruncated)) {
    *range = AddressRange{op.address_first, op.address_last};
    return true;
  }
  if (op.direction == ics::Direction::kResponse) return false;
  *range = AddressRange{0, 0xFFFFFFFFu};
  return true;
}

TupleKey IcsKey(uint8_t wire, const PacketMeta& meta, bool from_client, const ics::IcsOp& op) {
  TupleKey key = NonIcsKey(wire, meta, /*has_flow=*/true, from_client);
  key.protocol = ics::ProtocolOf(op.kind);
  key.kind = op.kind;
  key.direction = op.direction;
  key.function = ics::PolicyFunction(op);
  if (op.Has(ics::kOpHasUnit)) {
    key.has_unit = 1;
    key.unit = op.unit;
  }
  return key;
}

ObserveTable::ObserveTable(uint32_t capacity, Counter* overflow)
    : capacity_(capacity == 0 ? 1 : capacity),
      overflow_(overflow != nullptr ? overflow : &own_overflow_) {
  // At most half the buckets are used: short probe sequences.
  const uint64_t buckets = std::bit_ceil(uint64_t(capacity_) * 2);
  mask_ = static_cast<uint32_t>(buckets - 1);
  buckets_ = std::make_unique<Bucket[]>(buckets);
  entries_ = std::make_unique<ObservedTuple[]>(capacity_);
  staged_ = std::make_unique<Staged[]>(kStaged);
  // Random per table: a sender choosing addresses cannot aim at one probe
  // sequence (and kMaxProbe bounds the cost if it did).
  std::random_device rd;
  seed_ = (uint64_t(rd()) << 32 | rd()) | 1;
}

uint64_t ObserveTable::Hash(const TupleKey& key) const {
  uint64_t w[sizeof(TupleKey) / 8];
  std::memcpy(w, &key, sizeof(w));
  // Two chains over alternate words, joined at the end: half the serial
  // multiplies of one chain (a tuple is hashed for every judged operation).
  uint64_t h[2] = {seed_, seed_ ^ 0x9E3779B97F4A7C15ull};
  for (size_t i = 0; i < std::size(w); ++i) {
    uint64_t x = w[i] * 0xBF58476D1CE4E5B9ull;
    x ^= x >> 31;
    h[i % 2] = (h[i % 2] ^ x) * 0x94D049BB133111EBull;
  }
  const uint64_t joined = (h[0] ^ (h[1] >> 29) ^ (h[1] << 35)) * 0xBF58476D1CE4E5B9ull;
  return joined ^ (joined >> 29);
}

TupleStats* ObserveTable::Touch(const TupleKey& key, uint64_t h, uint64_t now_ns) {
  const uint32_t tag = static_cast<uint32_t>(h >> 32) | 1;
  uint32_t i = static_cast<uint32_t>(h) & mask_;
  for (uint32_t probe = 0; probe < kMaxProbe; ++probe, i = (i + 1) & mask_) {
    Bucket& b = buckets_[i];
    if (b.tag == tag) {
      ObservedTuple& e = entries_[b.entry];
      if (e.key == key) [[likely]] {
        ++e.stats.count;
        if (now_ns > e.stats.last_seen_ns) e.stats.last_seen_ns = now_ns;
        if (now_ns < e.stats.first_seen_ns) e.stats.first_seen_ns = now_ns;
        return &e.stats;
      }
    } else if (b.tag == 0) {
      if (size_ == capacity_) break;
      ObservedTuple& e = entries_[size_];
      e.key = key;
      e.stats = TupleStats{};
      e.stats.count = 1;
      e.stats.first_seen_ns = e.stats.last_seen_ns = now_ns;
      b.tag = tag;
      b.entry = size_++;
      return &e.stats;
    }
  }
  overflow_->Add(1);
  return nullptr;
}

template <typename F>
void ObserveTable::ForEachTuple(uint8_t wire, ParseResult parsed, const PacketMeta& meta,
                                const Inspection& in, const ics::OpList& ops, F&& f) {
  if (parsed == ParseResult::kNonIp) {
    // Non-IP traffic by its ethertype (ip_version 0, no addresses): a
    // policy proposed from the baseline must keep ARP and its kind passing.
    TupleKey key;
    key.wire = wire;
    key.server_port = meta.ethertype;
    f(key, nullptr);
    return;
  }
  if (parsed != ParseResult::kOk) return;
  const FlowEntry* flow = in.flow;
  const bool from_client = flow == nullptr || in.from_client;
  // The same split as JudgePacket: an ICS flow is judged (and observed)
  // by its operations, everything else by its L4 tuple.
  const bool ics_flow = flow != nullptr && flow->protocol != ics::Protocol::kUnknown &&
                        !flow->not_ics && in.feed != ics::FeedStatus::kNotIcs;
  if (!ics_flow) {
    f(NonIcsKey(wire, meta, flow != nullptr, from_client), nullptr);
    // Requests the scan found in bytes that are not the port's protocol to
    // the gateway (framer.h) are judged, so they are learned.
    for (const ics::IcsOp* op = ops.end() - in.candidates; op != ops.end(); ++op) {
      f(IcsKey(wire, meta, from_client, *op), op);
    }
    return;
  }
  // Candidates found after framing was lost are learned too: they are
  // judged, so a policy proposed from what was seen must admit them for
  // the traffic seen to pass.
  for (const ics::IcsOp& op : ops) f(IcsKey(wire, meta, from_client, op), &op);
}

void ObserveTable::Record(uint8_t wire, ParseResult parsed, const PacketMeta& meta,
                          const Inspection& in, const ics::OpList& ops, uint64_t now_ns) {
  ForEachTuple(wire, parsed, meta, in, ops, [&](const TupleKey& key, const ics::IcsOp* op) {
    TupleStats* s = Touch(key, now_ns);
    AddressRange range;
    if (s != nullptr && op != nullptr && RangeOf(*op, &range)) AddRange(*s, range);
  });
}

void ObserveTable::Defer(uint8_t wire, ParseResult parsed, const PacketMeta& meta,
                         const Inspection& in, const ics::OpList& ops, uint64_t now_ns) {
  ForEachTuple(wire, parsed, meta, in, ops, [&](const TupleKey& key, const ics::IcsOp* op) {
    if (staged_count_ == kStaged) [[unlikely]] Flush();
    Staged& st = staged_[staged_count_++];
    st.key = key;
    st.hash = Hash(key);
    st.now_ns = now_ns;
    st.has_range = op != nullptr && RangeOf(*op, &st.range);
    __builtin_prefetch(&buckets_[static_cast<uint32_t>(st.hash) & mask_]);
    // The bucket of a tuple staged a packet or two ago has arrived by now:
    // start loading its entry (a whole packet's judging hides the wait).
    if (staged_count_ > kEntryPrefetchDistance) {
      PrefetchEntry(staged_[staged_count_ - 1 - kEntryPrefetchDistance]);
    }
  });
}

void ObserveTable::PrefetchEntry(const Staged& st) const {
  const Bucket& b = buckets_[static_cast<uint32_t>(st.hash) & mask_];
  if (b.tag == (static_cast<uint32_t>(st.hash >> 32) | 1)) {
    const char* e = reinterpret_cast<const char*>(&entries_[b.entry]);
    __builtin_prefetch(e);
    __builtin_prefetch(e + 64);
    __builtin_prefetch(e + sizeof(ObservedTuple) - 1);
  }
}

void ObserveTable::Flush() {
  const uint32_t n = staged_count_;
  if (n == 0) return;
  // The last few staged have not had their entries prefetched yet.
  for (uint32_t j = n > kEntryPrefetchDistance ? n - kEntryPrefetchDistance : 0; j < n; ++j) {
    PrefetchEntry(staged_[j]);
  }
  for (uint32_t j = 0; j < n; ++j) {
    const Staged& st = staged_[j];
    TupleStats* s = Touch(st.key, st.hash, st.now_ns);
    if (s != nullptr && st.has_range) AddRange(*s, st.range);
  }
  staged_count_ = 0;
}

void ObserveTable::Clear() {
  std::memset(static_cast<void*>(buckets_.get()), 0, (uint64_t(mask_) + 1) * sizeof(Bucket));
  size_ = 0;
  staged_count_ = 0;
}

ObserveBuffers::ObserveBuffers(uint32_t capacity) {
  tables_[0] = std::make_unique<ObserveTable>(capacity, &overflow_);
  tables_[1] = std::make_unique<ObserveTable>(capacity, &overflow_);
  active_.store(tables_[0].get(), std::memory_order_relaxed);
}

void ObserveBuffers::Swap(uint64_t request) {
  ObserveTable* now = active_.load(std::memory_order_relaxed);
  active_.store(now == tables_[0].get() ? tables_[1].get() : tables_[0].get(),
                std::memory_order_relaxed);
  serviced_ = request;
  ack_.store(request, std::memory_order_release);  // publishes the retired table's writes
}

ObserveBuffers::DrainResult ObserveBuffers::Drain(const Callback& callback,
                                                  std::chrono::nanoseconds timeout,
                                                  bool worker_stopped) {
  uint64_t r = request_.load(std::memory_order_relaxed);  // control is its only writer
  if (drained_ == r) {
    // Nothing pending: ask for a new swap. The spare table was cleared by
    // the previous drain; the release store publishes that clear.
    request_.store(++r, std::memory_order_release);
  }
  // else: an earlier request was not answered in time; wait for that one.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (ack_.load(std::memory_order_acquire) != r) {
    if (worker_stopped) {
      // The worker does not run: no one else touches the tables. The
      // acquire above (or the thread join that stopped the worker) made
      // its writes visible.
      Swap(r);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) return DrainResult::kNotNow;
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  // The table the swap for `r` retired: the one not active now.
  ObserveTable* active = active_.load(std::memory_order_relaxed);
  ObserveTable* retired = active == tables_[0].get() ? tables_[1].get() : tables_[0].get();
  if (callback) retired->ForEach(callback);
  retired->Clear();
  drained_ = r;
  return DrainResult::kDrained;
}

}  // namespace conduit::observe
