#include "formats/sql/script_splitter.hpp"

#include <stdexcept>

namespace pitr::sql {

void ScriptSplitter::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    auto nl = bytes.find('\n');
    if (nl == std::string_view::npos) {
      partial_line_ += bytes;
      return;
    }
    if (partial_line_.empty()) {
      line(bytes.substr(0, nl));
    } else {
      partial_line_ += bytes.substr(0, nl);
      line(partial_line_);
      partial_line_.clear();
    }
    bytes.remove_prefix(nl + 1);
  }
}

void ScriptSplitter::line(std::string_view text) {
  if (statement_.empty()) {
    if (text.rfind("DELIMITER ", 0) == 0) {
      delimiter_ = std::string(text.substr(10));
      return;
    }
    if (text.empty() || text.rfind("-- ", 0) == 0) return;
  }
  if (text.size() >= delimiter_.size() && text.ends_with(delimiter_)) {
    statement_ += text.substr(0, text.size() - delimiter_.size());
    sink_(statement_);
    statement_.clear();
    return;
  }
  statement_ += text;
  statement_ += '\n';
}

void ScriptSplitter::finish() {
  if (!partial_line_.empty()) {
    line(partial_line_);
    partial_line_.clear();
  }
  if (!statement_.empty())
    throw std::runtime_error("SQL script ends inside a statement (missing '" + delimiter_ + "')");
}

}  // namespace pitr::sql
