#include "eal/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace conduit {

absl::Status InitEal(const std::vector<std::string>& args) {
  std::vector<std::string> storage;
  storage.reserve(args.size() + 1);
  storage.push_back("conduitd");
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  const int rc = rte_eal_init(static_cast<int>(storage.size()), argv.data());
  if (rc < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("rte_eal_init failed (", rte_strerror(rte_errno),
                     ") with: ", absl::StrJoin(args, " ")));
  }
  return absl::OkStatus();
}

void CleanupEal() { rte_eal_cleanup(); }

}  // namespace conduit
