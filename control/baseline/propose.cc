#include "baseline/propose.h"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/time_text.h"
#include "ics/opcua.h"
#include "ics/registry.h"
#include "policy/validate.h"

namespace conduit::baseline {
namespace {

using ics::OpKind;

// A rule protocol as the compiler (control/policy/compiler.cc KindsOf) and
// the validator (control/policy/validate.cc kProtocols) read it: the kinds
// its function names and numbers resolve in (in the compiler's order), the
// kind whose session list decides housekeeping, and the validator's bounds.
struct RuleProtocol {
  const char* name;
  ics::Protocol module;
  std::vector<OpKind> kinds;
  OpKind session;
  uint32_t max_function;
  int64_t max_unit;     // -1: rules take no units
  int64_t max_address;  // -1: rules take no addresses
  bool names = true;    // false: functions are numbers only
};

constexpr int64_t kU32 = 0xFFFFFFFF;

const std::vector<RuleProtocol>& RuleProtocols() {
  using P = ics::Protocol;
  static const std::vector<RuleProtocol> kTable = {
      {"modbus", P::kModbus, {OpKind::kModbus}, OpKind::kModbus, 255, 255, 65535},
      {"dnp3", P::kDnp3, {OpKind::kDnp3}, OpKind::kDnp3, 255, 65535, kU32},
      {"s7comm", P::kS7comm, {OpKind::kS7comm}, OpKind::kS7comm, 255, 255, kU32},
      {"s7comm-plus", P::kS7comm, {OpKind::kS7commPlus}, OpKind::kS7comm, 65535, 255, -1, false},
      {"enip", P::kEnip, {OpKind::kCip, OpKind::kEnip}, OpKind::kCip, 65535, 255, -1},
      {"iec104", P::kIec104, {OpKind::kIec104}, OpKind::kIec104, 255, 65535, 0xFFFFFF},
      {"opcua", P::kOpcua, {OpKind::kOpcua}, OpKind::kOpcua, 65535, -1, -1},
      {"bacnet", P::kBacnet, {OpKind::kBacnetConfirmed, OpKind::kBacnetUnconfirmed},
       OpKind::kBacnetConfirmed, 255, 65535, 0x3FFFFF},
  };
  return kTable;
}

const RuleProtocol* RuleProtocolNamed(std::string_view name) {
  for (const RuleProtocol& p : RuleProtocols()) {
    if (name == p.name) return &p;
  }
  return nullptr;
}

// The rule protocol an op kind belongs to.
const RuleProtocol* RuleProtocolOf(OpKind kind) {
  switch (kind) {
    case OpKind::kModbus: return RuleProtocolNamed("modbus");
    case OpKind::kDnp3:
    case OpKind::kDnp3Link: return RuleProtocolNamed("dnp3");
    case OpKind::kS7comm:
    case OpKind::kCotp: return RuleProtocolNamed("s7comm");
    case OpKind::kS7commPlus: return RuleProtocolNamed("s7comm-plus");
    case OpKind::kEnip:
    case OpKind::kCip: return RuleProtocolNamed("enip");
    case OpKind::kIec104:
    case OpKind::kIec104Apci: return RuleProtocolNamed("iec104");
    case OpKind::kOpcua: return RuleProtocolNamed("opcua");
    case OpKind::kBacnetConfirmed:
    case OpKind::kBacnetUnconfirmed:
    case OpKind::kBacnetApdu:
    case OpKind::kBacnetNpdu:
    case OpKind::kBacnetBvlc: return RuleProtocolNamed("bacnet");
    default: return nullptr;
  }
}

// The session kind of a housekeeping op, as CompiledPolicy::JudgeRequest
// falls back to it (compiled_policy.cc SessionKindOf); kNone for an
// operation of its own. (OPC UA: by the key's function alone; a transport
// message that shows its service id is an operation here, named by it.)
OpKind SessionKindOf(OpKind kind, uint16_t function) {
  switch (kind) {
    case OpKind::kDnp3Link: return OpKind::kDnp3;
    case OpKind::kCotp: return OpKind::kS7comm;
    case OpKind::kIec104Apci: return OpKind::kIec104;
    case OpKind::kEnip: return OpKind::kCip;
    case OpKind::kBacnetApdu:
    case OpKind::kBacnetNpdu:
    case OpKind::kBacnetBvlc: return OpKind::kBacnetConfirmed;
    case OpKind::kOpcua:
      return ics::opcua::MessageTypeTag(function).empty() ? OpKind::kNone : OpKind::kOpcua;
    default: return OpKind::kNone;
  }
}

const char* SessionProtocolName(OpKind session) {
  switch (session) {
    case OpKind::kDnp3: return "dnp3";
    case OpKind::kS7comm: return "s7comm";
    case OpKind::kIec104: return "iec104";
    case OpKind::kCip: return "enip";
    case OpKind::kBacnetConfirmed: return "bacnet";
    case OpKind::kOpcua: return "opcua";
    default: return "";
  }
}

// No decoder assigns function 255 in dnp3, s7comm, iec104, enip (CIP),
// opcua or bacnet: a rule naming only it opens its hosts' session (the
// housekeeping of the protocol) and admits no operation.
constexpr const char* kSessionOnlyFunction = "255";

std::string_view NameOf(OpKind kind, uint16_t function) {
  const ics::ProtocolModule* m = ics::ModuleFor(ics::ProtocolOf(kind));
  if (m == nullptr || m->function_name == nullptr) return {};
  return m->function_name(kind, function);
}

// How a rule of `proto` names (kind, function) so that the compiler resolves
// it back to exactly that pair; nullopt when it cannot.
std::optional<std::string> FunctionToken(const RuleProtocol& proto, OpKind kind, uint16_t function) {
  if (std::find(proto.kinds.begin(), proto.kinds.end(), kind) == proto.kinds.end()) return std::nullopt;
  const ics::ProtocolModule* m = ics::ModuleFor(proto.module);
  const std::string_view name = proto.names ? NameOf(kind, function) : std::string_view();
  if (!name.empty() && m != nullptr) {
    for (OpKind k : proto.kinds) {
      if (auto code = m->function_by_name(k, name)) {
        if (k == kind && *code == function) return std::string(name);
        break;  // the compiler takes the first kind that knows the name
      }
    }
  }
  // A number names the protocol's first kind (bacnet: both of its kinds).
  const bool by_number = kind == proto.kinds[0] || std::string_view(proto.name) == "bacnet";
  if (by_number && function <= proto.max_function) return absl::StrCat(function);
  // A UMAS function without a name: "umas" (90) admits every UMAS function.
  if (kind == OpKind::kModbus && function >> 8 == ics::kModbusUmasFunction) return std::string("umas");
  return std::nullopt;
}

bool InSet(std::string_view name, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), name) != set.end();
}

