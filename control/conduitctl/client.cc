#include "conduitctl/client.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace conduit::ctl {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ReadTargets(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read targets file ", path));
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    const size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::string t(absl::StripAsciiWhitespace(line));
    if (!t.empty()) out.push_back(t);
  }
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no targets"));
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
