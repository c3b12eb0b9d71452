#include "policy/validate.h"

#include <gtest/gtest.h>

#include <string>

namespace conduit::policy {
namespace {

// A clean policy; each test breaks one thing in it (line numbers matter).
constexpr const char* kGood = R"(version: "t-1"
mode: enforce
zones:
  corporate: [198.18.0.0/25]
  plant: [198.18.0.128/25, "2001:db8::/32"]
conduits:
  - name: corp-plant
    wire: 0
    sides: {a: corporate, b: plant}
    default: deny
    non_ics: deny
    on_deny: reset
    allow_non_ip: [arp, lldp, "0x88b8"]
    rules:
      - id: historian-read
        protocol: modbus
        from: [corporate]
        to: [198.18.0.200/32]
        functions: [read_coils, read_holding_registers, 4]
        units: [1]
        addresses: ["0-999", "5"]
        action: allow
      - id: cip-read
        protocol: enip
        functions: [get_attribute_single, list_identity, 0x4c]
        action: alert
      - id: https
        protocol: tcp
        port: 443
        action: allow
signatures:
  - id: s7-cpu-stop
    protocol: s7comm
    pattern: 'P_PROGRAM'
    action: deny
    conduits: [corp-plant]
ports:
  - {protocol: dnp3, tcp: 20001}
)";

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? s : s.replace(at, from.size(), to);
}

std::string ErrorOf(const std::string& yaml, int wire_count = 1) {
  auto p = LoadAndValidateText(yaml, {.wire_count = wire_count});
  return p.ok() ? "ok" : std::string(p.status().message());
}

TEST(Validate, GoodPolicyPasses) { EXPECT_EQ(ErrorOf(kGood), "ok"); }

TEST(Validate, BadCidr) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "198.18.0.0/25", "198.18.0.1/24")),
            "zones.corporate[0]: \"198.18.0.1/24\" has host bits set (the network is "
            "198.18.0.0/24) (line 4)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "198.18.0.0/25", "198.18.0/25")),
            "zones.corporate[0]: \"198.18.0/25\" is not a CIDR prefix (like 198.18.0.0/25 or "
            "2001:db8::/32) (line 4)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "198.18.0.0/25", "198.18.0.0/33")),
            "zones.corporate[0]: \"198.18.0.0/33\": the prefix length must be 0-32 (line 4)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "to: [198.18.0.200/32]", "to: [198.18.0.200]")),
            "conduits[0].rules[0].to[0]: \"198.18.0.200\" has no prefix length (a host is "
            "198.18.0.200/32) (line 18)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "from: [corporate]", "from: [corprate]")),
            "conduits[0].rules[0].from[0]: unknown zone \"corprate\" (and not a CIDR prefix) "
            "(line 17)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "2001:db8::/32", "2001:db8::1/32")),
            "zones.plant[1]: \"2001:db8::1/32\" has host bits set (the network is 2001:db8::/32) "
            "(line 5)");
}

TEST(Validate, PrefixInTwoZones) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "[198.18.0.128/25,", "[198.18.0.0/25,")),
            "zones.plant[0]: 198.18.0.0/25 is also in zones.corporate[0]: a prefix belongs to "
            "one zone (line 5)");
}

TEST(Validate, BadAddressRange) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "\"0-999\"", "\"9-1\"")),
            "conduits[0].rules[0].addresses[0]: \"9-1\": first is above last (line 21)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "\"0-999\"", "\"0-70000\"")),
            "conduits[0].rules[0].addresses[0]: \"0-70000\": 70000 is above 65535, the highest "
            "modbus address (line 21)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "\"0-999\"", "\"low-high\"")),
            "conduits[0].rules[0].addresses[0]: \"low-high\": expected \"first-last\" or \"n\" "
            "(non-negative integers) (line 21)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "action: alert", "addresses: [\"1\"]\n        action: alert")),
            "conduits[0].rules[1].addresses: enip has no addresses to match (line 26)");
}

