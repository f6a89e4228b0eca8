#include "formats/sql/sql_literal.hpp"

#include <cctype>
#include <stdexcept>

namespace pitr::sql {

std::string quote_identifier(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  return out + "`";
}

std::string qualified_name(std::string_view database, std::string_view table) {
  return quote_identifier(database) + "." + quote_identifier(table);
}

namespace {

// The escape for a byte that needs one inside '...', or nullptr.
const char* escape_of(char c) {
  switch (c) {
    case '\0':
      return "\\0";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\x1a':
      return "\\Z";
    case '\\':
      return "\\\\";
    case '\'':
      return "\\'";
    case '"':
      return "\\\"";
    default:
      return nullptr;
  }
}

}  // namespace

void append_quoted_string(std::string& out, std::string_view text) {
  out.reserve(out.size() + text.size() + 2);
  out += '\'';
  std::size_t run = 0;  // start of the bytes not yet appended
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto escape = escape_of(text[i]);
    if (!escape) continue;
    out.append(text.substr(run, i - run));
    out += escape;
    run = i + 1;
  }
  out.append(text.substr(run));
  out += '\'';
}

std::string quote_string(std::string_view text) {
  std::string out;
  append_quoted_string(out, text);
  return out;
}

void append_hex_literal(std::string& out, Bytes bytes) {
  if (bytes.empty()) {
    out += "''";
    return;
  }
  static constexpr char kDigits[] = "0123456789ABCDEF";
  out.reserve(out.size() + 2 + bytes.size() * 2);
  out += "0x";
  for (auto b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
}

std::string hex_literal(Bytes bytes) {
  std::string out;
  append_hex_literal(out, bytes);
  return out;
}

std::string numeric_literal(std::string_view text) {
  bool digit = false;
  for (char c : text) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digit = true;
    } else if (c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E') {
      throw std::invalid_argument("not a number: '" + std::string(text) + "'");
    }
  }
  if (!digit) throw std::invalid_argument("not a number: '" + std::string(text) + "'");
  return std::string(text);
}

}  // namespace pitr::sql
