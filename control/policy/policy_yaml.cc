#include "policy/policy_yaml.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace conduit::policy {
namespace {

namespace v1 = ::conduit::v1;

// A function given as a number ("4", "0x10") becomes its decimal string, so
// later stages never compare "0x10" with "16". Other text is a name.
std::string NormaliseFunction(const std::string& s) {
  uint64_t value = 0;
  bool numeric = false;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    numeric = std::all_of(s.begin() + 2, s.end(), [](unsigned char c) { return std::isxdigit(c); }) &&
              absl::SimpleHexAtoi(s.substr(2), &value);
  } else if (!s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); })) {
    numeric = absl::SimpleAtoi(s, &value);
  }
  return numeric ? absl::StrCat(value) : s;  // too large: kept, the validator says so
}

// Walks the YAML tree, recording every shape error and carrying on past it:
// the operator sees all of them at once.
class Loader {
 public:
  Loader(PolicyLineMap* lines, std::vector<PolicyError>* errors)
      : lines_(lines), errors_(errors) {}

  void Root(const YAML::Node& root, v1::PolicySnapshot& out) {
    if (!root.IsMap()) {
      Error("", "a policy must be a YAML mapping (version, mode, zones, conduits, ...)", root);
      return;
    }
    Keys(root, "", {"version", "mode", "zones", "conduits", "signatures", "ports"});
    if (const YAML::Node n = root["version"]) {
      if (auto s = String(n, "version")) out.set_version(*s);
    }
    if (const YAML::Node n = root["mode"]) {
      if (auto m = ModeOf(n, "mode")) out.set_mode(*m);
    }
    if (const YAML::Node n = root["zones"]) Zones(n, out);
    List(root["conduits"], "conduits", [&](const YAML::Node& c, const std::string& path) {
      Conduit(c, path, *out.add_conduits());
    });
    List(root["signatures"], "signatures", [&](const YAML::Node& s, const std::string& path) {
      Signature(s, path, *out.add_signatures());
    });
    List(root["ports"], "ports", [&](const YAML::Node& p, const std::string& path) {
      PortOverride(p, path, *out.add_ports());
    });
  }

 private:
  static int Line(const YAML::Node& n) {
    const YAML::Mark mark = n.Mark();
    return mark.line < 0 ? 0 : mark.line + 1;
  }

  void Error(const std::string& path, std::string reason, const YAML::Node& at) {
    errors_->push_back({path, std::move(reason), Line(at)});
  }

  void Note(const std::string& path, const YAML::Node& n) {
    if (lines_ != nullptr) (*lines_)[path] = Line(n);
  }