// Evidence of a rule: what its tuples add up to.
struct Evidence {
  uint64_t count = 0;
  uint64_t first = 0;
  uint64_t last = 0;
  void Add(uint64_t c, uint64_t f, uint64_t l) {
    if (c == 0) return;
    if (count == 0 || f < first) first = f;
    if (l > last) last = l;
    count += c;
  }
  void Add(const Evidence& e) { Add(e.count, e.first, e.last); }
  void Add(const observe::TupleStats& s) { Add(s.count, s.first_seen_ns, s.last_seen_ns); }
};

struct Host {
  std::array<uint8_t, 16> addr{};
  uint8_t v = 4;
  auto operator<=>(const Host&) const = default;
  std::string Text() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (v == 4) {
      inet_ntop(AF_INET, addr.data() + 12, buf, sizeof(buf));
    } else {
      inet_ntop(AF_INET6, addr.data(), buf, sizeof(buf));
    }
    return buf;
  }
  std::string Prefix() const { return absl::StrCat(Text(), v == 4 ? "/32" : "/128"); }
  std::string Dashed() const {
    std::string s = Text();
    for (char& c : s) {
      if (c == '.' || c == ':') c = '-';
    }
    return s;
  }
};

// What a rule admits, apart from its hosts.
struct Body {
  std::string protocol;  // rule protocol, or tcp/udp
  int cls = 0;           // 0 read, 1 write, 2 session, 3 tcp/udp
  uint16_t port = 0;     // 0: any (tcp/udp traffic without ports)
  std::vector<std::tuple<OpKind, uint16_t, std::string>> functions;  // empty: any
  std::vector<uint32_t> units;                                       // empty: any
  std::vector<std::pair<uint32_t, uint32_t>> ranges;                 // empty: any
  std::string note;  // a comment line when the rule admits more than was seen
  auto operator<=>(const Body&) const = default;
};

