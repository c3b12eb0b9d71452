// conduitctl: the console CLI for one gateway (--target HOST:PORT) or many
// (--targets FILE, pushed to in parallel, one result line per gateway).
//
//   conduitctl push POLICY.yaml      validate locally, push, print each result
//   conduitctl push POLICY.yaml --confirm-within 180s   ... and the gateway reverts it
//                                    by itself unless confirmed in time (also 3m, 2h, 180)
//   conduitctl confirm               keep the policy pushed with --confirm-within
//   conduitctl status                policy version and hash, mode, bypass, counters
//   conduitctl mode enforce|monitor|bypass|clear [--conduit NAME]
//   conduitctl counters              the packet counters (--json: DESIGN.md's shape)
//   conduitctl events [--follow] [--seconds N] [--count N]
//   conduitctl get-policy            the active policy snapshot (JSON)
//   conduitctl simulate --policy FILE --pcap FILE [--jsonl] [--decode-as tcp:PORT=PROTO]
//                       [--verify-checksums]
//   conduitctl propose --pcap FILE [--policy BASE.yaml] [--wire N] [--decode-as tcp:PORT=PROTO]
//                       a policy that admits what the capture did (control/baseline)
//   conduitctl propose [--conduit NAME] [--since 30d] [--policy BASE.yaml]
//                       the same, from a gateway's baseline
//   conduitctl baseline [--conduit NAME] [--since 30d] [--json]   the communication map
//   conduitctl baseline accept [--conduit NAME]   new tuples become new_behaviour events
//   conduitctl rules [--json]        each rule of the active policy with its hits
//   conduitctl push --shadow FILE    a candidate judged beside the active policy
//   conduitctl shadow [--json] | shadow --clear | promote
//   conduitctl audit [--json] [--since SEQ] [--count N]   the audit trail
//   conduitctl audit verify --file F [--head HASH]   check a copy of audit.jsonl
//   conduitctl push POLICY.yaml --targets FILE --canary N --soak 10m --max-would-block K
//                       [--confirm-within D]   staged: canaries in shadow first (fleet_commands.h)
//   conduitctl grant --conduit C --from CIDR [--to CIDR] --protocol P --functions F[,F]
//                    [--units U[,U]] [--addresses LO-HI] --for 2h --reason TEXT
//                       a time-limited exception (grant_commands.h); grants [--json]; revoke ID
//
// Common: --target HOST:PORT (default 127.0.0.1:50051), --targets FILE,
// --json, --ca FILE, --cert FILE, --key FILE (TLS / mutual TLS), --timeout S.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "baseline/propose.h"
#include "baseline/tuple_collector.h"
#include "conduitctl/audit_commands.h"
#include "conduitctl/baseline_commands.h"
#include "conduitctl/commands.h"
#include "conduitctl/fleet_commands.h"
#include "conduitctl/grant_commands.h"
#include "conduitctl/rules_commands.h"
#include "conduitctl/shadow_commands.h"
#include "ics/registry.h"
#include "policy/validate.h"
#include "simulate/simulate.h"

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: conduitctl COMMAND [options]\n"
               "  push POLICY.yaml                 validate and push a policy\n"
               "  push POLICY.yaml --confirm-within 180s\n"
               "                                   reverted by the gateway unless confirmed in time\n"
               "  confirm                          keep the policy pushed with --confirm-within\n"
               "  status                           what each gateway runs and sees\n"
               "  mode enforce|monitor|bypass|clear [--conduit NAME]\n"
               "  counters                         packet counters\n"
               "  events [--follow] [--seconds N] [--count N]\n"
               "  get-policy                       the active policy (JSON)\n"
               "  simulate [--policy FILE] --pcap FILE [--jsonl] [--decode-as tcp:PORT=PROTOCOL]\n"
               "           [--verify-checksums]\n"
               "  propose --pcap FILE [--policy BASE.yaml] [--wire N] [--decode-as tcp:PORT=PROTOCOL]\n"
               "                                   a policy admitting what the capture did\n"
               "  propose [--conduit NAME] [--since 30d] [--policy BASE.yaml]\n"
               "                                   the same from the gateway's baseline\n"
               "  baseline [--conduit NAME] [--since 30d] [--json]   the communication map observed\n"
               "  baseline accept [--conduit NAME] from now on a new tuple is a new_behaviour event\n"
               "  rules                            the active policy's rules with their hits\n"
               "  push --shadow POLICY.yaml        judge a candidate beside the active policy, not enforced\n"
               "  shadow [--json] | shadow --clear what the candidate would change | drop it\n"
               "  promote [--confirm-within 180s]  make the candidate the active policy\n"
               "  push POLICY.yaml --targets FILE --canary N --soak 10m [--max-would-block K]\n"
               "       [--confirm-within 180s]     staged rollout: N canaries in shadow first, the rest\n"
               "                                   only if none would block more than K\n"
               "  audit [--json] [--since SEQ] [--count N]   who did what (the audit trail)\n"
               "  audit verify --file audit.jsonl [--head HASH]\n"
               "                                   check the hash chain, name the first bad record\n"
               "  grant --conduit C --from CIDR[,CIDR] [--to CIDR] --protocol P --functions F[,F]\n"
               "        [--units U[,U]] [--addresses LO-HI] --for 2h --reason TEXT\n"
               "                                   allow exactly that until it expires (at most 7d)\n"
               "  grants [--json] | revoke ID      the grants in force | end one now\n"
               "options: --target HOST:PORT | --targets FILE, --json, --ca F --cert F --key F, --timeout S\n");
  return 2;
}

