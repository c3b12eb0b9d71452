#include "policy/policy_yaml.h"

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <string>

#include "policy/validate.h"

namespace conduit::policy {
namespace {

// DESIGN.md's example policy, verbatim.
constexpr const char* kDesignExample = R"(version: "plant-7/2026-11-23.1"      # any string; status echoes it back
mode: enforce                         # enforce | monitor | bypass: the gateway-wide default
zones:
  corporate: [198.18.0.0/25]
  plant:     [198.18.0.128/25]
conduits:
  - name: corp-plant
    wire: 0                           # which port pair
    sides: {a: corporate, b: plant}   # port A faces the corporate zone
    default: deny                     # ICS operations that no rule allows
    non_ics: deny                     # IP traffic that is not a recognized ICS protocol
    on_deny: reset                    # reset | drop
    allow_non_ip: [arp]               # ethertypes that pass uninspected
    rules:
      - id: historian-read
        protocol: modbus
        from: [198.18.0.10/32]        # initiator (client) addresses
        to: [198.18.0.200/32]         # responder (server) addresses
        port: 502                     # default: the protocol's well-known port
        functions: [read_coils, read_holding_registers, 4]   # names or numbers
        units: [1]
        addresses: ["0-999"]
        action: allow                 # allow | deny | alert (allow and report)
      - id: eng-writes
        protocol: modbus
        from: [198.18.0.30/32]
        functions: [write_single_register, write_multiple_registers]
        addresses: ["100-199"]
        action: allow
        mode: monitor                 # evaluated and reported, not enforced yet
      - id: historian-https
        protocol: tcp
        from: [198.18.0.0/25]
        to: [198.18.0.201/32]
        port: 443
        action: allow
signatures:
  - id: s7-cpu-stop
    protocol: s7comm
    pattern: '\x29\x00\x00\x00\x00\x00\x09P_PROGRAM'   # Hyperscan syntax
    action: deny
)";

constexpr const char* kDesignExpected = R"pb(
  version: "plant-7/2026-11-23.1"
  mode: MODE_ENFORCE
  zones { name: "corporate" prefixes: "198.18.0.0/25" }
  zones { name: "plant" prefixes: "198.18.0.128/25" }
  conduits {
    name: "corp-plant"
    wire: 0
    side_a: "corporate"
    side_b: "plant"
    default_action: ACTION_DENY
    non_ics: ACTION_DENY
    on_deny: ON_DENY_RESET
    allow_non_ip: "arp"
    rules {
      id: "historian-read"
      protocol: "modbus"
      from: "198.18.0.10/32"
      to: "198.18.0.200/32"
      port: 502
      functions: [ "read_coils", "read_holding_registers", "4" ]
      units: 1
      addresses: "0-999"
      action: ACTION_ALLOW
      line: 15
    }
    rules {
      id: "eng-writes"
      protocol: "modbus"
      from: "198.18.0.30/32"
      functions: [ "write_single_register", "write_multiple_registers" ]
      addresses: "100-199"
      action: ACTION_ALLOW
      mode: MODE_MONITOR
      line: 24
    }
    rules {
      id: "historian-https"
      protocol: "tcp"
      from: "198.18.0.0/25"
      to: "198.18.0.201/32"
      port: 443
      action: ACTION_ALLOW
      line: 31
    }
  }
  signatures {
    id: "s7-cpu-stop"
    protocol: "s7comm"
    pattern: "\\x29\\x00\\x00\\x00\\x00\\x00\\x09P_PROGRAM"
    action: ACTION_DENY
    line: 38
  }
)pb";

std::string ErrorOf(const std::string& yaml) {
  auto p = LoadPolicyYaml(yaml);
  return p.ok() ? "ok" : std::string(p.status().message());
}

TEST(PolicyYaml, DesignExampleLoadsIntoTheExpectedProto) {
  absl::StatusOr<v1::PolicySnapshot> got = LoadPolicyYaml(kDesignExample);
  ASSERT_TRUE(got.ok()) << got.status();
  v1::PolicySnapshot want;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kDesignExpected, &want));
  std::string diff;
  google::protobuf::util::MessageDifferencer differ;
  differ.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differ.Compare(want, *got)) << diff;
  EXPECT_TRUE(ValidatePolicy(*got, {.wire_count = 1}).empty())
      << FormatPolicyErrors(ValidatePolicy(*got, {.wire_count = 1}));
}

TEST(PolicyYaml, ExamplePoliciesLoadAndValidate) {
  for (const char* file : {"lab-policy.yaml", "lab-policy-monitor.yaml"}) {
    const std::string path = std::string(CONDUIT_SOURCE_ROOT) + "/deploy/examples/" + file;
    absl::StatusOr<v1::PolicySnapshot> p = LoadAndValidate(path, {.wire_count = 1});
    ASSERT_TRUE(p.ok()) << file << ": " << p.status();
    ASSERT_EQ(p->conduits_size(), 1);
    const v1::Rule& r = p->conduits(0).rules(0);
    EXPECT_EQ(r.functions_size(), 4) << file;
    EXPECT_EQ(p->conduits(0).default_action(), v1::ACTION_DENY);
    EXPECT_EQ(p->mode(), std::string(file).find("monitor") != std::string::npos
                             ? v1::MODE_MONITOR : v1::MODE_ENFORCE);
  }
}

