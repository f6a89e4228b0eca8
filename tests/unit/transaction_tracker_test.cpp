// Transaction boundaries found in real binlogs, checked against what the events say.
#include <gtest/gtest.h>

#include "archive/file_io.hpp"
#include "formats/binlog/event_bodies.hpp"
#include "formats/binlog/event_reader.hpp"
#include "formats/binlog/event_types.hpp"
#include "formats/binlog/transaction_tracker.hpp"
#include "tests/unit/fixture_path.hpp"

namespace pitr::binlog {
namespace {

// The test suite; the class under test is binlog::TransactionTracker, named in full below.
using TransactionTracker = test::FixtureFiles;

bool is(const Event& ev, EventType t) {
  return ev.header.type == static_cast<std::uint8_t>(t);
}

TEST_F(TransactionTracker, BoundariesInEveryFixture) {
  for (std::string name :
       {"mysql-bin.checksum-crc32", "mysql-bin.checksum-none", "mariadb-bin.000001",
        "json.binlog.000001", "mysql-enum-string-set.000001", "ver_trunk_row_v2.001",
        "update-full-row.binlog", "binlog_transaction_with_GTID.000001", "mysql-bin.compressed"}) {
    SCOPED_TRACE(name);
    archive::MappedFile map(test::fixture(name));
    EventReader reader(map.bytes(), name);
    binlog::TransactionTracker tracker;
    std::uint64_t xids = 0, completed = 0;
    while (auto ev = reader.next()) {
      tracker.feed(ev->header, ev->data, reader.format());
      if (tracker.completed_transaction()) ++completed;
      if (is(*ev, EventType::kXid) || is(*ev, EventType::kTransactionPayload)) {
        ++xids;
        EXPECT_TRUE(tracker.at_boundary()) << "after the commit at " << ev->offset;
        EXPECT_TRUE(tracker.completed_transaction());
      }
      if (is(*ev, EventType::kGtid) || is(*ev, EventType::kAnonymousGtid) ||
          is(*ev, EventType::kMariaGtid) || is(*ev, EventType::kTableMap)) {
        EXPECT_FALSE(tracker.at_boundary()) << "inside a transaction at " << ev->offset;
      }
      if (is(*ev, EventType::kQuery)) {
        auto q = decode_query(ev->data, reader.format()).query;
        if (q == "BEGIN") {
          EXPECT_FALSE(tracker.at_boundary()) << ev->offset;
        }
        if (q == "COMMIT") {
          EXPECT_TRUE(tracker.at_boundary()) << ev->offset;
        }
      }
      if (is(*ev, EventType::kFormatDescription) || is(*ev, EventType::kRotate)) {
        EXPECT_TRUE(tracker.at_boundary()) << ev->offset;
      }
    }
    EXPECT_TRUE(tracker.at_boundary()) << "the file ends inside a transaction";
    EXPECT_GE(completed, xids);
  }
}

TEST_F(TransactionTracker, GtidOfTheTransactionIsReported) {
  archive::MappedFile map(test::fixture("mariadb-bin.000001"));
  EventReader reader(map.bytes(), "mariadb-bin.000001");
  binlog::TransactionTracker tracker;
  std::vector<std::string> gtids;
  while (auto ev = reader.next()) {
    tracker.feed(ev->header, ev->data, reader.format());
    if (tracker.completed_transaction() && tracker.gtid()) gtids.push_back(*tracker.gtid());
  }
  // The file's two GTID events (SOURCES.md: two of type 162), in order.
  ASSERT_EQ(gtids.size(), 2u);
  EXPECT_NE(gtids[0], gtids[1]);
  EXPECT_EQ(gtids[0].substr(0, 2), "0-");
}

}  // namespace
}  // namespace pitr::binlog