constexpr const char* kClassNames[] = {"read", "write", "session", ""};

// The ranges a rule may state for these stats: empty for any address (none
// seen, an op without one, or beyond what the protocol's rules take).
std::vector<std::pair<uint32_t, uint32_t>> RangesOf(const RuleProtocol& proto,
                                                    const observe::TupleStats& s) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  if (proto.max_address < 0) return out;
  for (int i = 0; i < s.range_count; ++i) {
    const observe::AddressRange& r = s.ranges[i];
    if (r.hi > proto.max_address || (r.lo == 0 && r.hi == proto.max_address)) return {};
    out.emplace_back(r.lo, r.hi);
  }
  return out;
}

struct Rule {
  Body body;
  std::vector<Host> from;
  std::vector<Host> to;
  Evidence evidence;
  std::string id;
};

std::string RangeText(const std::pair<uint32_t, uint32_t>& r) {
  return r.first == r.second ? absl::StrCat("\"", r.first, "\"")
                             : absl::StrCat("\"", r.first, "-", r.second, "\"");
}

void AppendRule(std::string& out, const Rule& r) {
  const bool ics = r.body.cls != 3;
  absl::StrAppend(&out, "      # evidence: ", r.evidence.count, ics ? " operation" : " packet",
                  r.evidence.count == 1 ? "" : "s", ", first seen ", Rfc3339Seconds(r.evidence.first),
                  ", last seen ", Rfc3339Seconds(r.evidence.last), "\n");
  if (!r.body.note.empty()) absl::StrAppend(&out, "      # ", r.body.note, "\n");
  absl::StrAppend(&out, "      - id: ", r.id, "\n        protocol: ", r.body.protocol, "\n");
  auto hosts = [](const std::vector<Host>& v) {
    std::vector<std::string> s;
    for (const Host& h : v) s.push_back(h.Prefix());
    return absl::StrJoin(s, ", ");
  };
  absl::StrAppend(&out, "        from: [", hosts(r.from), "]\n        to: [", hosts(r.to), "]\n");
  if (r.body.port != 0) absl::StrAppend(&out, "        port: ", r.body.port, "\n");
  if (!r.body.functions.empty()) {
    std::vector<std::string> f;
    for (const auto& t : r.body.functions) f.push_back(std::get<2>(t));
    absl::StrAppend(&out, "        functions: [", absl::StrJoin(f, ", "), "]\n");
  }
  if (!r.body.units.empty()) absl::StrAppend(&out, "        units: [", absl::StrJoin(r.body.units, ", "), "]\n");
  if (!r.body.ranges.empty()) {
    std::vector<std::string> a;
    for (const auto& range : r.body.ranges) a.push_back(RangeText(range));
    absl::StrAppend(&out, "        addresses: [", absl::StrJoin(a, ", "), "]\n");
  }
  absl::StrAppend(&out, "        action: allow\n");
}

// Builds the rules: per (client, server) behaviours, then the servers a
// client does one behaviour with, then the clients that share both.
class RuleMaker {
 public:
  void Add(const Host& client, const Host& server, const Body& body, const Evidence& e) {
    auto& [servers, ev] = by_client_[{client, body}];
    servers.insert(server);
    ev.Add(e);
  }

