#include "formats/clickhouse/ddl_rename.hpp"

#include <cctype>

#include "formats/byte_cursor.hpp"
#include "formats/clickhouse/tab_separated.hpp"

namespace pitr::clickhouse {
namespace {

bool starts_name(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool in_name(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// The end of the quoted token starting at `at` (its closing quote + 1), and its unescaped text.
std::size_t quoted_end(std::string_view s, std::size_t at, std::string* text) {
  char quote = s[at];
  for (auto i = at + 1; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      if (text) *text += s[i + 1];
      ++i;
    } else if (s[i] == quote) {
      return i + 1;
    } else if (text) {
      *text += s[i];
    }
  }
  throw DecodeError(std::string("DDL has an unterminated ") + quote + " quote");
}

}  // namespace

std::string rename_databases(std::string_view ddl,
                             const std::map<std::string, std::string>& renames) {
  std::string out;
  std::size_t i = 0;
  while (i < ddl.size()) {
    char c = ddl[i];
    if (c == '\'') {  // a string literal: copied as it is
      auto end = quoted_end(ddl, i, nullptr);
      out.append(ddl.substr(i, end - i));
      i = end;
      continue;
    }
    if (c != '`' && c != '"' && !starts_name(c)) {
      out += c;
      ++i;
      continue;
    }
    std::string name;
    std::size_t end;
    if (c == '`' || c == '"') {
      end = quoted_end(ddl, i, &name);
    } else {
      end = i;
      while (end < ddl.size() && in_name(ddl[end])) ++end;
      name = std::string(ddl.substr(i, end - i));
    }
    auto renamed = renames.find(name);
    if (renamed != renames.end() && end < ddl.size() && ddl[end] == '.')
      out += quote_name(renamed->second);
    else
      out.append(ddl.substr(i, end - i));
    i = end;
  }
  return out;
}

}  // namespace pitr::clickhouse
