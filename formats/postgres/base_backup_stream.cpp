#include "formats/postgres/base_backup_stream.hpp"

#include <fmt/format.h>

#include "formats/postgres/replication_messages.hpp"

namespace pitr::postgres {

BackupMessage parse_backup_message(Bytes m) {
  if (m.empty()) throw DecodeError("empty base backup message");
  ByteCursor c(m.subspan(1), "base backup message");
  switch (m[0]) {
    case 'n': {
      NewArchive a;
      a.name = std::string(c.cstring());
      a.tablespace_path = std::string(c.cstring());
      if (a.name.empty() || a.name.find('/') != std::string::npos || a.name[0] == '.')
        throw DecodeError(
            fmt::format("base backup archive name '{}' is not a plain file name", a.name));
      return a;
    }
    case 'd':
      return BackupData{c.rest()};
    case 'p':
      c.need(8);
      return BackupProgress{load_be(m.data() + 1, 8)};
    case 'm':
      return ManifestStart{};
  }
  throw DecodeError(fmt::format("unknown base backup message type {:#04x}", m[0]));
}

}  // namespace pitr::postgres