  std::vector<Rule> Rules() const {
    std::map<std::pair<Body, std::set<Host>>, std::pair<std::set<Host>, Evidence>> groups;
    for (const auto& [key, value] : by_client_) {
      auto& [clients, ev] = groups[{key.second, value.first}];
      clients.insert(key.first);
      ev.Add(value.second);
    }
    std::vector<Rule> rules;
    for (const auto& [key, value] : groups) {
      Rule r;
      r.body = key.first;
      r.to.assign(key.second.begin(), key.second.end());
      r.from.assign(value.first.begin(), value.first.end());
      r.evidence = value.second;
      rules.push_back(std::move(r));
    }
    // Readable order: by protocol, class, initiator, responder.
    std::sort(rules.begin(), rules.end(), [](const Rule& a, const Rule& b) {
      return std::tie(a.body.protocol, a.body.cls, a.from, a.to, a.body) <
             std::tie(b.body.protocol, b.body.cls, b.from, b.to, b.body);
    });
    std::map<std::string, int> used;
    for (Rule& r : rules) {
      const std::string cls = r.body.cls == 3 ? (r.body.port != 0 ? absl::StrCat(r.body.port) : "any")
                                              : kClassNames[r.body.cls];
      std::string id = absl::StrCat(r.body.protocol, "-", cls, "-", r.from[0].Dashed());
      const int n = ++used[id];
      if (n > 1) absl::StrAppend(&id, "-", n);
      r.id = std::move(id);
    }
    return rules;
  }

 private:
  std::map<std::pair<Host, Body>, std::pair<std::set<Host>, Evidence>> by_client_;
};

Host HostOf(const std::array<uint8_t, 16>& a, uint8_t ip_version) {
  Host h;
  h.addr = a;
  h.v = ip_version == 6 ? 6 : 4;
  return h;
}

struct Proposal {
  std::vector<Rule> rules;
  Evidence other_ip;  // IP traffic without a rule protocol (ICMP, ...)
};

