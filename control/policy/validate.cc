#include "policy/validate.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <map>
#include <set>
#include <fstream>
#include <sstream>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "classify/signatures.h"
#include "ics/registry.h"
#include "policy/expires.h"

namespace conduit::policy {
namespace {

namespace v1 = ::conduit::v1;
using ics::OpKind;

// What a rule's protocol allows. Ranges follow the decoders' IcsOp fields
// (dataplane/ics/*.h): a value outside them can never match, so it is a typo.
struct ProtocolInfo {
  const char* name;
  ics::Protocol protocol;        // kUnknown: plain tcp/udp
  uint32_t max_function;         // 0 with no functions (tcp/udp)
  std::array<OpKind, 2> kinds;   // layers whose names the rule may use (kNone: unused)
  int64_t max_unit;              // -1: the protocol has no unit
  int64_t max_address;           // -1: the protocol has no addresses
};

constexpr int64_t kU32 = 0xFFFFFFFF;
constexpr ProtocolInfo kProtocols[] = {
    {"modbus", ics::Protocol::kModbus, 255, {OpKind::kModbus, OpKind::kNone}, 255, 65535},
    {"dnp3", ics::Protocol::kDnp3, 255, {OpKind::kDnp3, OpKind::kNone}, 65535, kU32},
    {"s7comm", ics::Protocol::kS7comm, 255, {OpKind::kS7comm, OpKind::kNone}, 255, kU32},
    // S7comm-plus function codes are 16-bit and have no names in the decoder.
    {"s7comm-plus", ics::Protocol::kS7commPlus, 65535, {OpKind::kNone, OpKind::kNone}, 255, -1},
    {"enip", ics::Protocol::kEnip, 65535, {OpKind::kCip, OpKind::kEnip}, 255, -1},
    {"iec104", ics::Protocol::kIec104, 255, {OpKind::kIec104, OpKind::kNone}, 65535, 0xFFFFFF},
    {"opcua", ics::Protocol::kOpcua, 65535, {OpKind::kOpcua, OpKind::kNone}, -1, -1},
    {"bacnet", ics::Protocol::kBacnet, 255,
     {OpKind::kBacnetConfirmed, OpKind::kBacnetUnconfirmed}, 65535, 0x3FFFFF},
    {"tcp", ics::Protocol::kUnknown, 0, {OpKind::kNone, OpKind::kNone}, -1, -1},
    {"udp", ics::Protocol::kUnknown, 0, {OpKind::kNone, OpKind::kNone}, -1, -1},
};

const ProtocolInfo* FindProtocol(std::string_view name) {
  for (const ProtocolInfo& p : kProtocols) {
    if (name == p.name) return &p;
  }
  return nullptr;
}

std::string ProtocolList() {
  std::vector<std::string> names;
  for (const ProtocolInfo& p : kProtocols) names.emplace_back(p.name);
  return absl::StrJoin(names, ", ");
}

std::string Quote(std::string_view s) { return absl::StrCat("\"", std::string(s), "\""); }

// Decimal or 0x hex, the whole string.
std::optional<uint64_t> ParseNumber(std::string_view s) {
  uint64_t v = 0;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    const std::string_view hex = s.substr(2);
    if (hex.size() > 16 ||
        !std::all_of(hex.begin(), hex.end(), [](unsigned char c) { return std::isxdigit(c); }) ||
        !absl::SimpleHexAtoi(std::string(hex), &v)) {
      return std::nullopt;
    }
    return v;
  }
  if (s.empty() || s.size() > 19 ||
      !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); }) ||
      !absl::SimpleAtoi(std::string(s), &v)) {
    return std::nullopt;
  }
  return v;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Named non-IP ethertypes an ICS site may need to pass: ARP, LLDP, and the
// layer-2 industrial protocols (PROFINET RT, IEC 61850 GOOSE/SV, PTP, MRP).
constexpr std::pair<std::string_view, uint16_t> kEtherTypes[] = {
    {"arp", 0x0806},     {"rarp", 0x8035}, {"lldp", 0x88cc}, {"profinet", 0x8892},
    {"goose", 0x88b8},   {"sv", 0x88ba},   {"ptp", 0x88f7},  {"mrp", 0x88e3},
};

class Validator {
 public:
  Validator(const v1::PolicySnapshot& p, const ValidateOptions& o) : policy_(p), options_(o) {}

