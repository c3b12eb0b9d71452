#include "audit/audit_record.h"

#include <openssl/evp.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/json.h"

namespace conduit {
namespace {

constexpr absl::string_view kHashField = ",\"hash\":\"";
constexpr absl::string_view kPrevField = ",\"prev_hash\":\"";
constexpr size_t kHexLen = 64;

bool IsHex(std::string_view s) {
  if (s.size() != kHexLen) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void Field(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":";
  AppendJsonString(out, value);
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xF];
  }
  return out;
}

RenderedAuditRecord RenderAuditRecord(const AuditEntry& entry, uint64_t seq, int64_t unix_ms,
                                      std::string_view prev_hash) {
  std::string body = absl::StrCat("{\"seq\":", seq);
  Field(body, "ts", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(unix_ms),
                                     absl::UTCTimeZone()));
  Field(body, "identity", entry.identity);
  Field(body, "peer", entry.peer);
  Field(body, "action", entry.action);
  Field(body, "target", entry.target);
  Field(body, "result", entry.result);
  Field(body, "detail", entry.detail);
  Field(body, "prev_hash", prev_hash);
  std::string hash = Sha256Hex(absl::StrCat(body, "}"));
  std::string line = absl::StrCat(body, kHashField, hash, "\"}");
  return {std::move(line), std::move(hash)};
}

std::optional<AuditLink> ParseAuditLink(std::string_view text) {
  const absl::string_view line(text.data(), text.size());
  // ...,"prev_hash":"<64>","hash":"<64>"}  -- anchored at the end, so no
  // quoted detail can pose as either field (its quotes are escaped).
  const size_t tail = kHashField.size() + kHexLen + 2;
  if (line.size() < tail + kPrevField.size() + kHexLen + 1 || line.substr(line.size() - 2) != "\"}") {
    return std::nullopt;
  }
  const size_t hash_at = line.size() - tail;
  if (line.substr(hash_at, kHashField.size()) != kHashField) return std::nullopt;
  AuditLink link;
  link.hash = std::string(line.substr(hash_at + kHashField.size(), kHexLen));
  const size_t prev_at = hash_at - kHexLen - 1 - kPrevField.size();
  if (line.substr(prev_at, kPrevField.size()) != kPrevField || line[hash_at - 1] != '"') {
    return std::nullopt;
  }
  link.prev_hash = std::string(line.substr(prev_at + kPrevField.size(), kHexLen));
  if (!IsHex(link.hash) || !IsHex(link.prev_hash)) return std::nullopt;
  constexpr absl::string_view kSeq = "{\"seq\":";
  if (line.substr(0, kSeq.size()) != kSeq) return std::nullopt;
  const size_t comma = line.find(',', kSeq.size());
  if (comma == absl::string_view::npos ||
      !absl::SimpleAtoi(line.substr(kSeq.size(), comma - kSeq.size()), &link.seq)) {
    return std::nullopt;
  }
  link.hash_matches = Sha256Hex(absl::StrCat(line.substr(0, hash_at), "}")) == link.hash;
  return link;
}

}  // namespace conduit
