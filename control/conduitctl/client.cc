#include "conduitctl/client.h"

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace conduit::ctl {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

absl::StatusOr<std::vector<Target>> ReadNamedTargets(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read targets file ", path));
  std::vector<Target> out;
  std::set<std::string> addresses, names;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    const std::vector<std::string> fields = absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (fields.empty()) continue;
    const std::string where = absl::StrCat(path, ":", number, ": ");
    if (fields.size() > 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "want \"ADDRESS [NAME]\", got ", fields.size(), " fields"));
    }
    Target t{fields[0], fields.size() == 2 ? fields[1] : fields[0], number};
    // host:port, [v6]:port; other gRPC schemes (unix:, dns:///) pass as given.
    const bool scheme = t.address.starts_with("unix:") || t.address.starts_with("dns:") ||
                        t.address.starts_with("ipv4:") || t.address.starts_with("ipv6:");
    const size_t colon = t.address.rfind(':');
    uint32_t port = 0;
    if (!scheme && (colon == std::string::npos || colon == 0 ||
                    !absl::SimpleAtoi(absl::string_view(t.address).substr(colon + 1), &port) ||
                    port == 0 || port > 65535)) {
      return absl::InvalidArgumentError(absl::StrCat(where, "\"", t.address, "\" is not HOST:PORT"));
    }
    if (!addresses.insert(t.address).second) {
      return absl::InvalidArgumentError(absl::StrCat(where, "address ", t.address, " is listed twice"));
    }
    if (fields.size() == 2 && !names.insert(t.name).second) {
      return absl::InvalidArgumentError(absl::StrCat(where, "name ", t.name, " is used twice"));
    }
    out.push_back(std::move(t));
  }
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no targets"));
  return out;
}

absl::StatusOr<std::vector<std::string>> ReadTargets(const std::string& path) {
  auto targets = ReadNamedTargets(path);
  if (!targets.ok()) return targets.status();
  std::vector<std::string> out;
  for (const Target& t : *targets) out.push_back(t.address);
  return out;
}

std::unique_ptr<conduit::v1::Gateway::Stub> Connect(const ClientOptions& options,
                                                    const std::string& target) {
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (options.ca.empty() && options.cert.empty()) {
    creds = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    if (!options.ca.empty()) ssl.pem_root_certs = Slurp(options.ca);
    if (!options.cert.empty()) ssl.pem_cert_chain = Slurp(options.cert);
    if (!options.key.empty()) ssl.pem_private_key = Slurp(options.key);
    creds = grpc::SslCredentials(ssl);
  }
  return conduit::v1::Gateway::NewStub(grpc::CreateChannel(target, creds));
}

std::unique_ptr<grpc::ClientContext> Context(const ClientOptions& options) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(options.timeout_seconds));
  return context;
}

}  // namespace conduit::ctl
