#include "classify/signatures.h"

#include <hs/hs.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace conduit {
namespace {

// DOTALL: payloads are binary, '\n' is just a byte. SINGLEMATCH: the verdict
// needs "did it match", not every offset, and it lets Hyperscan stop
// tracking a signature once it has fired.
constexpr unsigned kFlags = HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH;

// hs_compile takes NUL-terminated strings, so an embedded NUL would silently
// truncate the pattern; refuse it instead.
bool HasNul(const std::string& s) { return s.find('\0') != std::string::npos; }

constexpr const char* kNulMessage = "pattern contains a NUL byte (write \\x00)";

absl::Status CheckPlatform() {
  if (hs_valid_platform() != HS_SUCCESS) {
    return absl::FailedPreconditionError("signatures: this CPU lacks SSSE3, Hyperscan cannot run");
  }
  return absl::OkStatus();
}

struct ScanContext {
  const uint32_t* match_ids;
  MatchSet* out;
  uint32_t matched;
};

// Runs inside hs_scan on the worker: no allocation, never stops the scan.
int OnMatch(unsigned int id, unsigned long long /*from*/, unsigned long long /*to*/,
            unsigned int /*flags*/, void* context) {
  auto* ctx = static_cast<ScanContext*>(context);
  ++ctx->matched;
  MatchSet& out = *ctx->out;
  if (out.count < MatchSet::kCapacity) [[likely]] {
    out.ids[out.count++] = ctx->match_ids[id];
  } else {
    ++out.overflow;
  }
  return 0;
}

}  // namespace

ScratchPool::~ScratchPool() {
  for (hs_scratch_t* s : scratch_) {
    if (s != nullptr) hs_free_scratch(s);
  }
}

absl::Status ScratchPool::Fit(const hs_database* database) {
  for (size_t w = 0; w < scratch_.size(); ++w) {
    if (hs_alloc_scratch(database, &scratch_[w]) != HS_SUCCESS) {
      return absl::ResourceExhaustedError(
          absl::StrCat("signatures: hs_alloc_scratch failed for worker ", w));
    }
  }
  return absl::OkStatus();
}

size_t ScratchPool::bytes() const {
  size_t bytes = 0;
  if (scratch_.empty() || scratch_[0] == nullptr ||
      hs_scratch_size(scratch_[0], &bytes) != HS_SUCCESS) {
    return 0;
  }
  return bytes;
}

absl::StatusOr<std::unique_ptr<SignatureSet>> SignatureSet::Create(
    std::span<const SignatureSpec> specs, size_t worker_count) {
  return Create(specs, std::make_shared<ScratchPool>(worker_count));
}

