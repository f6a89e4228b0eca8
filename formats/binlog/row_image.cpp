#include "formats/binlog/row_image.hpp"

#include <bit>

#include "formats/binlog/column_type.hpp"
#include "formats/binlog/event_types.hpp"

namespace pitr::binlog {
namespace {

std::size_t metadata_bytes(std::uint8_t type) {
  switch (type) {
    case kFloat:
    case kDouble:
    case kBlob:
    case kTinyBlob:
    case kMediumBlob:
    case kLongBlob:
    case kGeometry:
    case kJson:
    case kVector:
    case kTimestamp2:
    case kDateTime2:
    case kTime2:
      return 1;
    case kVarchar:
    case kVarString:
    case kBit:
    case kNewDecimal:
    case kString:
    case kEnum:
    case kSet:
      return 2;
    default:
      return 0;
  }
}

std::size_t decimal_size(unsigned precision, unsigned scale) {
  static constexpr std::size_t kDigitBytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
  if (scale > precision) throw DecodeError("DECIMAL column with scale above precision");
  unsigned integral = precision - scale;
  return integral / 9 * 4 + kDigitBytes[integral % 9] + scale / 9 * 4 + kDigitBytes[scale % 9];
}

std::size_t length_prefixed(std::size_t prefix, Bytes value) {
  ByteCursor c(value, "row value");
  return prefix + static_cast<std::size_t>(c.uint(prefix));
}

std::size_t popcount(Bytes bitmap, std::size_t bits) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < bits; ++i) n += (bitmap[i / 8] >> (i % 8)) & 1;
  return n;
}

bool bit(Bytes bitmap, std::size_t i) {
  return (bitmap[i / 8] >> (i % 8)) & 1;
}

}  // namespace

std::size_t stored_value_size(std::uint8_t type, std::uint16_t meta, Bytes value) {
  switch (type) {
    case kTiny:
    case kYear:
      return 1;
    case kShort:
      return 2;
    case kInt24:
    case kDate:
    case kNewDate:
    case kTime:
      return 3;
    case kLong:
    case kTimestamp:
      return 4;
    case kLongLong:
    case kDateTime:
      return 8;
    case kFloat:
      return meta ? meta : 4;
    case kDouble:
      return meta ? meta : 8;
    case kNull:
      return 0;
    case kTimestamp2:
      return 4 + (meta + 1) / 2;
    case kDateTime2:
      return 5 + (meta + 1) / 2;
    case kTime2:
      return 3 + (meta + 1) / 2;
    case kBit:
      return (meta >> 8) + ((meta & 0xff) ? 1 : 0);
    case kNewDecimal:
      return decimal_size(meta >> 8, meta & 0xff);
    case kVarchar:
    case kVarString:
      return length_prefixed(meta > 255 ? 2 : 1, value);
    case kBlob:
    case kTinyBlob:
    case kMediumBlob:
    case kLongBlob:
    case kGeometry:
    case kJson:
    case kVector:
      if (meta < 1 || meta > 4)
        throw DecodeError("BLOB column with a length prefix of " + std::to_string(meta) + " bytes");
      return length_prefixed(meta, value);
    case kEnum:
    case kSet:
      return meta & 0xff;
    case kString: {
      std::uint8_t real = meta >> 8;
      std::uint8_t low = meta & 0xff;
      if (real == kEnum || real == kSet) return low;
      // Lengths above 255 keep their high bits, inverted, in bits 4-5 of the type byte.
      std::size_t max_length = ((((real >> 4) & 0x03) ^ 0x03) << 8) | low;
      return length_prefixed(max_length > 255 ? 2 : 1, value);
    }
    default:
      throw DecodeError("column type " + std::to_string(type) + " is not known to pitr");
  }
}