  std::vector<PolicyError> Run() {
    if (policy_.version().empty()) Add("version", "missing (any string; status echoes it)");
    if (policy_.mode() == v1::MODE_UNSPECIFIED) {
      Add("mode", "missing: the gateway-wide mode is enforce, monitor or bypass");
    } else if (!v1::Mode_IsValid(policy_.mode())) {
      Add("mode", absl::StrCat("invalid value ", policy_.mode()));
    }
    Zones();
    for (int i = 0; i < policy_.conduits_size(); ++i) {
      conduit_index_.emplace(policy_.conduits(i).name(), i);
    }
    for (int i = 0; i < policy_.conduits_size(); ++i) Conduit(i);
    for (int i = 0; i < policy_.signatures_size(); ++i) Signature(i);
    for (int i = 0; i < policy_.ports_size(); ++i) Port(i);
    return std::move(errors_);
  }

 private:
  // `fallback_line`: the rule's or signature's own line, for policies that
  // came without a line map (a gRPC push of a loaded file keeps those).
  void Add(const std::string& path, std::string reason, int fallback_line = 0) {
    errors_.push_back({path, std::move(reason), LineOf(path, fallback_line)});
  }

  // The line of `path` or of its nearest recorded ancestor.
  int LineOf(std::string path, int fallback_line) const {
    if (options_.lines != nullptr) {
      while (!path.empty()) {
        if (auto it = options_.lines->find(path); it != options_.lines->end() && it->second > 0) {
          return it->second;
        }
        const size_t cut = path.find_last_of(".[");
        if (cut == std::string::npos) break;
        path.resize(cut);
      }
    }
    return fallback_line;
  }

  void Zones() {
    std::map<std::string, int> names;
    // Network bytes + length → "zones.name[i]" where it was first seen.
    std::map<std::pair<std::string, int>, std::string> seen;
    for (int i = 0; i < policy_.zones_size(); ++i) {
      const v1::Zone& z = policy_.zones(i);
      const std::string path = absl::StrCat("zones.", z.name());
      if (z.name().empty()) {
        Add(path, "a zone needs a name");
      } else if (!names.emplace(z.name(), i).second) {
        Add(path, absl::StrCat("duplicate zone name ", Quote(z.name())));
      } else if (LooksLikeAddress(z.name())) {
        Add(path, "a zone name cannot look like an address (from/to would be ambiguous)");
      }
      if (z.prefixes_size() == 0) Add(path, "no prefixes: a zone is a list of CIDR prefixes");
      for (int j = 0; j < z.prefixes_size(); ++j) {
        const std::string ppath = absl::StrCat(path, "[", j, "]");
        absl::StatusOr<IpPrefix> prefix = ParsePrefix(z.prefixes(j));
        if (!prefix.ok()) {
          Add(ppath, std::string(prefix.status().message()));
          continue;
        }
        const std::pair<std::string, int> key{
            std::string(reinterpret_cast<const char*>(prefix->bytes), prefix->v6 ? 16 : 4) +
                (prefix->v6 ? "6" : "4"),
            prefix->length};
        auto [it, inserted] = seen.emplace(key, ppath);
        if (!inserted) {
          Add(ppath, absl::StrCat(FormatPrefix(*prefix), " is also in ", it->second,
                                  ": a prefix belongs to one zone"));
        }
      }
      zone_names_.insert(z.name());
    }
  }

  static bool LooksLikeAddress(std::string_view s) {
    if (s.find('/') != std::string_view::npos || s.find(':') != std::string_view::npos) return true;
    in_addr a4;
    return inet_pton(AF_INET, std::string(s).c_str(), &a4) == 1;
  }

