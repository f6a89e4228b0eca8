#pragma once
// MySQL's binary JSON (the storage and binlog form of a JSON column, json_binary.h): objects
// and arrays in a small (16-bit offsets) or large (32-bit) form, scalars inlined where they
// fit, strings with a variable-length size, and opaque values of other MySQL types (DECIMAL,
// temporal ones as packed integers; any other as base64 text).
#include <nlohmann/json.hpp>

#include "formats/byte_cursor.hpp"

namespace pitr::binlog {

// Throws DecodeError for a document that overruns itself or nests past 100 levels. An empty
// document is JSON null. DECIMAL values inside become strings (a JSON number would round).
nlohmann::json decode_mysql_json(Bytes binary);

}  // namespace pitr::binlog
