#include "formats/binlog/query_status.hpp"

namespace pitr::binlog {
namespace {

enum StatusCode : std::uint8_t {
  kFlags2 = 0,
  kSqlMode = 1,
  kCatalog = 2,
  kAutoIncrement = 3,
  kCharset = 4,
  kTimeZone = 5,
  kCatalogNz = 6,
  kLcTimeNames = 7,
  kCharsetDatabase = 8,
  kTableMapForUpdate = 9,
  kMasterDataWritten = 10,
  kInvoker = 11,
  kUpdatedDbNames = 12,
  kMicroseconds = 13,
  kCommitTs = 14,
  kCommitTs2 = 15,
  kExplicitDefaultsForTimestamp = 16,
  kDdlLoggedWithXid = 17,
  kDefaultCollationForUtf8mb4 = 18,
  kSqlRequirePrimaryKey = 19,
  kDefaultTableEncryption = 20,
  kMariaHrnow = 128,
  kMariaXid = 129,
  kMariaGtidFlags3 = 130,
  kMariaCharacterSetCollations = 131,
};

constexpr std::uint8_t kOverMaxDbs = 254;

}  // namespace

QueryStatus decode_query_status(Bytes vars) {
  ByteCursor c(vars, "QUERY_EVENT status variables");
  QueryStatus s;
  while (!c.empty()) {
    auto code = c.u8();
    switch (code) {
      case kFlags2:
        s.flags2 = c.u32();
        break;
      case kSqlMode:
        s.sql_mode = c.u64();
        break;
      case kCatalog:
        c.skip(c.u8() + 1);
        break;  // length, text, NUL
      case kAutoIncrement:
        s.auto_increment_increment = c.u16();
        s.auto_increment_offset = c.u16();
        break;
      case kCharset:
        s.character_set_client = c.u16();
        s.collation_connection = c.u16();
        s.collation_server = c.u16();
        break;
      case kTimeZone:
        s.time_zone = std::string(c.text(c.u8()));
        break;
      case kCatalogNz:
        c.skip(c.u8());
        break;
      case kLcTimeNames:
        s.lc_time_names = c.u16();
        break;
      case kCharsetDatabase:
        s.collation_database = c.u16();
        break;
      case kTableMapForUpdate:
        c.skip(8);
        break;
      case kMasterDataWritten:
        c.skip(4);
        break;
      case kInvoker:
        c.skip(c.u8());  // user
        c.skip(c.u8());  // host
        break;
      case kUpdatedDbNames: {
        auto count = c.u8();
        if (count != kOverMaxDbs)
          for (int i = 0; i < count; ++i) c.cstring();
        break;
      }
      case kMicroseconds:
        s.microseconds = static_cast<std::uint32_t>(c.uint(3));
        break;
      case kCommitTs:
        c.skip(8);
        break;
      case kCommitTs2:
        c.skip(8);
        break;
      case kExplicitDefaultsForTimestamp:
        s.explicit_defaults_for_timestamp = c.u8();
        break;
      case kDdlLoggedWithXid:
        c.skip(8);
        break;
      case kDefaultCollationForUtf8mb4:
        s.default_collation_for_utf8mb4 = c.u16();
        break;
      case kSqlRequirePrimaryKey:
        c.skip(1);
        break;
      case kDefaultTableEncryption:
        c.skip(1);
        break;
      case kMariaHrnow:
        s.microseconds = static_cast<std::uint32_t>(c.uint(3));
        break;
      case kMariaXid:
        c.skip(8);
        break;
      case kMariaGtidFlags3:
        c.skip(1);
        break;
      case kMariaCharacterSetCollations:
        c.skip(static_cast<std::size_t>(c.u8()) * 4);
        break;
      default:
        throw DecodeError("QUERY_EVENT status variable " + std::to_string(code) +
                          " is not known to pitr");
    }
  }
  return s;
}

}  // namespace pitr::binlog