  void Conduit(int i) {
    const v1::Conduit& c = policy_.conduits(i);
    const std::string path = absl::StrCat("conduits[", i, "]");
    if (c.name().empty()) {
      Add(path + ".name", "missing (events and signatures name the conduit)");
    } else if (auto it = conduit_index_.find(c.name()); it->second != i) {
      Add(path + ".name", absl::StrCat("duplicate conduit name ", Quote(c.name()), " (also conduits[",
                                       it->second, "])"));
    }
    if (options_.wire_count >= 0 && c.wire() >= static_cast<uint32_t>(options_.wire_count)) {
      Add(path + ".wire",
          options_.wire_count == 0
              ? absl::StrCat("wire ", c.wire(), " does not exist: the daemon has no wires")
              : absl::StrCat("wire ", c.wire(), " does not exist: the daemon has ",
                             options_.wire_count, " wire", options_.wire_count == 1 ? "" : "s",
                             " (0-", options_.wire_count - 1, ")"));
    }
    // One conduit judges a wire's traffic: two would contradict each other.
    if (auto [it, inserted] = wires_.emplace(c.wire(), i); !inserted) {
      Add(path + ".wire", absl::StrCat("wire ", c.wire(), " is already used by conduits[",
                                       it->second, "]"));
    }
    Side(c.side_a(), path + ".sides.a");
    Side(c.side_b(), path + ".sides.b");
    if (!c.side_a().empty() && c.side_a() == c.side_b()) {
      Add(path + ".sides.b", absl::StrCat("the same zone as sides.a (", Quote(c.side_a()), ")"));
    }
    RequiredAction(c.default_action(), path + ".default");
    RequiredAction(c.non_ics(), path + ".non_ics");
    if (c.unparsable() != v1::ACTION_UNSPECIFIED) RequiredAction(c.unparsable(), path + ".unparsable");
    if (!v1::Fragments_IsValid(c.fragments())) {
      Add(path + ".fragments", absl::StrCat("invalid value ", c.fragments()));
    }
    if (!v1::OnDeny_IsValid(c.on_deny())) {
      Add(path + ".on_deny", absl::StrCat("invalid value ", c.on_deny()));
    }
    ModeField(c.mode(), path + ".mode", 0);
    for (int j = 0; j < c.allow_non_ip_size(); ++j) {
      absl::StatusOr<uint16_t> type = ParseEtherType(c.allow_non_ip(j));
      if (!type.ok()) Add(absl::StrCat(path, ".allow_non_ip[", j, "]"), std::string(type.status().message()));
    }
    for (int j = 0; j < c.rules_size(); ++j) Rule(c.rules(j), absl::StrCat(path, ".rules[", j, "]"));
  }

  void Side(const std::string& zone, const std::string& path) {
    if (zone.empty()) {
      Add(path, "missing (the zone this port faces)");
    } else if (!zone_names_.contains(zone)) {
      Add(path, absl::StrCat("unknown zone ", Quote(zone)));
    }
  }

  void RequiredAction(v1::Action a, const std::string& path, int line = 0) {
    if (a == v1::ACTION_UNSPECIFIED) {
      Add(path, "missing: allow, deny or alert", line);
    } else if (!v1::Action_IsValid(a)) {
      Add(path, absl::StrCat("invalid value ", a), line);
    }
  }

  void ModeField(v1::Mode m, const std::string& path, int line) {
    if (!v1::Mode_IsValid(m)) Add(path, absl::StrCat("invalid value ", m), line);
  }

  // Rule and signature ids share one namespace: events name either.
  void Id(const std::string& id, const std::string& path, int line) {
    if (id.empty()) {
      Add(path, "missing (events name the rule by its id)", line);
      return;
    }
    if (id == "default") {
      Add(path, "\"default\" is reserved: events name the conduit's default verdict so", line);
      return;
    }
    if (id.starts_with(kGrantIdPrefix)) {
      Add(path, absl::StrCat(Quote(id), ": ids starting with \"", kGrantIdPrefix,
                             "\" are reserved for grants (conduitctl grant)"), line);
      return;
    }
    auto [it, inserted] = ids_.emplace(id, std::make_pair(path, line));
    if (!inserted) {
      const int first_line = LineOf(it->second.first, it->second.second);
      Add(path, absl::StrCat("duplicate id ", Quote(id), " (also ", it->second.first,
                             first_line > 0 ? absl::StrCat(", line ", first_line) : "", ")"),
          line);
    }
  }

  void Endpoint(const std::string& entry, const std::string& path, int line) {
    if (zone_names_.contains(entry)) return;
    if (!LooksLikeAddress(entry)) {
      Add(path, absl::StrCat("unknown zone ", Quote(entry), " (and not a CIDR prefix)"), line);
      return;
    }
    absl::StatusOr<IpPrefix> prefix = ParsePrefix(entry);
    if (!prefix.ok()) Add(path, std::string(prefix.status().message()), line);
  }