Proposal Propose(const Observation& obs, uint32_t wire) {
  // (client, server, port, rule protocol, class) → function → unit (or
  // none) → stats.
  using PairKey = std::tuple<Host, Host, uint16_t, std::string, int>;
  using FnKey = std::tuple<OpKind, uint16_t, std::string>;
  std::map<PairKey, std::map<FnKey, std::map<std::pair<bool, uint32_t>, observe::TupleStats>>> ops;
  // (client, server, port, session kind) → stats, for housekeeping.
  using SessionKey = std::tuple<Host, Host, uint16_t, OpKind>;
  std::map<SessionKey, std::vector<const ObservedTuple*>> housekeeping;
  std::map<SessionKey, Evidence> inexpressible;  // operations no function token names
  RuleMaker maker;
  Proposal out;

  auto add_op = [&](const ObservedTuple& t, const RuleProtocol& proto, const std::string& token) {
    const Host client = HostOf(t.key.client, t.key.ip_version);
    const Host server = HostOf(t.key.server, t.key.ip_version);
    const int cls = IsReadFunction(t.key.kind, t.key.function) ? 0 : 1;
    const bool has_unit = t.key.has_unit != 0 && proto.max_unit >= 0 && t.key.unit <= proto.max_unit;
    observe::MergeStats(ops[{client, server, t.key.server_port, proto.name, cls}]
                           [{t.key.kind, t.key.function, token}][{has_unit, has_unit ? t.key.unit : 0}],
                        t.stats);
  };

  for (const ObservedTuple& t : obs.tuples) {
    if (t.key.wire != wire || t.stats.count == 0) continue;
    const Host client = HostOf(t.key.client, t.key.ip_version);
    const Host server = HostOf(t.key.server, t.key.ip_version);
    if (!t.key.is_ics()) {
      if (t.key.l4_proto != 6 && t.key.l4_proto != 17) {
        out.other_ip.Add(t.stats);
        continue;
      }
      Body b;
      b.protocol = t.key.l4_proto == 6 ? "tcp" : "udp";
      b.cls = 3;
      b.port = t.key.server_port;
      if (b.port == 0) b.note = "packets without ports (IP fragments): any port of these hosts";
      Evidence e;
      e.Add(t.stats);
      maker.Add(client, server, b, e);
      continue;
    }
    if (t.key.direction == ics::Direction::kResponse) continue;  // follows its request
    const RuleProtocol* proto = RuleProtocolOf(t.key.kind);
    if (proto == nullptr) continue;
    const OpKind session = SessionKindOf(t.key.kind, t.key.function);
    if (session != OpKind::kNone) {
      housekeeping[{client, server, t.key.server_port, session}].push_back(&t);
      continue;
    }
    if (auto token = FunctionToken(*proto, t.key.kind, t.key.function)) {
      add_op(t, *proto, *token);
    } else {
      inexpressible[{client, server, t.key.server_port, proto->session}].Add(t.stats);
    }
  }

  // Housekeeping rides on any allow rule of its protocol between the same
  // hosts and port; where there is none, a rule naming the op (when the
  // schema can) or opening the session only.
  auto covered = [&](const SessionKey& k) {
    for (const auto& [pk, fns] : ops) {
      if (std::get<0>(pk) == std::get<0>(k) && std::get<1>(pk) == std::get<1>(k) &&
          std::get<2>(pk) == std::get<2>(k) && RuleProtocolNamed(std::get<3>(pk))->session == std::get<3>(k)) {
        return true;
      }
    }
    return inexpressible.count(k) != 0;
  };
  std::vector<std::pair<SessionKey, Evidence>> session_only;
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [k, tuples] : housekeeping) {
      if (covered(k)) continue;
      if (pass == 0) {
        // Name them where every op of the session has a name the schema takes.
        std::vector<std::pair<const ObservedTuple*, std::string>> named;
        for (const ObservedTuple* t : tuples) {
          if (auto token = FunctionToken(*RuleProtocolOf(t->key.kind), t->key.kind, t->key.function)) {
            named.emplace_back(t, *token);
          }
        }
        if (named.size() == tuples.size()) {
          for (const auto& [t, token] : named) add_op(*t, *RuleProtocolOf(t->key.kind), token);
        }
      } else {
        Evidence e;
        for (const ObservedTuple* t : tuples) e.Add(t->stats);
        session_only.emplace_back(k, e);
      }
    }
  }

  // Operations: per (pair, class), functions with the same units and ranges
  // share a rule.
  for (const auto& [pk, fns] : ops) {
    const auto& [client, server, port, protocol, cls] = pk;
    const RuleProtocol& proto = *RuleProtocolNamed(protocol);
    std::map<std::pair<std::vector<uint32_t>, std::vector<std::pair<uint32_t, uint32_t>>>,
             std::pair<std::vector<FnKey>, Evidence>> behaviours;
    for (const auto& [fn, units] : fns) {
      const bool any_unit = std::any_of(units.begin(), units.end(), [](const auto& u) { return !u.first.first; });
      if (any_unit) {
        observe::TupleStats all;
        for (const auto& [u, s] : units) observe::MergeStats(all, s);
        auto& [list, ev] = behaviours[{{}, RangesOf(proto, all)}];
        list.push_back(fn);
        ev.Add(all);
        continue;
      }
      // Units with the same ranges together.
      std::map<std::vector<std::pair<uint32_t, uint32_t>>, std::pair<std::vector<uint32_t>, Evidence>> by_ranges;
      for (const auto& [u, s] : units) {
        auto& [list, ev] = by_ranges[RangesOf(proto, s)];
        list.push_back(u.second);
        ev.Add(s);
      }
      for (const auto& [ranges, value] : by_ranges) {
        auto& [list, ev] = behaviours[{value.first, ranges}];
        list.push_back(fn);
        ev.Add(value.second);
      }
    }
    for (const auto& [key, value] : behaviours) {
      Body b;
      b.protocol = protocol;
      b.cls = cls;
      b.port = port;
      for (const FnKey& f : value.first) b.functions.push_back(f);
      std::sort(b.functions.begin(), b.functions.end());
      b.units = key.first;
      b.ranges = key.second;
      maker.Add(client, server, b, value.second);
    }
  }
  for (const auto& [k, e] : inexpressible) {
    Body b;
    b.protocol = SessionProtocolName(std::get<3>(k));
    b.cls = 1;
    b.port = std::get<2>(k);
    b.note = "functions seen that the schema cannot name: this rule admits every function";
    maker.Add(std::get<0>(k), std::get<1>(k), b, e);
  }
  for (const auto& [k, e] : session_only) {
    Body b;
    b.protocol = SessionProtocolName(std::get<3>(k));
    b.cls = 2;
    b.port = std::get<2>(k);
    b.functions.emplace_back(OpKind::kNone, 255, kSessionOnlyFunction);
    b.note = "only session housekeeping seen (link, transport): function 255 is unassigned, so "
             "this rule opens the session and admits no operation";
    maker.Add(std::get<0>(k), std::get<1>(k), b, e);
  }
  out.rules = maker.Rules();
  return out;
}

