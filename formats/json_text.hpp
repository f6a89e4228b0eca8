#pragma once
// Writing JSON text directly, for output of millions of values (`pitr log`), where building
// a document object per row costs more than decoding the row.
#include <string>
#include <string_view>

namespace pitr {

// Appends `text` as a JSON string (quoted, escaped). Returns false, appending nothing, when
// `text` is not valid UTF-8.
bool append_json_string(std::string& out, std::string_view text);

}  // namespace pitr