TEST(Validate, UnknownFunctionForTheProtocol) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "[read_coils, read_holding_registers, 4]",
                            "[read_coils, wrte_coil]")),
            "conduits[0].rules[0].functions[1]: unknown modbus function \"wrte_coil\" (line 19)");
  // A CIP service name is fine for enip, not for modbus.
  EXPECT_EQ(ErrorOf(Replace(kGood, "[read_coils, read_holding_registers, 4]",
                            "[get_attribute_single]")),
            "conduits[0].rules[0].functions[0]: unknown modbus function "
            "\"get_attribute_single\" (line 19)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "port: 443", "port: 443\n        functions: [1]")),
            "conduits[0].rules[2].functions: tcp rules match no functions: functions are for ICS "
            "protocols (line 30)");
}

TEST(Validate, NumbersOutOfRange) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "read_holding_registers, 4]", "read_holding_registers, 300]")),
            "conduits[0].rules[0].functions[2]: function 300 is out of range for modbus (0-255) "
            "(line 19)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "0x4c]", "70000]")),
            "conduits[0].rules[1].functions[2]: function 70000 is out of range for enip "
            "(0-65535) (line 25)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "units: [1]", "units: [1, 256]")),
            "conduits[0].rules[0].units[1]: unit 256 is out of range for modbus (0-255) (line 20)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "port: 443", "port: 65536")),
            "conduits[0].rules[2].port: 65536 is out of range (1-65535; 0 or absent: the "
            "protocol's well-known port) (line 29)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "tcp: 20001", "tcp: 70000")),
            "ports[0].tcp: 70000 is out of range (1-65535) (line 38)");
}

TEST(Validate, DuplicateIdNamesBoth) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "id: cip-read", "id: historian-read")),
            "conduits[0].rules[1].id: duplicate id \"historian-read\" (also "
            "conduits[0].rules[0].id, line 15) (line 23)");
  // Signatures share the namespace: events name either.
  EXPECT_EQ(ErrorOf(Replace(kGood, "id: s7-cpu-stop", "id: https")),
            "signatures[0].id: duplicate id \"https\" (also conduits[0].rules[2].id, line 27) "
            "(line 32)");
}

TEST(Validate, UnknownZoneInSides) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "b: plant}", "b: plnat}")),
            "conduits[0].sides.b: unknown zone \"plnat\" (line 9)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "sides: {a: corporate, b: plant}", "sides: {a: corporate}")),
            "conduits[0].sides.b: missing (the zone this port faces) (line 9)");
}

TEST(Validate, WireOutOfRange) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "wire: 0", "wire: 2"), 2),
            "conduits[0].wire: wire 2 does not exist: the daemon has 2 wires (0-1) (line 8)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "wire: 0", "wire: 7"), -1), "ok");  // unknown: not checked
}

TEST(Validate, SignatureWithUnknownConduit) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "conduits: [corp-plant]", "conduits: [corp-plnt]")),
            "signatures[0].conduits[0]: unknown conduit \"corp-plnt\" (line 36)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "action: deny\n    conduits", "action: allow\n    conduits")),
            "signatures[0].action: a signature may deny or alert, not allow (line 35)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "pattern: 'P_PROGRAM'", "pattern: ''")),
            "signatures[0].pattern: missing or empty (Hyperscan syntax) (line 34)");
}

TEST(Validate, SignaturePatternMustCompile) {
  // Hyperscan's own message, at the pattern's path: a push that validates
  // cannot fail later in the compiler on its patterns.
  EXPECT_EQ(ErrorOf(Replace(kGood, "pattern: 'P_PROGRAM'", "pattern: '(a)\\1'")),
            "signatures[0].pattern: Back-references are unsupported. (line 34)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "pattern: 'P_PROGRAM'", "pattern: 'a*'")),
            "signatures[0].pattern: Pattern matches empty buffer; use HS_FLAG_ALLOWEMPTY to enable "
            "support. (line 34)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "pattern: 'P_PROGRAM'", "pattern: '\\x29\\x00P_[A-Z]+'")),
            "ok");
}

