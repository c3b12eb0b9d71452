#include "grants/grant_store.h"

#include <fcntl.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"

namespace conduit::grants {
namespace {

namespace v1 = conduit::v1;
namespace pbutil = google::protobuf::util;

absl::Status Corrupt(const std::string& path, std::string_view why) {
  return absl::DataLossError(absl::StrCat(path, ": not a grant store (", std::string(why), ")"));
}

}  // namespace

absl::Status GrantStore::Load() {
  grants_.clear();
  if (path_.empty()) return absl::OkStatus();
  std::ifstream in(path_);
  if (!in) return absl::OkStatus();  // no grant ever made
  std::stringstream text;
  text << in.rdbuf();
  google::protobuf::Struct root;
  if (!pbutil::JsonStringToMessage(text.str(), &root).ok()) return Corrupt(path_, "invalid JSON");
  const auto& fields = root.fields();
  const auto next = fields.find("next_id");
  const auto list = fields.find("grants");
  if (next == fields.end() || !next->second.has_number_value() || next->second.number_value() < 1 ||
      list == fields.end() || !list->second.has_list_value()) {
    return Corrupt(path_, "expected next_id and grants");
  }
  std::vector<v1::GrantInfo> loaded;
  pbutil::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // a newer gateway's fields
  for (const google::protobuf::Value& item : list->second.list_value().values()) {
    std::string json;
    v1::GrantInfo grant;
    if (!pbutil::MessageToJsonString(item, &json).ok() ||
        !pbutil::JsonStringToMessage(json, &grant, options).ok() || grant.id().empty()) {
      return Corrupt(path_, "a grant does not parse");
    }
    loaded.push_back(std::move(grant));
  }
  next_id_ = static_cast<uint64_t>(next->second.number_value());
  grants_ = std::move(loaded);
  return absl::OkStatus();
}

absl::Status GrantStore::Save() const {
  if (path_.empty()) return absl::OkStatus();
  pbutil::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string text = absl::StrCat("{\"next_id\": ", next_id_, ", \"grants\": [");
  for (size_t i = 0; i < grants_.size(); ++i) {
    std::string json;
    if (!pbutil::MessageToJsonString(grants_[i], &json, options).ok()) {
      return absl::InternalError(absl::StrCat("cannot render grant ", grants_[i].id()));
    }
    absl::StrAppend(&text, i ? ",\n  " : "\n  ", json);
  }
  absl::StrAppend(&text, grants_.empty() ? "" : "\n", "]}\n");
  return WriteAtomically(path_, text);
}

std::string GrantStore::NextId() { return absl::StrCat("grant-", next_id_++); }

void GrantStore::Add(v1::GrantInfo grant) { grants_.push_back(std::move(grant)); }

bool GrantStore::Remove(const std::string& id, v1::GrantInfo* out) {
  for (auto it = grants_.begin(); it != grants_.end(); ++it) {
    if (it->id() != id) continue;
    if (out != nullptr) *out = std::move(*it);
    grants_.erase(it);
    return true;
  }
  return false;
}

std::vector<v1::GrantInfo> GrantStore::TakeExpired(uint64_t now_ms) {
  std::vector<v1::GrantInfo> expired, kept;
  for (v1::GrantInfo& g : grants_) {
    (g.expires_unix_ms() <= now_ms ? expired : kept).push_back(std::move(g));
  }
  grants_ = std::move(kept);
  return expired;
}

}  // namespace conduit::grants