TEST(PolicyYaml, FunctionNumbersAreNormalisedToDecimal) {
  auto p = LoadPolicyYaml(R"(
version: v
mode: enforce
conduits:
  - name: c
    rules:
      - {id: r, protocol: modbus, functions: [0x10, "007", read_coils, 99999999999999999999999]}
)");
  ASSERT_TRUE(p.ok()) << p.status();
  const auto& f = p->conduits(0).rules(0).functions();
  ASSERT_EQ(f.size(), 4);
  EXPECT_EQ(f[0], "16");
  EXPECT_EQ(f[1], "7");
  EXPECT_EQ(f[2], "read_coils");
  EXPECT_EQ(f[3], "99999999999999999999999");  // kept: the validator reports it
}

TEST(PolicyYaml, UnknownFieldNamesPathAndLine) {
  EXPECT_EQ(ErrorOf(R"(version: v
mode: enforce
conduits:
  - name: c
    rules:
      - id: r
        protocol: modbus
        fucntions: [1]
)"),
            "conduits[0].rules[0].fucntions: unknown field; expected one of: id, protocol, from, "
            "to, port, functions, units, addresses, action, mode, expires (line 8)");
  EXPECT_EQ(ErrorOf("version: v\nmode: enforce\nzone: {}\n"),
            "zone: unknown field; expected one of: version, mode, zones, conduits, signatures, "
            "ports (line 3)");
  EXPECT_EQ(ErrorOf("version: v\nmode: enforce\nconduits:\n  - name: c\n    sides: {a: x, c: y}\n"),
            "conduits[0].sides.c: unknown field; expected one of: a, b (line 5)");
}

TEST(PolicyYaml, BadEnumWordsAndTypes) {
  EXPECT_EQ(ErrorOf("version: v\nmode: enforcing\n"),
            "mode: \"enforcing\": expected enforce, monitor, bypass (line 2)");
  EXPECT_EQ(ErrorOf("version: v\nmode: enforce\nconduits:\n  - {name: c, on_deny: reject}\n"),
            "conduits[0].on_deny: \"reject\": expected reset, drop (line 4)");
  EXPECT_EQ(ErrorOf("version: v\nmode: enforce\nconduits:\n  - {name: c, fragments: defrag}\n"),
            "conduits[0].fragments: \"defrag\": expected drop, reassemble (line 4)");
  EXPECT_EQ(ErrorOf("version: v\nmode: enforce\nconduits:\n  - {name: c, wire: -1}\n"),
            "conduits[0].wire: \"-1\" is not a non-negative integer (line 4)");
  EXPECT_EQ(ErrorOf("version: v\nmode: enforce\nzones: [a, b]\n"),
            "zones: expected a mapping of zone name to a list of CIDR prefixes (line 3)");
  EXPECT_EQ(ErrorOf("version: v\nmode: enforce\nconduits: {name: c}\n"),
            "conduits: expected a list (line 3)");
  EXPECT_EQ(ErrorOf("- a\n- b\n"),
            "a policy must be a YAML mapping (version, mode, zones, conduits, ...) (line 1)");
  EXPECT_NE(ErrorOf("version: [unclosed\n").find("not valid YAML"), std::string::npos);
}

TEST(PolicyYaml, ShapeErrorsAreAllReported) {
  const std::string e = ErrorOf(R"(version: v
mode: enforce
colour: blue
conduits:
  - name: c
    default: dney
    rules:
      - {id: r, protocol: modbus, action: allw, units: [x]}
)");
  EXPECT_EQ(e,
            "colour: unknown field; expected one of: version, mode, zones, conduits, signatures, "
            "ports (line 3)\n"
            "conduits[0].default: \"dney\": expected allow, deny, alert (line 6)\n"
            "conduits[0].rules[0].units[0]: \"x\" is not a non-negative integer (line 8)\n"
            "conduits[0].rules[0].action: \"allw\": expected allow, deny, alert (line 8)");
}

TEST(PolicyYaml, EveryRuleAndSignatureGetsItsLine) {
  PolicyLineMap lines;
  auto p = LoadPolicyYaml(R"(version: v
mode: enforce
conduits:
  - name: c
    rules:

      - id: a
        protocol: tcp
      - {id: b, protocol: udp}
signatures:
  - id: s
    protocol: tcp
    pattern: x
)", &lines);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->conduits(0).rules(0).line(), 7);
  EXPECT_EQ(p->conduits(0).rules(1).line(), 9);
  EXPECT_EQ(p->signatures(0).line(), 11);
  EXPECT_EQ(lines["conduits[0].rules[0].protocol"], 8);
  EXPECT_EQ(lines["signatures[0].pattern"], 13);
}

TEST(PolicyYaml, MissingFileIsNotFound) {
  EXPECT_EQ(LoadPolicyFile("/nonexistent/policy.yaml").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(LoadAndValidate("/nonexistent/policy.yaml").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace conduit::policy