std::string RulesText(const std::vector<Rule>& rules) {
  if (rules.empty()) return "    rules: []\n";
  std::string out = "    rules:\n";
  for (const Rule& r : rules) AppendRule(out, r);
  return out;
}

std::string EtherTypeName(uint16_t t) {
  switch (t) {
    case 0x0806: return "arp";
    case 0x8035: return "rarp";
    case 0x88cc: return "lldp";
    case 0x8892: return "profinet";
    default: {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "0x%04x", t);
      return buf;
    }
  }
}

std::string Indent(const std::string& text, const std::string& first, const std::string& rest) {
  std::string out;
  bool first_line = true;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty()) continue;
    absl::StrAppend(&out, first_line ? first : rest, std::string(line), "\n");
    first_line = false;
  }
  return out;
}

std::string YamlText(const YAML::Node& n) {
  YAML::Emitter e;
  e << n;
  return e.c_str();
}

std::string Header(const Observation& obs, const ProposeOptions& options, const Proposal& p) {
  return absl::StrCat("# Proposed by `conduitctl propose` from ", options.source, ": ", obs.frames,
                      " frames, ", Rfc3339Seconds(obs.first_seen_ns), " to ", Rfc3339Seconds(obs.last_seen_ns), ", ",
                      obs.tuples.size(), " tuples, ", p.rules.size(), " rules.\n",
                      "# Each rule admits what was seen and nothing it can avoid: hosts that did the same\n",
                      "# share a rule, reads and writes are separate rules, addresses are those touched.\n");
}

absl::StatusOr<std::string> WithoutBase(const Observation& obs, const ProposeOptions& options,
                                        const Proposal& p) {
  std::string out = Header(obs, options, p);
  absl::StrAppend(&out,
                  "# mode: monitor: what the rules do not admit is reported, not blocked. Review the rules,\n"
                  "# try them (conduitctl simulate, push --shadow), then set mode: enforce.\n",
                  "version: \"proposed\"\nmode: monitor\n");
  // A capture does not say which port faces which host: the zones are the
  // hosts that only initiated and the others, for the operator to correct.
  std::set<Host> initiators, responders;
  for (const Rule& r : p.rules) {
    initiators.insert(r.from.begin(), r.from.end());
    responders.insert(r.to.begin(), r.to.end());
  }
  std::vector<std::string> a, b;
  for (const Host& h : initiators) {
    if (!responders.contains(h)) a.push_back(h.Prefix());
  }
  for (const Host& h : responders) b.push_back(h.Prefix());
  absl::StrAppend(&out, "# Zones: the hosts that only initiated, and the others (a capture does not say which\n",
                  "# port faces which host: check sides against the wiring).\nzones:\n");
  absl::StrAppend(&out, "  initiators: [", a.empty() ? "192.0.2.0/24]  # none seen: a placeholder" : absl::StrJoin(a, ", ") + "]", "\n");
  absl::StrAppend(&out, "  responders: [", b.empty() ? "198.51.100.0/24]  # none seen: a placeholder" : absl::StrJoin(b, ", ") + "]", "\n");
  absl::StrAppend(&out, "conduits:\n  - name: proposed\n    wire: ", options.wire,
                  "\n    sides: {a: initiators, b: responders}\n    default: deny\n");
  if (p.other_ip.count != 0) {
    absl::StrAppend(&out, "    # ", p.other_ip.count,
                    " packets of IP traffic no rule can name (ICMP, ...), first seen ",
                    Rfc3339Seconds(p.other_ip.first), ", last seen ", Rfc3339Seconds(p.other_ip.last),
                    ":\n    # alert passes and reports it (and any other traffic that is not ICS).\n"
                    "    non_ics: alert\n");
  } else {
    absl::StrAppend(&out, "    non_ics: deny\n");
  }
  absl::StrAppend(&out, "    on_deny: reset\n");
  std::vector<std::string> names;
  uint64_t frames = 0, llc = 0;
  for (const auto& [t, n] : obs.non_ip) {
    if (t < 0x0600) {
      llc += n;  // an 802.3 length, not an ethertype
      continue;
    }
    names.push_back(EtherTypeName(t));
    frames += n;
  }
  if (!names.empty()) {
    absl::StrAppend(&out, "    # ", frames, " non-IP frames seen\n    allow_non_ip: [", absl::StrJoin(names, ", "), "]\n");
  }
  if (llc != 0) {
    absl::StrAppend(&out, "    # ", llc, " IEEE 802.3 (LLC) frames seen, which allow_non_ip cannot name (it takes\n",
                    "    # ethertypes): they fall to non_ip and are denied.\n");
  }
  if (obs.unparsable != 0) {
    absl::StrAppend(&out, "    # ", obs.unparsable,
                    " frames malformed or with their ICS framing lost: reported, not blocked\n"
                    "    unparsable: alert\n");
  }
  absl::StrAppend(&out, RulesText(p.rules));
  return out;
}