  void Rule(const v1::Rule& r, const std::string& path) {
    const int line = r.line();
    Id(r.id(), path + ".id", line);
    const ProtocolInfo* proto = nullptr;
    if (r.protocol().empty()) {
      Add(path + ".protocol", absl::StrCat("missing; expected one of: ", ProtocolList()), line);
    } else if ((proto = FindProtocol(r.protocol())) == nullptr) {
      Add(path + ".protocol", absl::StrCat("unknown protocol ", Quote(r.protocol()),
                                           "; expected one of: ", ProtocolList()), line);
    }
    for (int j = 0; j < r.from_size(); ++j) Endpoint(r.from(j), absl::StrCat(path, ".from[", j, "]"), line);
    for (int j = 0; j < r.to_size(); ++j) Endpoint(r.to(j), absl::StrCat(path, ".to[", j, "]"), line);
    if (r.port() > 65535) {
      Add(path + ".port", absl::StrCat(r.port(), " is out of range (1-65535; 0 or absent: ",
                                       "the protocol's well-known port)"), line);
    }
    if (proto != nullptr) ProtocolFields(proto, r, path, line);
    RequiredAction(r.action(), path + ".action", line);
    ModeField(r.mode(), path + ".mode", line);
    if (!r.expires().empty()) {
      // An expiry that has passed is no error: the rule simply no longer
      // exists (the policy manager leaves it out).
      absl::StatusOr<uint64_t> when = ParseRfc3339(r.expires());
      if (!when.ok()) Add(path + ".expires", std::string(when.status().message()), line);
    }
  }

  // functions, units, addresses: what they may hold depends on the protocol.
  void ProtocolFields(const ProtocolInfo* proto, const v1::Rule& r, const std::string& path,
                      int line) {
    const bool ics = proto->protocol != ics::Protocol::kUnknown;
    if (!ics && r.functions_size() > 0) {
      Add(path + ".functions", absl::StrCat(proto->name, " rules match no functions: ",
                                            "functions are for ICS protocols"), line);
    } else {
      for (int j = 0; j < r.functions_size(); ++j) {
        Function(*proto, r.functions(j), absl::StrCat(path, ".functions[", j, "]"), line);
      }
    }
    if (r.units_size() > 0 && proto->max_unit < 0) {
      Add(path + ".units", ics ? absl::StrCat(proto->name, " has no unit to match")
                               : absl::StrCat(proto->name, " rules match no units"), line);
    } else {
      for (int j = 0; j < r.units_size(); ++j) {
        if (r.units(j) > proto->max_unit) {
          Add(absl::StrCat(path, ".units[", j, "]"),
              absl::StrCat("unit ", r.units(j), " is out of range for ", proto->name, " (0-",
                           proto->max_unit, ")"), line);
        }
      }
    }
    if (r.addresses_size() > 0 && proto->max_address < 0) {
      Add(path + ".addresses", ics ? absl::StrCat(proto->name, " has no addresses to match")
                                   : absl::StrCat(proto->name, " rules match no addresses"), line);
    } else {
      for (int j = 0; j < r.addresses_size(); ++j) {
        const std::string apath = absl::StrCat(path, ".addresses[", j, "]");
        absl::StatusOr<AddressRange> range = ParseAddressRange(r.addresses(j));
        if (!range.ok()) {
          Add(apath, std::string(range.status().message()), line);
        } else if (range->last > proto->max_address) {
          Add(apath, absl::StrCat(Quote(r.addresses(j)), ": ", range->last, " is above ",
                                  proto->max_address, ", the highest ", proto->name, " address"),
              line);
        }
      }
    }
  }

  void Function(const ProtocolInfo& proto, const std::string& f, const std::string& path, int line) {
    if (AllDigits(f)) {  // the loader normalised numbers to decimal
      const std::optional<uint64_t> v = ParseNumber(f);
      if (!v || *v > proto.max_function) {
        Add(path, absl::StrCat("function ", f, " is out of range for ", proto.name, " (0-",
                               proto.max_function, ")"), line);
      }
      return;
    }
    if (const ics::ProtocolModule* m = ics::ModuleFor(proto.protocol)) {
      for (OpKind kind : proto.kinds) {
        if (kind != OpKind::kNone && m->function_by_name(kind, f).has_value()) return;
      }
    }
    if (proto.kinds[0] == OpKind::kNone) {
      Add(path, absl::StrCat(proto.name, " functions are numbers only, not ", Quote(f)), line);
    } else {
      Add(path, absl::StrCat("unknown ", proto.name, " function ", Quote(f)), line);
    }
  }