TableSchema decode_table_schema(Bytes event, const FormatDescription& fd) {
  auto type = static_cast<std::uint8_t>(EventType::kTableMap);
  ByteCursor c(event, "TABLE_MAP_EVENT");
  c.skip(fd.common_header_length);
  TableSchema t;
  auto post = fd.post_header_length(type);
  t.table_id = c.uint(post == 6 ? 4 : 6);
  c.u16();
  if (post > 8) c.skip(post - 8);
  t.database = std::string(c.text(c.u8()));
  c.u8();
  t.table = std::string(c.text(c.u8()));
  c.u8();
  auto columns = c.lenenc();
  auto types = c.bytes(columns);
  t.types.assign(types.begin(), types.end());
  ByteCursor meta(c.bytes(c.lenenc()), "TABLE_MAP_EVENT metadata");
  for (auto column_type : t.types) {
    auto n = metadata_bytes(column_type);
    if (n == 2 && (column_type == kString || column_type == kEnum || column_type == kSet)) {
      std::uint16_t high = meta.u8();  // stored big-endian: real type first
      t.metadata.push_back(static_cast<std::uint16_t>(high << 8 | meta.u8()));
    } else if (n == 2 && column_type == kBit) {
      std::uint16_t bits = meta.u8();
      t.metadata.push_back(static_cast<std::uint16_t>(meta.u8() << 8 | bits));
    } else if (n == 2 && column_type == kNewDecimal) {
      std::uint16_t precision = meta.u8();
      t.metadata.push_back(static_cast<std::uint16_t>(precision << 8 | meta.u8()));
    } else {
      t.metadata.push_back(static_cast<std::uint16_t>(meta.uint(n)));
    }
  }
  c.bytes((t.types.size() + 7) / 8);  // which columns may be NULL
  t.optional = decode_table_map_metadata(c.peek_rest(), t.types, t.metadata);
  return t;
}

namespace {

// A rows event's column bitmaps and the cursor at its first row image; nullopt for the
// kinds whose images pitr does not walk.
struct RowsBody {
  ByteCursor cursor;
  Bytes before, after;
  bool update;
};

std::optional<RowsBody> rows_body(Bytes event, const FormatDescription& fd,
                                  const TableSchema& table) {
  auto type = event[4];
  if (type >= 166 || type == static_cast<std::uint8_t>(EventType::kPartialUpdateRows))
    return std::nullopt;
  ByteCursor c(event, "rows event");
  c.skip(fd.common_header_length);
  auto post = fd.post_header_length(type);
  c.skip(post == 6 ? 4 : 6);
  c.u16();  // flags
  bool v2 = type >= 30 && type <= 32;
  if (v2) {
    auto extra = c.u16();
    if (extra < 2) throw DecodeError("rows event extra data length below 2");
    c.skip(extra - 2);
  }
  auto columns = c.lenenc();
  if (columns != table.types.size())
    throw DecodeError("rows event has " + std::to_string(columns) + " columns, its TABLE_MAP " +
                      std::to_string(table.types.size()));
  auto before = c.bytes((columns + 7) / 8);
  bool update = rows_kind(type) == RowsKind::kUpdate;
  auto after = update ? c.bytes((columns + 7) / 8) : before;
  // A row image must take bytes, or the rows after it could never be walked: an image of
  // no columns is possible only in an event that has no rows.
  auto present = [&](Bytes bitmap) { return popcount(bitmap, columns) > 0; };
  if (!c.empty() && (!present(before) || (update && !present(after))))
    throw DecodeError("rows event with row data but no columns in its images");
  return RowsBody{c, before, after, update};
}

// Moves the cursor past one row image, giving its columns in `image` unless it is null.
void read_image(ByteCursor& c, const TableSchema& t, Bytes present, RowImage* image) {
  auto columns = t.types.size();
  if (image) image->assign(columns, ColumnValue{});
  auto nulls = c.bytes((popcount(present, columns) + 7) / 8);
  std::size_t k = 0;  // index among the present columns
  for (std::size_t i = 0; i < columns; ++i) {
    if (!bit(present, i)) continue;
    if (bit(nulls, k++)) {
      if (image) (*image)[i].state = ColumnValue::kNull;
      continue;
    }
    auto value = c.bytes(stored_value_size(t.types[i], t.metadata[i], c.peek_rest()));
    if (image) (*image)[i] = {ColumnValue::kValue, value};
  }
}

}  // namespace

std::optional<std::uint64_t> count_rows(Bytes event, const FormatDescription& fd,
                                        const TableSchema& table) {
  auto body = rows_body(event, fd, table);
  if (!body) return std::nullopt;
  std::uint64_t rows = 0;
  while (!body->cursor.empty()) {
    read_image(body->cursor, table, body->before, nullptr);
    if (body->update) read_image(body->cursor, table, body->after, nullptr);
    ++rows;
  }
  return rows;
}

bool for_each_row_image(Bytes event, const FormatDescription& fd, const TableSchema& table,
                        const std::function<void(const RowImage&)>& visit) {
  auto body = rows_body(event, fd, table);
  if (!body) return false;
  RowImage image;
  while (!body->cursor.empty()) {
    read_image(body->cursor, table, body->before, &image);
    visit(image);
    if (!body->update) continue;
    read_image(body->cursor, table, body->after, &image);
    visit(image);
  }
  return true;
}

}  // namespace pitr::binlog