absl::StatusOr<std::string> WithBase(const Observation& obs, const ProposeOptions& options,
                                     const Proposal& p) {
  if (auto base = policy::LoadAndValidateText(options.base_policy); !base.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("base policy: ", base.status().message()));
  }
  YAML::Node root;
  try {
    root = YAML::Load(options.base_policy);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("base policy: ", e.what()));
  }
  if (!root.IsMap()) return absl::InvalidArgumentError("base policy: not a mapping");
  std::string out = Header(obs, options, p);
  absl::StrAppend(&out, "# Zones, conduits, defaults, mode and signatures are the base policy's; the rules of\n",
                  "# the conduit on wire ", options.wire, " are proposed.\n");
  bool found = false;
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>("");
    if (key == "version") {
      YAML::Node v;
      v["version"] = absl::StrCat(kv.second.as<std::string>(""), "+proposed");
      absl::StrAppend(&out, YamlText(v), "\n");
      continue;
    }
    if (key != "conduits" || !kv.second.IsSequence()) {
      YAML::Node m;
      m[key] = kv.second;
      absl::StrAppend(&out, YamlText(m), "\n");
      continue;
    }
    absl::StrAppend(&out, "conduits:\n");
    for (const YAML::Node& c : kv.second) {
      YAML::Node copy(YAML::NodeType::Map);
      for (const auto& f : c) {
        if (f.first.as<std::string>("") != "rules") copy[f.first] = f.second;
      }
      absl::StrAppend(&out, Indent(YamlText(copy), "  - ", "    "));
      const bool ours = c["wire"] && c["wire"].as<uint32_t>(~0u) == options.wire;
      if (ours) {
        found = true;
        if (p.other_ip.count != 0) {
          absl::StrAppend(&out, "    # note: ", p.other_ip.count,
                          " packets of IP traffic no rule can name (ICMP, ...) fall to non_ics\n");
        }
        if (obs.unparsable != 0) {
          absl::StrAppend(&out, "    # note: ", obs.unparsable, " frames fall to unparsable\n");
        }
        absl::StrAppend(&out, RulesText(p.rules));
      } else if (c["rules"]) {
        YAML::Node r;
        r["rules"] = c["rules"];
        absl::StrAppend(&out, "    # not observed: rules kept from the base\n", Indent(YamlText(r), "    ", "    "));
      }
    }
  }
  if (!found) {
    return absl::InvalidArgumentError(absl::StrCat("base policy: no conduit on wire ", options.wire));
  }
  return out;
}

}  // namespace

