#include "common/json_fields.h"

#include <cstdint>

namespace conduit {
namespace {

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool Hex4(std::string_view s, size_t at, uint32_t* v) {
  if (at + 4 > s.size()) return false;
  *v = 0;
  for (size_t i = at; i < at + 4; ++i) {
    const char c = s[i];
    *v <<= 4;
    if (c >= '0' && c <= '9') *v |= static_cast<uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f') *v |= static_cast<uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') *v |= static_cast<uint32_t>(c - 'A' + 10);
    else return false;
  }
  return true;
}

// A string literal starting at s[*i] == '"'; leaves *i after the closing quote.
bool ReadString(std::string_view s, size_t* i, std::string* out) {
  for (size_t k = *i + 1; k < s.size(); ++k) {
    const char c = s[k];
    if (c == '"') {
      *i = k + 1;
      return true;
    }
    if (c != '\\') {
      *out += c;
      continue;
    }
    if (++k >= s.size()) return false;
    switch (s[k]) {
      case 'n': *out += '\n'; break;
      case 't': *out += '\t'; break;
      case 'r': *out += '\r'; break;
      case 'b': *out += '\b'; break;
      case 'f': *out += '\f'; break;
      case 'u': {
        uint32_t cp;
        if (!Hex4(s, k + 1, &cp)) return false;
        k += 4;
        uint32_t low;
        if (cp >= 0xD800 && cp < 0xDC00 && k + 2 < s.size() && s[k + 1] == '\\' &&
            s[k + 2] == 'u' && Hex4(s, k + 3, &low) && low >= 0xDC00 && low < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          k += 6;
        }
        AppendUtf8(*out, cp);
        break;
      }
      default: *out += s[k];  // \" \\ \/
    }
  }
  return false;
}

// Any other value: up to the ',' or '}' that ends it at depth 0.
bool SkipValue(std::string_view s, size_t* i) {
  int depth = 0;
  for (size_t k = *i; k < s.size(); ++k) {
    const char c = s[k];
    if (c == '"') {
      std::string ignored;
      size_t j = k;
      if (!ReadString(s, &j, &ignored)) return false;
      k = j - 1;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      if (depth == 0) {
        *i = k;
        return true;
      }
      --depth;
    } else if (c == ',' && depth == 0) {
      *i = k;
      return true;
    }
  }
  return false;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

JsonFields::JsonFields(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsSpace(s[i])) ++i;
  if (i >= s.size() || s[i] != '{') return;
  ++i;
  for (;;) {
    while (i < s.size() && (IsSpace(s[i]) || s[i] == ',')) ++i;
    if (i >= s.size() || s[i] != '"') return;  // '}' or a fault: done
    std::string key;
    if (!ReadString(s, &i, &key)) return;
    while (i < s.size() && IsSpace(s[i])) ++i;
    if (i >= s.size() || s[i] != ':') return;
    ++i;
    while (i < s.size() && IsSpace(s[i])) ++i;
    if (i >= s.size()) return;
    std::string value;
    if (s[i] == '"') {
      if (!ReadString(s, &i, &value)) return;
    } else {
      const size_t start = i;
      if (!SkipValue(s, &i)) return;
      size_t end = i;
      while (end > start && IsSpace(s[end - 1])) --end;
      value.assign(s.substr(start, end - start));
    }
    fields_.emplace_back(std::move(key), std::move(value));
  }
}

std::string_view JsonFields::Get(std::string_view key) const {
  for (const auto& [k, v] : fields_) {
    if (k == key) return v;
  }
  return {};
}

bool JsonFields::Has(std::string_view key) const {
  for (const auto& [k, v] : fields_) {
    if (k == key) return true;
  }
  return false;
}

}  // namespace conduit
