#include "conduitctl/audit_commands.h"

#include <cstdio>
#include <iostream>

#include "audit/audit_verify.h"
#include "common/json.h"
#include "common/json_fields.h"

namespace conduit::ctl {
int Audit(const ClientOptions& options, bool json, uint64_t since_seq, uint32_t limit) {
  int rc = 0;
  for (const std::string& target : options.targets) {
    auto stub = Connect(options, target);
    auto context = Context(options);
    v1::GetAuditRequest request;
    request.set_since_seq(since_seq);
    request.set_limit(limit);
    v1::AuditRecords reply;
    const grpc::Status s = stub->GetAudit(context.get(), request, &reply);
    if (!s.ok()) {
      std::fprintf(stderr, "%s: %s\n", target.c_str(), s.error_message().c_str());
      rc = 1;
      continue;
    }
    if (!reply.error().empty()) {
      std::fprintf(stderr, "%s: %s\n", target.c_str(), reply.error().c_str());
      rc = 1;
    }
    for (const std::string& r : reply.records()) {
      if (json) {
        std::cout << r << "\n";
        continue;
      }
      const JsonFields fields(r);
      auto field = [&fields](std::string_view key) { return std::string(fields.Get(key)); };
      const std::string who = field("identity");
      std::cout << field("seq") << "  " << field("ts") << "  "
                << (who.empty() ? field("peer") : who) << "  " << field("action") << " "
                << field("target") << "  " << field("result");
      const std::string detail = field("detail");
      if (!detail.empty()) std::cout << "  (" << detail << ")";
      std::cout << "\n";
    }
  }
  return rc;
}

int VerifyAudit(const std::string& file, const std::string& expect_head, bool json) {
  const auto v = VerifyAuditFile(file, expect_head);
  if (!v.ok()) {
    if (json) {
      std::cout << "{\"ok\":false,\"error\":" << JsonQuote(std::string(v.status().message())) << "}\n";
    } else {
      std::fprintf(stderr, "audit verify: FAILED: %s\n", std::string(v.status().message()).c_str());
    }
    return 1;
  }
  if (json) {
    std::cout << "{\"ok\":true,\"records\":" << v->records << ",\"last_seq\":" << v->last_seq
              << ",\"head\":" << JsonQuote(v->head_hash) << "}\n";
  } else {
    std::cout << file << ": " << v->records << " records, chain intact, head " << v->head_hash << "\n";
  }
  return 0;
}

}  // namespace conduit::ctl