int Simulate(int argc, char** argv) {
  conduit::SimulateOptions options;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--pcap" && i + 1 < argc) {
      options.pcap = argv[++i];
    } else if (arg == "--policy" && i + 1 < argc) {
      options.policy_file = argv[++i];
    } else if (arg == "--jsonl") {
      options.jsonl = true;
    } else if (arg == "--verify-checksums") {
      options.verify_checksums = true;
    } else if (arg == "--decode-as" && i + 1 < argc) {
      options.decode_as.push_back(argv[++i]);
    } else {
      return Usage();
    }
  }
  if (options.pcap.empty()) return Usage();
  // JSON lines stay machine-readable on stdout; the summary goes to stderr.
  const absl::Status s = conduit::RunSimulate(options, std::cout, options.jsonl ? std::cerr : std::cout);
  if (!s.ok()) {
    std::fprintf(stderr, "conduitctl: %s\n", std::string(s.message()).c_str());
    return s.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  return 0;
}

// conduitctl propose --pcap: the capture's tuples through the proposal
// engine; the policy on stdout. The live form (a gateway's baseline store)
// is not there yet.
int Propose(int argc, char** argv) {
  std::string pcap, base_file;
  uint32_t wire = 0;
  std::vector<std::string> decode_as;
  std::string conduit;
  uint64_t since = 0;
  conduit::ctl::ClientOptions client;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--pcap" && i + 1 < argc) {
      pcap = argv[++i];
    } else if (arg == "--policy" && i + 1 < argc) {
      base_file = argv[++i];
    } else if (arg == "--wire" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &wire) && wire < 256) {
      ++i;
    } else if (arg == "--decode-as" && i + 1 < argc) {
      decode_as.push_back(argv[++i]);
    } else if (arg == "--conduit" && i + 1 < argc) {
      conduit = argv[++i];
    } else if (arg == "--since" && i + 1 < argc) {
      if (!conduit::ctl::ParseSince(argv[++i], &since)) return Usage();
    } else if (arg == "--target" && i + 1 < argc) {
      client.targets.push_back(argv[++i]);
    } else if (arg == "--ca" && i + 1 < argc) {
      client.ca = argv[++i];
    } else if (arg == "--cert" && i + 1 < argc) {
      client.cert = argv[++i];
    } else if (arg == "--key" && i + 1 < argc) {
      client.key = argv[++i];
    } else if (arg == "--timeout" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &client.timeout_seconds)) {
      ++i;
    } else {
      return Usage();
    }
  }
  const bool live = pcap.empty();
  if (!live && (!conduit.empty() || since != 0 || !client.targets.empty())) {
    std::fprintf(stderr, "conduitctl: propose takes --pcap FILE or a gateway (--target, --conduit, --since), not both\n");
    return 2;
  }
  conduit::baseline::ProposeOptions options;
  options.wire = wire;
  const size_t slash = pcap.rfind('/');
  options.source = "capture " + (slash == std::string::npos ? pcap : pcap.substr(slash + 1));
  conduit::baseline::CollectOptions collect;
  collect.pcap = pcap;
  collect.wire = wire;
  if (!base_file.empty()) {
    std::ifstream in(base_file);
    if (!in) {
      std::fprintf(stderr, "conduitctl: %s: cannot read\n", base_file.c_str());
      return 2;
    }
    std::stringstream text;
    text << in.rdbuf();
    options.base_policy = text.str();
    // The base's ports decide what is decoded as which protocol.
    auto snapshot = conduit::policy::LoadAndValidateText(options.base_policy);
    if (!snapshot.ok()) {
      std::fprintf(stderr, "conduitctl: %s: %s\n", base_file.c_str(), std::string(snapshot.status().message()).c_str());
      return 2;
    }
    for (const auto& o : snapshot->ports()) {
      for (const conduit::ics::ProtocolModule& m : conduit::ics::AllModules()) {
        if (m.decode == nullptr || conduit::ics::ProtocolName(m.protocol) != o.protocol()) continue;
        if (o.tcp() != 0) collect.ports.SetTcp(static_cast<uint16_t>(o.tcp()), m.protocol);
        if (o.udp() != 0) collect.ports.SetUdp(static_cast<uint16_t>(o.udp()), m.protocol);
      }
    }
  }
  if (live) {
    if (client.targets.empty()) client.targets.push_back("127.0.0.1:50051");
    return conduit::ctl::ProposeFromGateway(client, conduit, since, options.base_policy);
  }
  for (const std::string& spec : decode_as) {
    if (absl::Status s = conduit::AddDecodeAs(spec, collect.ports); !s.ok()) {
      std::fprintf(stderr, "conduitctl: %s\n", std::string(s.message()).c_str());
      return 2;
    }
  }
  auto observation = conduit::baseline::CollectPcap(collect);
  if (!observation.ok()) {
    std::fprintf(stderr, "conduitctl: %s\n", std::string(observation.status().message()).c_str());
    return 1;
  }
  auto text = conduit::baseline::ProposePolicy(*observation, options);
  if (!text.ok()) {
    std::fprintf(stderr, "conduitctl: %s\n", std::string(text.status().message()).c_str());
    return text.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::cout << *text;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string command = argv[1];
  if (command == "simulate") return Simulate(argc, argv);
  if (command == "propose") return Propose(argc, argv);
  if (command == "grant" || command == "grants" || command == "revoke") {
    return conduit::ctl::GrantMain(argc, argv);
  }

  conduit::ctl::ClientOptions options;
  std::string targets_file, conduit_name, since, confirm_within, shadow_file, file, head;
  bool clear = false;
  conduit::ctl::RolloutOptions rollout;  // push --canary N --soak D --max-would-block K
  std::vector<std::string> positional;
  bool json = false, follow = false;
  int seconds = 2, count = 0;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "--target" && value(v)) options.targets.push_back(v);
    else if (arg == "--targets" && value(targets_file)) {}
    else if (arg == "--json") json = true;
    else if (arg == "--follow") follow = true;
    else if (arg == "--conduit" && value(conduit_name)) {}
    else if (arg == "--since" && value(since)) {}
    else if (arg == "--confirm-within" && value(confirm_within)) {}
    else if (arg == "--shadow" && value(shadow_file)) {}
    else if (arg == "--clear") clear = true;
    else if (arg == "--file" && value(file)) {}
    else if (arg == "--head" && value(head)) {}
    else if (arg == "--canary" && value(rollout.canary)) {}
    else if (arg == "--soak" && value(rollout.soak)) {}
    else if (arg == "--max-would-block" && value(rollout.max_would_block)) {}
    else if (arg == "--ca" && value(options.ca)) {}
    else if (arg == "--cert" && value(options.cert)) {}
    else if (arg == "--key" && value(options.key)) {}
    else if (arg == "--seconds" && value(v) && absl::SimpleAtoi(v, &seconds)) {}
    else if (arg == "--count" && value(v) && absl::SimpleAtoi(v, &count)) {}
    else if (arg == "--timeout" && value(v) && absl::SimpleAtoi(v, &options.timeout_seconds)) {}
    else if (!arg.starts_with("--")) positional.push_back(arg);
    else return Usage();
  }
  if (conduit::ctl::WantsRollout(rollout)) {
    uint64_t within = 0;
    if (command != "push" || positional.size() != 1 || !shadow_file.empty() ||
        (!confirm_within.empty() &&
         (!conduit::ctl::ParseSince(confirm_within, &within) || within > UINT32_MAX))) {
      return Usage();
    }
    rollout.policy_file = positional[0];
    rollout.targets_file = targets_file;
    rollout.confirm_within_seconds = static_cast<uint32_t>(within);
    rollout.json = json;
    return conduit::ctl::Rollout(options, rollout);
  }
  // Offline: a copy of the file, no gateway needed.
  if (command == "audit" && positional.size() == 1 && positional[0] == "verify") {
    if (file.empty()) return Usage();
    return conduit::ctl::VerifyAudit(file, head, json);
  }
  if (!targets_file.empty()) {
    auto t = conduit::ctl::ReadTargets(targets_file);
    if (!t.ok()) {
      std::fprintf(stderr, "conduitctl: %s\n", std::string(t.status().message()).c_str());
      return 2;
    }
    options.targets.insert(options.targets.end(), t->begin(), t->end());
  }
  if (options.targets.empty()) options.targets.push_back("127.0.0.1:50051");

  if (command == "push" && positional.empty() && !shadow_file.empty()) {
    return conduit::ctl::PushShadow(options, shadow_file, json);
  }
  if (command == "shadow" && positional.empty()) return conduit::ctl::Shadow(options, json, clear);

  uint64_t within = 0;  // --confirm-within: "180s", "3m", "2h" or plain seconds
  if (!confirm_within.empty() &&
      (!conduit::ctl::ParseSince(confirm_within, &within) || within > UINT32_MAX)) {
    std::fprintf(stderr, "conduitctl: --confirm-within wants a duration such as 180s, 3m, 2h or 180\n");
    return 2;
  }
  if (command == "promote" && positional.empty()) {
    return conduit::ctl::Promote(options, json, static_cast<uint32_t>(within));
  }
  if (command == "push" && positional.size() == 1) {
    return conduit::ctl::Push(options, positional[0], json, static_cast<uint32_t>(within));
  }
  if (command == "confirm" && positional.empty()) return conduit::ctl::Confirm(options, json);
  if (command == "status" && positional.empty()) return conduit::ctl::Status(options, json);
  if (command == "mode" && positional.size() == 1) {
    return conduit::ctl::Mode(options, positional[0], conduit_name, json);
  }
  if (command == "counters" && positional.empty()) return conduit::ctl::Counters(options, json);
  if (command == "events" && positional.empty()) return conduit::ctl::Events(options, follow, seconds, count);
  if (command == "get-policy" && positional.empty()) return conduit::ctl::GetPolicy(options);
  uint64_t since_seconds = 0;
  if (!since.empty() && !conduit::ctl::ParseSince(since, &since_seconds)) return Usage();
  if (command == "rules" && positional.empty()) return conduit::ctl::Rules(options, json);
  if (command == "audit" && positional.empty()) {
    uint64_t since_seq = 0;
    if (!since.empty() && !absl::SimpleAtoi(since, &since_seq)) return Usage();
    return conduit::ctl::Audit(options, json, since_seq, static_cast<uint32_t>(count));
  }
  if (command == "baseline" && positional.empty()) {
    return conduit::ctl::Baseline(options, conduit_name, since_seconds, json);
  }
  if (command == "baseline" && positional.size() == 1 && positional[0] == "accept") {
    return conduit::ctl::AcceptBaseline(options, conduit_name, json);
  }
  return Usage();
}
