#include "policy/compiler.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <cstdio>
#include <map>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "classify/signatures.h"
#include "common/status_macros.h"
#include "ics/registry.h"
#include "parse/packet_meta.h"
#include "policy/policy_builder.h"
#include "policy/validate.h"

namespace conduit::policy {
namespace {

namespace v1 = conduit::v1;

// What a rule's `protocol` means for the allowlist: the op kinds its
// functions name, and the kind whose session list decides housekeeping ops.
struct ProtocolKinds {
  ics::Protocol module;
  std::vector<ics::OpKind> kinds;
  ics::OpKind session;
};

std::optional<ProtocolKinds> KindsOf(const std::string& protocol) {
  using K = ics::OpKind;
  using P = ics::Protocol;
  static const std::map<std::string, ProtocolKinds> kTable = {
      {"modbus", {P::kModbus, {K::kModbus}, K::kModbus}},
      {"dnp3", {P::kDnp3, {K::kDnp3}, K::kDnp3}},
      {"s7comm", {P::kS7comm, {K::kS7comm}, K::kS7comm}},
      {"s7comm-plus", {P::kS7comm, {K::kS7commPlus}, K::kS7comm}},
      {"enip", {P::kEnip, {K::kCip, K::kEnip}, K::kCip}},
      {"iec104", {P::kIec104, {K::kIec104}, K::kIec104}},
      {"opcua", {P::kOpcua, {K::kOpcua}, K::kOpcua}},
      {"bacnet", {P::kBacnet, {K::kBacnetConfirmed, K::kBacnetUnconfirmed}, K::kBacnetConfirmed}},
  };
  auto it = kTable.find(protocol);
  if (it == kTable.end()) return std::nullopt;
  return it->second;
}

std::optional<ics::Protocol> ProtocolNamed(const std::string& name) {
  if (name == "s7comm-plus") return ics::Protocol::kS7comm;  // same port, same module
  for (int p = 1; p < static_cast<int>(ics::Protocol::kCount); ++p) {
    if (ics::ProtocolName(static_cast<ics::Protocol>(p)) == name) return static_cast<ics::Protocol>(p);
  }
  return std::nullopt;
}

absl::Status Error(const std::string& path, const std::string& reason) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", reason));
}

Action ActionOf(v1::Action a, Action fallback) {
  switch (a) {
    case v1::ACTION_ALLOW: return Action::kAllow;
    case v1::ACTION_DENY: return Action::kDeny;
    case v1::ACTION_ALERT: return Action::kAlert;
    default: return fallback;
  }
}

std::optional<Mode> ModeOf(v1::Mode m) {
  switch (m) {
    case v1::MODE_ENFORCE: return Mode::kEnforce;
    case v1::MODE_MONITOR: return Mode::kMonitor;
    case v1::MODE_BYPASS: return Mode::kBypass;
    default: return std::nullopt;
  }
}

// `from`/`to` entries: zone names or prefixes.
absl::StatusOr<std::vector<Prefix>> Prefixes(
    const google::protobuf::RepeatedPtrField<std::string>& entries,
    const std::map<std::string, std::vector<Prefix>>& zones, const std::string& path) {
  std::vector<Prefix> out;
  for (int i = 0; i < entries.size(); ++i) {
    if (auto z = zones.find(entries[i]); z != zones.end()) {
      out.insert(out.end(), z->second.begin(), z->second.end());
      continue;
    }
    absl::StatusOr<IpPrefix> p = ParsePrefix(entries[i]);
    if (!p.ok()) return Error(absl::StrCat(path, "[", i, "]"), std::string(p.status().message()));
    out.push_back(MakePrefix(p->bytes, p->v6, p->length));
  }
  return out;
}

absl::StatusOr<RuleSpec> RuleSpecOf(const v1::Rule& r, const std::string& path,
                                    const std::map<std::string, std::vector<Prefix>>& zones) {
  RuleSpec spec;
  spec.id = r.id();
  spec.action = ActionOf(r.action(), Action::kDeny);
  spec.mode = ModeOf(r.mode());
  spec.port = static_cast<uint16_t>(r.port());
  ASSIGN_OR_RETURN(spec.from, Prefixes(r.from(), zones, path + ".from"));
  ASSIGN_OR_RETURN(spec.to, Prefixes(r.to(), zones, path + ".to"));
  if (r.protocol() == "tcp" || r.protocol() == "udp") {
    spec.l4_proto = r.protocol() == "tcp" ? kIpProtoTcp : kIpProtoUdp;
    return spec;
  }
  const std::optional<ProtocolKinds> kinds = KindsOf(r.protocol());
  if (!kinds) return Error(path + ".protocol", absl::StrCat("unknown protocol \"", r.protocol(), "\""));
  spec.kinds = kinds->kinds;
  spec.session_kind = kinds->session;
  const ics::ProtocolModule* module = ics::ModuleFor(kinds->module);
  for (int i = 0; i < r.functions().size(); ++i) {
    const std::string& f = r.functions(i);
    uint32_t number;
    if (absl::SimpleAtoi(f, &number) && number <= 0xFFFF) {
      // A number names a function of the protocol's main kind(s); for
      // EtherNet/IP that is the CIP service.
      for (ics::OpKind k : kinds->kinds) {
        spec.functions.emplace_back(k, static_cast<uint16_t>(number));
        if (k == ics::OpKind::kCip) break;
      }
      continue;
    }
    bool found = false;
    for (ics::OpKind k : kinds->kinds) {
      if (auto code = module->function_by_name(k, f)) {
        spec.functions.emplace_back(k, *code);
        found = true;
        break;
      }
    }
    if (!found) {
      return Error(absl::StrCat(path, ".functions[", i, "]"),
                   absl::StrCat("unknown ", r.protocol(), " function \"", f, "\""));
    }
  }
  spec.units.assign(r.units().begin(), r.units().end());
  for (int i = 0; i < r.addresses().size(); ++i) {
    auto range = ParseAddressRange(r.addresses(i));
    if (!range.ok()) return Error(absl::StrCat(path, ".addresses[", i, "]"), std::string(range.status().message()));
    spec.ranges.push_back(*range);
  }
  return spec;
}

}  // namespace