  static std::string Join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : absl::StrCat(path, ".", std::string(key));
  }

  // False when `map` is not a mapping. Unknown keys are reported (a typo must
  // not silently do nothing) and the known ones are still read.
  bool Keys(const YAML::Node& map, const std::string& path,
            std::initializer_list<absl::string_view> known) {
    Note(path, map);
    if (!map.IsMap()) {
      Error(path, "expected a mapping", map);
      return false;
    }
    for (const auto& kv : map) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
      const std::string key_path = Join(path, key);
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        Error(key_path, absl::StrCat("unknown field; expected one of: ", absl::StrJoin(known, ", ")),
              kv.first);
      } else {
        Note(key_path, kv.second);
      }
    }
    return true;
  }

  std::optional<std::string> String(const YAML::Node& n, const std::string& path) {
    Note(path, n);
    if (!n.IsScalar()) {
      Error(path, "expected a string", n);
      return std::nullopt;
    }
    return n.Scalar();
  }

  std::optional<uint32_t> Uint(const YAML::Node& n, const std::string& path) {
    Note(path, n);
    uint32_t value;
    if (!n.IsScalar() || !absl::SimpleAtoi(n.Scalar(), &value)) {
      Error(path, n.IsScalar() ? absl::StrCat("\"", n.Scalar(), "\" is not a non-negative integer")
                               : "expected a non-negative integer", n);
      return std::nullopt;
    }
    return value;
  }

  // A sequence (absent or null: empty). `each(item, "path[i]")`.
  template <typename F>
  void List(const YAML::Node& n, const std::string& path, F each) {
    if (!n || n.IsNull()) return;
    Note(path, n);
    if (!n.IsSequence()) {
      Error(path, "expected a list", n);
      return;
    }
    for (size_t i = 0; i < n.size(); ++i) each(n[i], absl::StrCat(path, "[", i, "]"));
  }

  void Strings(const YAML::Node& n, const std::string& path,
               google::protobuf::RepeatedPtrField<std::string>* out) {
    List(n, path, [&](const YAML::Node& item, const std::string& item_path) {
      if (auto s = String(item, item_path)) out->Add(std::move(*s));
    });
  }

  // Maps an enum word; `words` are {word, value} pairs in the order shown.
  template <typename E>
  std::optional<E> Word(const YAML::Node& n, const std::string& path,
                        std::initializer_list<std::pair<absl::string_view, E>> words) {
    auto s = String(n, path);
    if (!s) return std::nullopt;
    for (const auto& [word, value] : words) {
      if (*s == word) return value;
    }
    std::vector<absl::string_view> names;
    for (const auto& w : words) names.push_back(w.first);
    Error(path, absl::StrCat("\"", *s, "\": expected ", absl::StrJoin(names, ", ")), n);
    return std::nullopt;
  }

  std::optional<v1::Mode> ModeOf(const YAML::Node& n, const std::string& path) {
    return Word<v1::Mode>(n, path, {{"enforce", v1::MODE_ENFORCE},
                                    {"monitor", v1::MODE_MONITOR},
                                    {"bypass", v1::MODE_BYPASS}});
  }

  std::optional<v1::Action> ActionOf(const YAML::Node& n, const std::string& path) {
    return Word<v1::Action>(n, path, {{"allow", v1::ACTION_ALLOW},
                                      {"deny", v1::ACTION_DENY},
                                      {"alert", v1::ACTION_ALERT}});
  }

  // zones: {name: [cidr, ...]}: a mapping in the file, a list in the proto.
  void Zones(const YAML::Node& n, v1::PolicySnapshot& out) {
    if (n.IsNull()) return;
    Note("zones", n);
    if (!n.IsMap()) {
      Error("zones", "expected a mapping of zone name to a list of CIDR prefixes", n);
      return;
    }
    for (const auto& kv : n) {
      v1::Zone* zone = out.add_zones();
      const std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "";
      const std::string path = absl::StrCat("zones.", name);
      if (!kv.first.IsScalar()) Error("zones", "a zone name must be a string", kv.first);
      zone->set_name(name);
      Strings(kv.second, path, zone->mutable_prefixes());
      if (kv.second.IsNull()) Note(path, kv.first);
    }
  }

  void Conduit(const YAML::Node& n, const std::string& path, v1::Conduit& c) {
    if (!Keys(n, path, {"name", "wire", "sides", "default", "non_ics", "on_deny", "allow_non_ip",
                        "rules", "mode", "unparsable", "fragments"})) {
      return;
    }
    if (n["name"]) {
      if (auto s = String(n["name"], path + ".name")) c.set_name(*s);
    }
    if (n["wire"]) {
      if (auto w = Uint(n["wire"], path + ".wire")) c.set_wire(*w);
    }
    if (const YAML::Node sides = n["sides"]) {
      const std::string sides_path = path + ".sides";
      if (Keys(sides, sides_path, {"a", "b"})) {
        if (sides["a"]) {
          if (auto s = String(sides["a"], sides_path + ".a")) c.set_side_a(*s);
        }
        if (sides["b"]) {
          if (auto s = String(sides["b"], sides_path + ".b")) c.set_side_b(*s);
        }
      }
    }
    if (n["default"]) {
      if (auto a = ActionOf(n["default"], path + ".default")) c.set_default_action(*a);
    }
    if (n["non_ics"]) {
      if (auto a = ActionOf(n["non_ics"], path + ".non_ics")) c.set_non_ics(*a);
    }
    if (n["unparsable"]) {
      if (auto a = ActionOf(n["unparsable"], path + ".unparsable")) c.set_unparsable(*a);
    }
    if (n["on_deny"]) {
      if (auto d = Word<v1::OnDeny>(n["on_deny"], path + ".on_deny",
                                    {{"reset", v1::ON_DENY_RESET}, {"drop", v1::ON_DENY_DROP}})) {
        c.set_on_deny(*d);
      }
    }
    if (n["fragments"]) {
      if (auto f = Word<v1::Fragments>(n["fragments"], path + ".fragments",
                                       {{"drop", v1::FRAGMENTS_DROP},
                                        {"reassemble", v1::FRAGMENTS_REASSEMBLE}})) {
        c.set_fragments(*f);
      }
    }
    if (n["mode"]) {
      if (auto m = ModeOf(n["mode"], path + ".mode")) c.set_mode(*m);
    }
    Strings(n["allow_non_ip"], path + ".allow_non_ip", c.mutable_allow_non_ip());
    List(n["rules"], path + ".rules", [&](const YAML::Node& r, const std::string& rule_path) {
      Rule(r, rule_path, *c.add_rules());
    });
  }

  void Rule(const YAML::Node& n, const std::string& path, v1::Rule& r) {
    r.set_line(Line(n));
    if (!Keys(n, path, {"id", "protocol", "from", "to", "port", "functions", "units", "addresses",
                        "action", "mode", "expires"})) {
      return;
    }
    if (n["id"]) {
      if (auto s = String(n["id"], path + ".id")) r.set_id(*s);
    }
    if (n["protocol"]) {
      if (auto s = String(n["protocol"], path + ".protocol")) r.set_protocol(*s);
    }
    Strings(n["from"], path + ".from", r.mutable_from());
    Strings(n["to"], path + ".to", r.mutable_to());
    if (n["port"]) {
      if (auto p = Uint(n["port"], path + ".port")) r.set_port(*p);
    }
    List(n["functions"], path + ".functions", [&](const YAML::Node& f, const std::string& fp) {
      if (auto s = String(f, fp)) r.add_functions(NormaliseFunction(*s));
    });
    List(n["units"], path + ".units", [&](const YAML::Node& u, const std::string& up) {
      if (auto v = Uint(u, up)) r.add_units(*v);
    });
    Strings(n["addresses"], path + ".addresses", r.mutable_addresses());
    if (n["action"]) {
      if (auto a = ActionOf(n["action"], path + ".action")) r.set_action(*a);
    }
    if (n["mode"]) {
      if (auto m = ModeOf(n["mode"], path + ".mode")) r.set_mode(*m);
    }
    // Kept as written: the validator says what is wrong with a bad time,
    // with this field's path and line.
    if (n["expires"]) {
      if (auto s = String(n["expires"], path + ".expires")) r.set_expires(*s);
    }
  }

  void Signature(const YAML::Node& n, const std::string& path, v1::Signature& s) {
    s.set_line(Line(n));
    if (!Keys(n, path, {"id", "protocol", "pattern", "action", "conduits", "mode"})) return;
    if (n["id"]) {
      if (auto v = String(n["id"], path + ".id")) s.set_id(*v);
    }
    if (n["protocol"]) {
      if (auto v = String(n["protocol"], path + ".protocol")) s.set_protocol(*v);
    }
    if (n["pattern"]) {
      if (auto v = String(n["pattern"], path + ".pattern")) s.set_pattern(*v);
    }
    if (n["action"]) {
      if (auto a = ActionOf(n["action"], path + ".action")) s.set_action(*a);
    }
    Strings(n["conduits"], path + ".conduits", s.mutable_conduits());
    if (n["mode"]) {
      if (auto m = ModeOf(n["mode"], path + ".mode")) s.set_mode(*m);
    }
  }

  void PortOverride(const YAML::Node& n, const std::string& path, v1::PortOverride& p) {
    if (!Keys(n, path, {"protocol", "tcp", "udp"})) return;
    if (n["protocol"]) {
      if (auto v = String(n["protocol"], path + ".protocol")) p.set_protocol(*v);
    }
    if (n["tcp"]) {
      if (auto v = Uint(n["tcp"], path + ".tcp")) p.set_tcp(*v);
    }
    if (n["udp"]) {
      if (auto v = Uint(n["udp"], path + ".udp")) p.set_udp(*v);
    }
  }

  PolicyLineMap* lines_;
  std::vector<PolicyError>* errors_;
};

}  // namespace

