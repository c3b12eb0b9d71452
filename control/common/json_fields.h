// Reads the top-level fields of one of our own event lines (event_json.h,
// audit and grant lines) so that a sink can re-shape them (CEF) without
// the renderers growing a second output format each.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace conduit {

class JsonFields {
 public:
  // Lenient by design: a malformed line yields the fields read before the
  // fault (a sink must never fail on a line the file sink wrote as is).
  explicit JsonFields(std::string_view object);

  // Strings unescaped (\uXXXX as UTF-8); numbers, true/false/null, arrays
  // and objects as their JSON text. Empty when absent.
  std::string_view Get(std::string_view key) const;
  bool Has(std::string_view key) const;
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

}  // namespace conduit