bool IsReadFunction(OpKind kind, uint16_t function) {
  const std::string_view name = NameOf(kind, function);
  switch (kind) {
    case OpKind::kModbus:
      return InSet(name, {"read_coils", "read_discrete_inputs", "read_holding_registers",
                          "read_input_registers", "read_exception_status", "get_comm_event_counter",
                          "get_comm_event_log", "report_server_id", "read_file_record", "read_fifo_queue",
                          "umas_init_comm", "umas_read_id", "umas_read_project_info", "umas_read_plc_info",
                          "umas_read_card_info", "umas_keep_alive", "umas_read_memory_block",
                          "umas_read_variables", "umas_read_coils_registers", "umas_read_eth_master_data",
                          "umas_monitor_plc", "umas_check_plc", "umas_read_io_object",
                          "umas_get_status_module"});
    case OpKind::kDnp3:
      return InSet(name, {"confirm", "read", "delay_measure", "get_file_info"}) || function >= 0x81;
    case OpKind::kS7comm:
      // Upload copies a block out of the PLC; it changes nothing.
      return InSet(name, {"read_var", "setup_communication", "ack", "start_upload", "upload", "end_upload",
                          "userdata_cpu_functions", "userdata_block_functions", "userdata_cyclic_data"});
    case OpKind::kS7commPlus:
      // Explore, GetLink, GetMultiVariables, GetVarSubStreamed.
      return function == 0x04BB || function == 0x0524 || function == 0x054C || function == 0x0586;
    case OpKind::kCip:
      // Multiple-service and unconnected-send carry services judged on their own.
      return InSet(name, {"get_attributes_all", "get_attribute_list", "get_attribute_single",
                          "find_next_object_instance", "get_member", "read_tag", "forward_open",
                          "forward_close", "nop", "multiple_service_packet", "unconnected_send"});
    case OpKind::kIec104:
      return name.starts_with("m_") ||
             InSet(name, {"c_ic_na_1", "c_ci_na_1", "c_rd_na_1", "c_ts_na_1", "c_cd_na_1", "c_ts_ta_1"});
    case OpKind::kOpcua:
      return name.ends_with("_response") || !ics::opcua::MessageTypeTag(function).empty() ||
             InSet(name, {"find_servers_request", "get_endpoints_request", "open_secure_channel_request",
                          "close_secure_channel_request", "create_session_request",
                          "activate_session_request", "close_session_request", "browse_request",
                          "browse_next_request", "translate_browse_paths_to_node_ids_request",
                          "register_nodes_request", "unregister_nodes_request", "query_first_request",
                          "query_next_request", "read_request", "history_read_request",
                          "create_monitored_items_request", "modify_monitored_items_request",
                          "set_monitoring_mode_request", "set_triggering_request",
                          "delete_monitored_items_request", "create_subscription_request",
                          "modify_subscription_request", "set_publishing_mode_request", "publish_request",
                          "republish_request", "transfer_subscriptions_request",
                          "delete_subscriptions_request", "find_servers_on_network_request"});
    case OpKind::kBacnetConfirmed:
    case OpKind::kBacnetUnconfirmed:
      return InSet(name, {"get_alarm_summary", "get_enrollment_summary", "subscribe_cov", "atomic_read_file",
                          "read_property", "read_property_conditional", "read_property_multiple",
                          "read_range", "subscribe_cov_property", "get_event_information",
                          "subscribe_cov_property_multiple", "confirmed_cov_notification",
                          "confirmed_cov_notification_multiple", "confirmed_event_notification",
                          "confirmed_audit_notification", "audit_log_query", "i_am", "i_have",
                          "unconfirmed_cov_notification", "unconfirmed_cov_notification_multiple",
                          "unconfirmed_event_notification", "unconfirmed_audit_notification", "who_has",
                          "who_is", "who_am_i"});
    // Housekeeping: sessions, links, transport.
    case OpKind::kEnip:
    case OpKind::kDnp3Link:
    case OpKind::kCotp:
    case OpKind::kIec104Apci:
    case OpKind::kBacnetApdu:
    case OpKind::kBacnetNpdu:
    case OpKind::kBacnetBvlc: return true;
    default: return false;
  }
}

absl::StatusOr<std::string> ProposePolicy(const Observation& observation, const ProposeOptions& options) {
  const Proposal p = Propose(observation, options.wire);
  absl::StatusOr<std::string> text =
      options.base_policy.empty() ? WithoutBase(observation, options, p) : WithBase(observation, options, p);
  if (!text.ok()) return text;
  // The proposal must be a policy the gateway takes.
  if (auto checked = policy::LoadAndValidateText(*text); !checked.ok()) {
    return absl::InternalError(absl::StrCat("the proposal does not validate (a bug):\n",
                                            checked.status().message(), "\n", *text));
  }
  return text;
}

}  // namespace conduit::baseline
