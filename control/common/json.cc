#include "common/json.h"

#include <cstdio>

namespace conduit {

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string JsonFieldText(std::string_view line, std::string_view name) {
  std::string key = "\"";
  key.append(name);
  key += "\":";
  size_t at = 0;
  // A key inside a string value is escaped (\"), so a match preceded by {
  // or , is the field itself.
  for (;;) {
    at = line.find(key, at);
    if (at == std::string_view::npos) return "";
    if (at > 0 && (line[at - 1] == '{' || line[at - 1] == ',')) break;
    at += key.size();
  }
  size_t i = at + key.size();
  std::string out;
  if (i < line.size() && line[i] == '"') {
    for (++i; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) {
        const char c = line[++i];
        out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
      } else {
        out += line[i];
      }
    }
    return out;
  }
  for (; i < line.size() && line[i] != ',' && line[i] != '}'; ++i) out += line[i];
  return out;
}

}  // namespace conduit
