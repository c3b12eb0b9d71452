// Minimal JSON text helpers for the stable output formats (events,
// conduitctl --json). Field order is ours, so no generic JSON library.
#pragma once

#include <string>
#include <string_view>

namespace conduit {

// Appends `s` as a JSON string literal (quotes included).
void AppendJsonString(std::string& out, std::string_view s);

inline std::string JsonQuote(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

}  // namespace conduit
