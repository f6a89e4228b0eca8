#include "replay/change_match.hpp"

#include <optional>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace pitr::replay {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Splits SQL into words and identifiers (backquoted ones unquoted), stopping at `(`.
std::vector<std::string> tokens(const std::string& sql, std::size_t limit) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < sql.size() && out.size() < limit) {
    char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '`') {
      std::string id;
      for (++i; i < sql.size(); ++i) {
        if (sql[i] == '`' && i + 1 < sql.size() && sql[i + 1] == '`') {
          id += '`';
          ++i;
        } else if (sql[i] == '`') {
          ++i;
          break;
        } else {
          id += sql[i];
        }
      }
      out.push_back(id);
    } else if (c == '.' || c == ',' || c == ';') {
      out.push_back(std::string(1, c));
      ++i;
    } else if (c == '(') {
      break;
    } else {
      std::string word;
      while (i < sql.size() && !std::isspace(static_cast<unsigned char>(sql[i])) && sql[i] != '.' &&
             sql[i] != '`' && sql[i] != ',' && sql[i] != '(' && sql[i] != ';')
        word += sql[i++];
      out.push_back(word);
    }
  }
  return out;
}

}  // namespace

std::string_view change_kind_name(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kInsert:
      return "insert";
    case ChangeKind::kUpdate:
      return "update";
    case ChangeKind::kDelete:
      return "delete";
    case ChangeKind::kDdl:
      return "ddl";
    case ChangeKind::kDrop:
      return "drop";
    case ChangeKind::kTruncate:
      return "truncate";
  }
  return "?";
}

ChangeMatch ChangeMatch::parse(const std::string& text) {
  ChangeMatch m;
  auto colon = text.find(':');
  auto kind = lower(text.substr(0, colon));
  static const std::pair<const char*, ChangeKind> kKinds[] = {
      {"insert", ChangeKind::kInsert}, {"update", ChangeKind::kUpdate},
      {"delete", ChangeKind::kDelete}, {"ddl", ChangeKind::kDdl},
      {"drop", ChangeKind::kDrop},     {"truncate", ChangeKind::kTruncate}};
  bool known = kind == "any";
  for (auto& [name, k] : kKinds)
    if (kind == name) {
      m.kind = k;
      known = true;
    }
  if (!known)
    throw std::invalid_argument("unknown change kind '" + kind +
                                "' (insert, update, delete, ddl, drop, truncate, any)");
  if (colon == std::string::npos) return m;
  auto target = text.substr(colon + 1);
  auto dot = target.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == target.size())
    throw std::invalid_argument("'" + text + "': name the table as KIND:DB.TABLE (TABLE may be *)");
  m.database = target.substr(0, dot);
  m.table = target.substr(dot + 1);
  return m;
}

bool ChangeMatch::matches(const TableChange& change) const {
  if (kind) {
    // drop and truncate are DDL too: "ddl" matches them, "drop" only drops.
    bool ddl_family = *kind == ChangeKind::kDdl &&
                      (change.kind == ChangeKind::kDrop || change.kind == ChangeKind::kTruncate);
    if (change.kind != *kind && !ddl_family) return false;
  }
  if (database.empty()) return true;
  auto dot = change.table.find('.');
  if (dot == std::string::npos) return false;
  return change.table.substr(0, dot) == database &&
         (table == "*" || change.table.substr(dot + 1) == table);
}

TableChange classify_statement(const std::string& statement, const std::string& default_db) {
  TableChange c{ChangeKind::kDdl, "", std::nullopt, statement};
  auto t = tokens(statement, 12);
  std::vector<std::string> words;
  for (auto& w : t) words.push_back(lower(w));
  std::size_t name_at = 0;
  auto is = [&](std::size_t i, const char* w) { return i < words.size() && words[i] == w; };
  if (is(0, "drop") && (is(1, "table") || (is(1, "temporary") && is(2, "table")))) {
    c.kind = ChangeKind::kDrop;
    name_at = is(1, "table") ? 2 : 3;
    if (is(name_at, "if") && is(name_at + 1, "exists")) name_at += 2;
  } else if (is(0, "drop") && (is(1, "database") || is(1, "schema"))) {
    c.kind = ChangeKind::kDrop;
    std::size_t at = is(2, "if") ? 4 : 2;
    if (at < t.size()) c.table = t[at] + ".*";
    return c;
  } else if (is(0, "truncate")) {
    c.kind = ChangeKind::kTruncate;
    name_at = is(1, "table") ? 2 : 1;
  } else if ((is(0, "alter") || is(0, "create") || is(0, "rename")) &&
             (is(1, "table") || (is(1, "or") && is(3, "table")))) {
    name_at = is(1, "table") ? 2 : 4;
    if (is(name_at, "if")) name_at += is(name_at + 1, "not") ? 3 : 2;
  } else {
    return c;
  }
  if (name_at >= t.size()) return c;
  if (name_at + 2 < t.size() && t[name_at + 1] == ".")
    c.table = t[name_at] + "." + t[name_at + 2];
  else if (!default_db.empty())
    c.table = default_db + "." + t[name_at];
  return c;
}

std::optional<TableChange> classify_query(const std::string& query, const std::string& db) {
  auto t = classify_statement(query, db);
  if (t.kind != ChangeKind::kDdl || !t.table.empty()) return t;
  auto lower = query.substr(0, 16);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto [word, kind] : {std::pair{"insert", ChangeKind::kInsert},
                            {"replace", ChangeKind::kInsert},
                            {"update", ChangeKind::kUpdate},
                            {"delete", ChangeKind::kDelete}})
    if (lower.rfind(word, 0) == 0) return TableChange{kind, "", std::nullopt, query};
  for (auto word : {"begin", "commit", "rollback", "xa ", "savepoint", "release"})
    if (lower.rfind(word, 0) == 0) return std::nullopt;
  return t;  // other DDL (CREATE USER, GRANT, ...): kind ddl, no table
}

}  // namespace pitr::replay
