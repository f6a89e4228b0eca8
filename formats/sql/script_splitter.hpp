#pragma once
// Splits a client SQL script (as pitr writes them: one statement ends where a line ends
// with the current delimiter; `DELIMITER x` lines change it) into statements, streaming.
#include <functional>
#include <string>
#include <string_view>

namespace pitr::sql {

class ScriptSplitter {
 public:
  using Sink = std::function<void(const std::string& statement)>;
  explicit ScriptSplitter(Sink sink) : sink_(std::move(sink)) {}
  void feed(std::string_view bytes);
  // Throws std::runtime_error when the script ends inside a statement.
  void finish();

 private:
  void line(std::string_view text);
  Sink sink_;
  std::string delimiter_ = ";";
  std::string partial_line_;
  std::string statement_;
};

}  // namespace pitr::sql