  void Signature(int i) {
    const v1::Signature& s = policy_.signatures(i);
    const std::string path = absl::StrCat("signatures[", i, "]");
    const int line = s.line();
    Id(s.id(), path + ".id", line);
    if (s.protocol().empty()) {
      Add(path + ".protocol", absl::StrCat("missing; expected one of: ", ProtocolList()), line);
    } else if (FindProtocol(s.protocol()) == nullptr) {
      Add(path + ".protocol", absl::StrCat("unknown protocol ", Quote(s.protocol()),
                                           "; expected one of: ", ProtocolList()), line);
    }
    if (s.pattern().empty()) {
      Add(path + ".pattern", "missing or empty (Hyperscan syntax)", line);
    } else if (absl::Status st = SignatureSet::CheckPattern(s.pattern()); !st.ok()) {
      // Compiled exactly as the policy compiler will, so a push that passes
      // validation cannot fail later on its patterns.
      Add(path + ".pattern", std::string(st.message()), line);
    }
    if (s.action() == v1::ACTION_ALLOW) {
      Add(path + ".action", "a signature may deny or alert, not allow", line);
    } else {
      RequiredAction(s.action(), path + ".action", line);
    }
    ModeField(s.mode(), path + ".mode", line);
    for (int j = 0; j < s.conduits_size(); ++j) {
      if (!conduit_index_.contains(s.conduits(j))) {
        Add(absl::StrCat(path, ".conduits[", j, "]"),
            absl::StrCat("unknown conduit ", Quote(s.conduits(j))), line);
      }
    }
  }

  void Port(int i) {
    const v1::PortOverride& p = policy_.ports(i);
    const std::string path = absl::StrCat("ports[", i, "]");
    const ProtocolInfo* proto = FindProtocol(p.protocol());
    const ics::ProtocolModule* module = proto ? ics::ModuleFor(proto->protocol) : nullptr;
    if (p.protocol().empty()) {
      Add(path + ".protocol", "missing: the ICS protocol served on these ports");
    } else if (proto != nullptr && proto->protocol == ics::Protocol::kS7commPlus) {
      Add(path + ".protocol", "s7comm-plus is recognised on s7comm's ports: override s7comm");
    } else if (module == nullptr) {
      Add(path + ".protocol", absl::StrCat("unknown ICS protocol ", Quote(p.protocol())));
    }
    if (p.tcp() == 0 && p.udp() == 0) Add(path, "neither tcp nor udp is set");
    for (const auto& [field, port, udp] :
         {std::tuple{"tcp", p.tcp(), false}, std::tuple{"udp", p.udp(), true}}) {
      if (port == 0) continue;
      const std::string fpath = absl::StrCat(path, ".", field);
      if (port > 65535) {
        Add(fpath, absl::StrCat(port, " is out of range (1-65535)"));
        continue;
      }
      if (module != nullptr && (udp ? module->udp_port : module->tcp_port) == 0) {
        Add(fpath, absl::StrCat(p.protocol(), " is not decoded over ", field));
      }
      if (module == nullptr) continue;
      auto& owners = udp ? udp_ports_ : tcp_ports_;
      auto [it, inserted] = owners.emplace(port, std::make_pair(p.protocol(), fpath));
      if (!inserted && it->second.first != p.protocol()) {
        Add(fpath, absl::StrCat(field, " port ", port, " is already given to ", it->second.first,
                                " by ", it->second.second));
      }
    }
  }

  const v1::PolicySnapshot& policy_;
  const ValidateOptions& options_;
  std::vector<PolicyError> errors_;
  std::set<std::string> zone_names_;
  std::map<std::string, int> conduit_index_;  // name → first conduit with it
  std::map<uint32_t, int> wires_;
  std::map<std::string, std::pair<std::string, int>> ids_;  // id → (path, rule line)
  std::map<uint32_t, std::pair<std::string, std::string>> tcp_ports_, udp_ports_;
};

}  // namespace

absl::StatusOr<uint16_t> ParseEtherType(std::string_view entry) {
  for (const auto& [name, type] : kEtherTypes) {
    if (entry == name) return type;
  }
  const bool hex = entry.size() > 2 && entry[0] == '0' && (entry[1] == 'x' || entry[1] == 'X');
  const std::optional<uint64_t> v = hex ? ParseNumber(entry) : std::nullopt;
  if (!v) {
    std::vector<std::string> names;
    for (const auto& e : kEtherTypes) names.emplace_back(e.first);
    return absl::InvalidArgumentError(absl::StrCat("unknown ethertype ", Quote(entry), "; expected ",
                                                   absl::StrJoin(names, ", "),
                                                   " or hex like 0x88cc"));
  }
  if (*v > 0xFFFF) return absl::InvalidArgumentError(absl::StrCat(Quote(entry), " is above 0xffff"));
  if (*v < 0x0600) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(entry), " is an 802.3 length, not an ethertype (0x0600 and up)"));
  }
  if (*v == 0x0800 || *v == 0x86dd) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(entry), " is IP, which is always inspected (see non_ics)"));
  }
  if (*v == 0x8100 || *v == 0x88a8 || *v == 0x9100) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(entry), " is a VLAN tag: the gateway looks through it to the ethertype inside"));
  }
  return static_cast<uint16_t>(*v);
}

