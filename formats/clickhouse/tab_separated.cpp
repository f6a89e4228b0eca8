#include "formats/clickhouse/tab_separated.hpp"

#include "formats/byte_cursor.hpp"

namespace pitr::clickhouse {
namespace {

char unescaped(char c) {
  switch (c) {
    case 't':
      return '\t';
    case 'n':
      return '\n';
    case '0':
      return '\0';
    case 'b':
      return '\b';
    case 'f':
      return '\f';
    case 'r':
      return '\r';
    default:
      return c;  // \\ \' and anything else stand for themselves
  }
}

std::string quoted(std::string_view value, char quote) {
  std::string out(1, quote);
  for (char c : value) {
    if (c == '\\' || c == quote) out += '\\';
    out += c;
  }
  return out + quote;
}

}  // namespace

std::vector<std::vector<std::string>> parse_tab_separated(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\') {
      if (++i == text.size()) throw DecodeError("TabSeparated answer ends in a backslash");
      field += unescaped(text[i]);
    } else if (c == '\t') {
      row.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
    } else {
      field += c;
    }
  }
  if (!field.empty() || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string quote_string(std::string_view value) {
  return quoted(value, '\'');
}
std::string quote_name(std::string_view name) {
  return quoted(name, '`');
}

std::string qualified_name(std::string_view database, std::string_view table) {
  return quote_name(database) + "." + quote_name(table);
}

}  // namespace pitr::clickhouse