TEST(Validate, NonIpEtherTypes) {
  EXPECT_EQ(ErrorOf(Replace(kGood, "[arp, lldp,", "[arp, ipx,")),
            "conduits[0].allow_non_ip[1]: unknown ethertype \"ipx\"; expected arp, rarp, lldp, "
            "profinet, goose, sv, ptp, mrp or hex like 0x88cc (line 13)");
  EXPECT_EQ(ErrorOf(Replace(kGood, "\"0x88b8\"", "\"0x0800\"")),
            "conduits[0].allow_non_ip[2]: \"0x0800\" is IP, which is always inspected (see "
            "non_ics) (line 13)");
  EXPECT_EQ(*ParseEtherType("0x88CC"), 0x88cc);
  EXPECT_EQ(*ParseEtherType("lldp"), 0x88cc);
}

TEST(Validate, SeveralErrorsReportedTogether) {
  std::string bad = Replace(kGood, "mode: enforce\n", "");
  bad = Replace(bad, "b: plant}", "b: plnat}");
  bad = Replace(bad, "\"0-999\"", "\"9-1\"");
  bad = Replace(bad, "[read_coils,", "[wrte_coil,");
  bad = Replace(bad, "id: cip-read", "id: historian-read");
  bad = Replace(bad, "conduits: [corp-plant]", "conduits: [nope]");
  EXPECT_EQ(ErrorOf(bad, 1),
            "mode: missing: the gateway-wide mode is enforce, monitor or bypass\n"
            "conduits[0].sides.b: unknown zone \"plnat\" (line 8)\n"
            "conduits[0].rules[0].functions[0]: unknown modbus function \"wrte_coil\" (line 18)\n"
            "conduits[0].rules[0].addresses[0]: \"9-1\": first is above last (line 20)\n"
            "conduits[0].rules[1].id: duplicate id \"historian-read\" (also "
            "conduits[0].rules[0].id, line 14) (line 22)\n"
            "signatures[0].conduits[0]: unknown conduit \"nope\" (line 35)");
}

TEST(Validate, ProtoWithoutLineMapUsesRuleLines) {
  auto p = LoadPolicyYaml(Replace(kGood, "[read_coils,", "[wrte_coil,"));
  ASSERT_TRUE(p.ok()) << p.status();
  const std::vector<PolicyError> errors = ValidatePolicy(*p, {});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "conduits[0].rules[0].functions[0]");
  EXPECT_EQ(errors[0].reason, "unknown modbus function \"wrte_coil\"");
  EXPECT_EQ(errors[0].line, 15);  // the rule's own line
}

TEST(Validate, StructuralChecksOnAProto) {
  v1::PolicySnapshot p;  // as a gRPC push might send it: no lines at all
  p.add_zones()->set_name("z");
  v1::Conduit* c = p.add_conduits();
  c->set_name("c");
  c->set_side_a("z");
  c->set_side_b("z");
  v1::Rule* r = c->add_rules();
  r->set_id("default");
  r->set_protocol("modbsu");
  EXPECT_EQ(FormatPolicyErrors(ValidatePolicy(p, {})),
            "version: missing (any string; status echoes it)\n"
            "mode: missing: the gateway-wide mode is enforce, monitor or bypass\n"
            "zones.z: no prefixes: a zone is a list of CIDR prefixes\n"
            "conduits[0].sides.b: the same zone as sides.a (\"z\")\n"
            "conduits[0].default: missing: allow, deny or alert\n"
            "conduits[0].non_ics: missing: allow, deny or alert\n"
            "conduits[0].rules[0].id: \"default\" is reserved: events name the conduit's default "
            "verdict so\n"
            "conduits[0].rules[0].protocol: unknown protocol \"modbsu\"; expected one of: modbus, "
            "dnp3, s7comm, s7comm-plus, enip, iec104, opcua, bacnet, tcp, udp\n"
            "conduits[0].rules[0].action: missing: allow, deny or alert");
}

TEST(Validate, ParseHelpers) {
  EXPECT_EQ(ParseAddressRange("5")->first, 5u);
  EXPECT_EQ(ParseAddressRange("0x10-0x1f")->last, 31u);
  EXPECT_FALSE(ParseAddressRange("0-4294967296").ok());
  EXPECT_EQ(FormatPrefix(*ParsePrefix("0.0.0.0/0")), "0.0.0.0/0");
  EXPECT_FALSE(ParsePrefix("198.18.0.0/").ok());
}

}  // namespace
}  // namespace conduit::policy