v1::Mode ToProtoMode(Mode mode) {
  switch (mode) {
    case Mode::kEnforce: return v1::MODE_ENFORCE;
    case Mode::kMonitor: return v1::MODE_MONITOR;
    case Mode::kBypass: return v1::MODE_BYPASS;
  }
  return v1::MODE_UNSPECIFIED;
}

std::string PolicyHash(const v1::PolicySnapshot& snapshot) {
  v1::PolicySnapshot canonical = snapshot;
  for (v1::Conduit& c : *canonical.mutable_conduits()) {
    for (v1::Rule& r : *c.mutable_rules()) r.clear_line();
  }
  for (v1::Signature& s : *canonical.mutable_signatures()) s.clear_line();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    canonical.SerializeToCodedStream(&out);
  }
  uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a, 64-bit
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001B3ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

absl::StatusOr<std::unique_ptr<const CompiledPolicy>> CompilePolicy(
    const v1::PolicySnapshot& snapshot, const CompileOptions& options) {
  const std::optional<Mode> gateway_mode = ModeOf(snapshot.mode());
  if (!gateway_mode) return Error("mode", "must be enforce, monitor or bypass");
  PolicyBuilder builder(snapshot.version(), *gateway_mode);
  builder.SetHash(PolicyHash(snapshot));
  builder.SetEpoch(options.epoch);

  for (int i = 0; i < snapshot.ports().size(); ++i) {
    const v1::PortOverride& o = snapshot.ports(i);
    const std::optional<ics::Protocol> p = ProtocolNamed(o.protocol());
    if (!p || o.tcp() > 65535 || o.udp() > 65535) return Error(absl::StrCat("ports[", i, "]"), "invalid");
    if (o.tcp() != 0) builder.ports().SetTcp(static_cast<uint16_t>(o.tcp()), *p);
    if (o.udp() != 0) builder.ports().SetUdp(static_cast<uint16_t>(o.udp()), *p);
  }

  std::map<std::string, std::vector<Prefix>> zones;
  for (int i = 0; i < snapshot.zones().size(); ++i) {
    const v1::Zone& z = snapshot.zones(i);
    std::vector<Prefix>& prefixes = zones[z.name()];
    for (int j = 0; j < z.prefixes().size(); ++j) {
      absl::StatusOr<IpPrefix> p = ParsePrefix(z.prefixes(j));
      if (!p.ok()) {
        return Error(absl::StrCat("zones.", z.name(), "[", j, "]"), std::string(p.status().message()));
      }
      prefixes.push_back(MakePrefix(p->bytes, p->v6, p->length));
    }
  }

  std::map<std::string, uint16_t> conduit_index;
  for (int ci = 0; ci < snapshot.conduits().size(); ++ci) {
    const v1::Conduit& c = snapshot.conduits(ci);
    const std::string path = absl::StrCat("conduits[", ci, "]");
    ConduitPolicy cp;
    cp.name = c.name();
    cp.wire = c.wire();
    cp.default_action = ActionOf(c.default_action(), Action::kDeny);
    cp.non_ics = ActionOf(c.non_ics(), Action::kDeny);
    cp.unparsable = ActionOf(c.unparsable(), cp.default_action);
    cp.on_deny = c.on_deny() == v1::ON_DENY_DROP ? OnDeny::kDrop : OnDeny::kReset;
    cp.mode = ModeOf(c.mode()).value_or(*gateway_mode);
    cp.reassemble_fragments = c.fragments() == v1::FRAGMENTS_REASSEMBLE;
    for (int i = 0; i < c.allow_non_ip().size(); ++i) {
      auto type = ParseEtherType(c.allow_non_ip(i));
      if (!type.ok()) return Error(absl::StrCat(path, ".allow_non_ip[", i, "]"), std::string(type.status().message()));
      cp.allow_non_ip.push_back(*type);
    }
    const uint16_t index = builder.AddConduit(std::move(cp));
    conduit_index[c.name()] = index;
    for (int ri = 0; ri < c.rules().size(); ++ri) {
      ASSIGN_OR_RETURN(RuleSpec spec, RuleSpecOf(c.rules(ri), absl::StrCat(path, ".rules[", ri, "]"), zones));
      builder.AddRule(index, spec);
    }
  }

  // Signatures: one Hyperscan database per (conduit, protocol), so a conduit
  // or protocol without signatures never scans; "tcp" and "udp" are two
  // protocols (an ICS protocol's L4 byte is 0 in the key).
  std::map<std::tuple<uint16_t, ics::Protocol, uint8_t>, std::vector<SignatureSpec>> groups;
  for (int si = 0; si < snapshot.signatures().size(); ++si) {
    const v1::Signature& s = snapshot.signatures(si);
    const std::string path = absl::StrCat("signatures[", si, "]");
    ics::Protocol protocol = ics::Protocol::kUnknown;
    const uint8_t l4_proto = s.protocol() == "tcp"   ? kIpProtoTcp
                             : s.protocol() == "udp" ? kIpProtoUdp
                                                     : 0;
    if (l4_proto == 0) {
      const std::optional<ics::Protocol> p = ProtocolNamed(s.protocol());
      if (!p) return Error(path + ".protocol", absl::StrCat("unknown protocol \"", s.protocol(), "\""));
      protocol = *p;
    }
    std::vector<uint16_t> targets;
    if (s.conduits().empty()) {
      for (const auto& [name, index] : conduit_index) targets.push_back(index);
    }
    for (int k = 0; k < s.conduits().size(); ++k) {
      auto it = conduit_index.find(s.conduits(k));
      if (it == conduit_index.end()) {
        return Error(absl::StrCat(path, ".conduits[", k, "]"), absl::StrCat("unknown conduit \"", s.conduits(k), "\""));
      }
      targets.push_back(it->second);
    }
    for (uint16_t c : targets) {
      const Mode mode = ModeOf(s.mode()).value_or(snapshot.conduits(c).mode() == v1::MODE_UNSPECIFIED
                                                      ? *gateway_mode
                                                      : *ModeOf(snapshot.conduits(c).mode()));
      const uint32_t match_id =
          builder.AddSignatureDecision(s.id(), ActionOf(s.action(), Action::kAlert), mode);
      groups[{c, protocol, l4_proto}].push_back(SignatureSpec{s.id(), s.pattern(), match_id});
    }
  }
  // One scratch per worker for all of this policy's sets (see ScratchPool).
  auto scratch = std::make_shared<ScratchPool>(options.worker_count);
  for (auto& [key, specs] : groups) {
    auto set = SignatureSet::Create(specs, scratch);
    if (!set.ok()) return set.status();
    const auto& [conduit, protocol, l4_proto] = key;
    builder.AttachSignatures(conduit, protocol, l4_proto, *std::move(set));
  }
  std::unique_ptr<CompiledPolicy> compiled = builder.Build();
  const size_t rules = compiled->rule_names().size();
  compiled->AttachHits(options.keep_hits != nullptr && options.keep_hits->rules() == rules
                           ? options.keep_hits
                           : std::make_shared<RuleHits>(options.worker_count, rules));
  return std::unique_ptr<const CompiledPolicy>(std::move(compiled));
}

}  // namespace conduit::policy