absl::StatusOr<std::unique_ptr<SignatureSet>> SignatureSet::Create(
    std::span<const SignatureSpec> specs, std::shared_ptr<ScratchPool> scratch) {
  if (scratch == nullptr || scratch->worker_count() == 0) {
    return absl::InvalidArgumentError("signatures: worker_count must be at least 1");
  }
  if (specs.size() > std::numeric_limits<unsigned>::max()) {
    return absl::InvalidArgumentError("signatures: too many patterns");
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].id.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("signatures[", i, "]: empty id"));
    }
    if (HasNul(specs[i].pattern)) {
      return absl::InvalidArgumentError(
          absl::StrCat("signatures[", i, "] \"", specs[i].id, "\": ", kNulMessage));
    }
  }

  // Hyperscan id k is the k-th signature in id order, so the database does
  // not depend on the order the policy listed them in.
  std::vector<size_t> order(specs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return specs[a].id < specs[b].id; });
  for (size_t k = 1; k < order.size(); ++k) {
    if (specs[order[k]].id == specs[order[k - 1]].id) {
      return absl::InvalidArgumentError(absl::StrCat("signatures[", order[k], "] \"",
                                                     specs[order[k]].id,
                                                     "\": duplicate id (also signatures[",
                                                     order[k - 1], "])"));
    }
  }

  std::unique_ptr<SignatureSet> set(new SignatureSet());
  set->match_ids_.reserve(specs.size());
  for (size_t i : order) set->match_ids_.push_back(specs[i].match_id);
  set->scratch_ = std::move(scratch);

  // Nothing to compile (hs_compile_multi refuses zero patterns): Scan stops
  // at the null database and never touches the scratch.
  if (specs.empty()) return set;
  if (absl::Status s = CheckPlatform(); !s.ok()) return s;

  std::vector<const char*> expressions;
  std::vector<unsigned> flags(specs.size(), kFlags);
  std::vector<unsigned> ids(specs.size());
  expressions.reserve(specs.size());
  for (size_t k = 0; k < order.size(); ++k) {
    expressions.push_back(specs[order[k]].pattern.c_str());
    ids[k] = static_cast<unsigned>(k);
  }

  hs_compile_error_t* error = nullptr;
  hs_error_t rc = hs_compile_multi(expressions.data(), flags.data(), ids.data(),
                                   static_cast<unsigned>(specs.size()), HS_MODE_BLOCK,
                                   /*platform=*/nullptr, &set->database_, &error);
  if (rc != HS_SUCCESS) {
    std::string message = error != nullptr && error->message != nullptr
                              ? error->message
                              : absl::StrCat("hs_compile_multi failed (", rc, ")");
    // `expression` indexes our sorted array; map it back to the caller's.
    int expr = error != nullptr ? error->expression : -1;
    hs_free_compile_error(error);
    set->database_ = nullptr;
    if (expr >= 0 && static_cast<size_t>(expr) < order.size()) {
      size_t index = order[static_cast<size_t>(expr)];
      return absl::InvalidArgumentError(
          absl::StrCat("signatures[", index, "] \"", specs[index].id, "\": ", message));
    }
    // Not tied to one pattern (e.g. the database would be too large).
    return absl::InvalidArgumentError(absl::StrCat("signatures: ", message));
  }

  // The shortest match any pattern can make: hs_expression_info per
  // pattern (they all compiled above, so this cannot fail; if it did, 0
  // keeps every payload scanned).
  set->min_width_ = std::numeric_limits<uint32_t>::max();
  for (size_t k = 0; k < expressions.size(); ++k) {
    hs_expr_info_t* info = nullptr;
    hs_compile_error_t* info_error = nullptr;
    if (hs_expression_info(expressions[k], flags[k], &info, &info_error) != HS_SUCCESS) {
      hs_free_compile_error(info_error);
      set->min_width_ = 0;
      break;
    }
    set->min_width_ = std::min(set->min_width_, static_cast<uint32_t>(info->min_width));
    std::free(info);  // allocated with Hyperscan's misc allocator: malloc
  }

  if (absl::Status s = set->scratch_->Fit(set->database_); !s.ok()) return s;
  return set;
}

absl::Status SignatureSet::CheckPattern(const std::string& pattern) {
  if (HasNul(pattern)) return absl::InvalidArgumentError(kNulMessage);
  if (absl::Status s = CheckPlatform(); !s.ok()) return s;
  hs_database_t* database = nullptr;
  hs_compile_error_t* error = nullptr;
  // A full compile, not hs_expression_info: some limits are only found by
  // building the engine, and this runs once per pattern on the control path.
  if (hs_compile(pattern.c_str(), kFlags, HS_MODE_BLOCK, /*platform=*/nullptr, &database,
                 &error) != HS_SUCCESS) {
    std::string message = error != nullptr && error->message != nullptr
                              ? error->message
                              : std::string("hs_compile failed");
    hs_free_compile_error(error);
    return absl::InvalidArgumentError(message);
  }
  hs_free_database(database);
  return absl::OkStatus();
}

SignatureSet::~SignatureSet() {
  if (database_ != nullptr) hs_free_database(database_);
}

size_t SignatureSet::database_bytes() const {
  size_t bytes = 0;
  if (database_ == nullptr || hs_database_size(database_, &bytes) != HS_SUCCESS) return 0;
  return bytes;
}

uint32_t SignatureSet::Scan(size_t worker, std::span<const uint8_t> payload,
                            MatchSet& out) const {
  // A set with no signatures, or a payload too short for any pattern,
  // costs a compare, not a Hyperscan call.
  if (payload.empty() || payload.size() < min_width_ || database_ == nullptr) return 0;
  if (worker >= scratch_->worker_count() || payload.size() > std::numeric_limits<unsigned>::max())
      [[unlikely]] {
    scan_errors_.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  const uint32_t count_before = out.count;
  const uint32_t overflow_before = out.overflow;
  ScanContext ctx{match_ids_.data(), &out, 0};
  hs_error_t rc = hs_scan(database_, reinterpret_cast<const char*>(payload.data()),
                          static_cast<unsigned>(payload.size()), /*flags=*/0, scratch_->at(worker),
                          OnMatch, &ctx);
  if (rc != HS_SUCCESS) [[unlikely]] {
    // Undo partial results so `out` and the return value agree; the caller
    // treats the packet by its default and telemetry shows the counter.
    out.count = count_before;
    out.overflow = overflow_before;
    scan_errors_.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  return ctx.matched;
}

}  // namespace conduit