std::string FormatPolicyErrors(const std::vector<PolicyError>& errors) {
  std::string out;
  for (const PolicyError& e : errors) {
    if (!out.empty()) out += '\n';
    absl::StrAppend(&out, e.path, e.path.empty() ? "" : ": ", e.reason);
    if (e.line > 0) absl::StrAppend(&out, " (line ", e.line, ")");
  }
  return out;
}

std::vector<PolicyError> LoadPolicyYamlErrors(std::string_view yaml, v1::PolicySnapshot& out,
                                              PolicyLineMap* lines) {
  std::vector<PolicyError> errors;
  out.Clear();
  if (lines != nullptr) lines->clear();
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::ParserException& e) {
    errors.push_back({"", absl::StrCat("not valid YAML: ", e.msg),
                      e.mark.line < 0 ? 0 : e.mark.line + 1});
    return errors;
  } catch (const YAML::Exception& e) {
    errors.push_back({"", absl::StrCat("not valid YAML: ", e.what()), 0});
    return errors;
  }
  try {
    Loader(lines, &errors).Root(root, out);
  } catch (const YAML::Exception& e) {  // yaml-cpp throws on odd trees; never crash on input
    errors.push_back({"", absl::StrCat("policy: ", e.what()), 0});
  }
  return errors;
}

absl::StatusOr<v1::PolicySnapshot> LoadPolicyYaml(std::string_view yaml, PolicyLineMap* lines) {
  v1::PolicySnapshot policy;
  const std::vector<PolicyError> errors = LoadPolicyYamlErrors(yaml, policy, lines);
  if (!errors.empty()) return absl::InvalidArgumentError(FormatPolicyErrors(errors));
  return policy;
}

absl::StatusOr<v1::PolicySnapshot> LoadPolicyFile(const std::string& path, PolicyLineMap* lines) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read policy file ", path));
  std::stringstream text;
  text << in.rdbuf();
  return LoadPolicyYaml(text.str(), lines);
}

}  // namespace conduit::policy