absl::StatusOr<AddressRange> ParseAddressRange(std::string_view entry) {
  const std::string_view s = Trim(entry);
  const size_t dash = s.find('-');
  const std::string_view a = Trim(s.substr(0, dash));
  const std::string_view b = dash == std::string_view::npos ? a : Trim(s.substr(dash + 1));
  const std::optional<uint64_t> first = ParseNumber(a), last = ParseNumber(b);
  if (!first || !last) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(entry), ": expected \"first-last\" or \"n\" (non-negative integers)"));
  }
  for (uint64_t v : {*first, *last}) {
    if (v > 0xFFFFFFFFull) {
      return absl::InvalidArgumentError(absl::StrCat(Quote(entry), ": ", v, " is above 4294967295"));
    }
  }
  if (*first > *last) return absl::InvalidArgumentError(absl::StrCat(Quote(entry), ": first is above last"));
  return AddressRange{static_cast<uint32_t>(*first), static_cast<uint32_t>(*last)};
}

absl::StatusOr<IpPrefix> ParsePrefix(std::string_view cidr) {
  const size_t slash = cidr.find('/');
  const std::string addr(cidr.substr(0, slash));
  IpPrefix p;
  p.v6 = addr.find(':') != std::string::npos;
  if (inet_pton(p.v6 ? AF_INET6 : AF_INET, addr.c_str(), p.bytes) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(cidr), " is not a CIDR prefix (like 198.18.0.0/25 or 2001:db8::/32)"));
  }
  const int max = p.v6 ? 128 : 32;
  if (slash == std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(Quote(cidr), " has no prefix length (a host is ",
                                                   addr, "/", max, ")"));
  }
  const std::string_view len = cidr.substr(slash + 1);
  if (!AllDigits(len) || len.size() > 3 || !absl::SimpleAtoi(std::string(len), &p.length) ||
      p.length > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(cidr), ": the prefix length must be 0-", max));
  }
  // Host bits set usually means a mistyped network; reject rather than guess.
  IpPrefix network = p;
  const int bytes = max / 8;
  for (int i = 0; i < bytes; ++i) {
    const int keep = std::clamp(p.length - i * 8, 0, 8);
    network.bytes[i] &= static_cast<uint8_t>(0xFF00 >> keep);
  }
  if (std::memcmp(network.bytes, p.bytes, bytes) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(Quote(cidr), " has host bits set (the network is ",
                                                   FormatPrefix(network), ")"));
  }
  return p;
}

std::string FormatPrefix(const IpPrefix& p) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(p.v6 ? AF_INET6 : AF_INET, p.bytes, text, sizeof(text));
  return absl::StrCat(text, "/", p.length);
}

std::vector<PolicyError> ValidatePolicy(const v1::PolicySnapshot& policy,
                                        const ValidateOptions& options) {
  return Validator(policy, options).Run();
}

absl::StatusOr<v1::PolicySnapshot> LoadAndValidateText(std::string_view yaml,
                                                       ValidateOptions options) {
  v1::PolicySnapshot policy;
  PolicyLineMap lines;
  std::vector<PolicyError> errors = LoadPolicyYamlErrors(yaml, policy, &lines);
  // Shape errors first and alone: validating a half-loaded policy would add
  // noise ("action: missing" after "action: \"allw\": expected ...").
  if (errors.empty()) {
    if (options.lines == nullptr) options.lines = &lines;
    errors = ValidatePolicy(policy, options);
  }
  if (!errors.empty()) return absl::InvalidArgumentError(FormatPolicyErrors(errors));
  return policy;
}

absl::StatusOr<v1::PolicySnapshot> LoadAndValidateFile(const std::string& path,
                                                       ValidateOptions options) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read policy file ", path));
  std::stringstream text;
  text << in.rdbuf();
  return LoadAndValidateText(text.str(), options);
}

absl::StatusOr<v1::PolicySnapshot> LoadAndValidate(std::string_view path_or_text,
                                                   ValidateOptions options) {
  if (path_or_text.find('\n') != std::string_view::npos) {
    return LoadAndValidateText(path_or_text, options);
  }
  return LoadAndValidateFile(std::string(path_or_text), options);
}

}  // namespace conduit::policy
