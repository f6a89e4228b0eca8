#include "capture/postgres/replication_stream.hpp"

#include <fmt/format.h>

namespace pitr::capture {

namespace asio = boost::asio;

ReplicationStream::ReplicationStream(PgConnection& connection, asio::io_context& io)
    : conn_(connection), io_(io), socket_(io, connection.socket()), timer_(io) {}

ReplicationStream::~ReplicationStream() {
  release_buffer();
  socket_.release();  // libpq owns the descriptor
}

void ReplicationStream::release_buffer() {
  if (buffer_) PQfreemem(buffer_);
  buffer_ = nullptr;
}

std::optional<TimelineEnd> ReplicationStream::start(postgres::TimelineId timeline,
                                                    postgres::Lsn start, const std::string& slot) {
  auto command = fmt::format("START_REPLICATION {}PHYSICAL {} TIMELINE {}",
                             slot.empty() ? "" : "SLOT " + conn_.quote_identifier(slot) + " ",
                             postgres::format_lsn(start), timeline);
  auto r = conn_.run(command);
  if (r && PQresultStatus(r.get()) == PGRES_COPY_BOTH) return std::nullopt;
  if (r && PQresultStatus(r.get()) == PGRES_TUPLES_OK) {
    auto end = read_timeline_end(r);
    while (conn_.next_result()) {
    }
    return end;
  }
  conn_.expect(r, PGRES_COPY_BOTH, "START_REPLICATION");
  return std::nullopt;
}

TimelineEnd ReplicationStream::read_timeline_end(const PgResult& r) {
  if (PQntuples(r.get()) != 1 || PQnfields(r.get()) < 2)
    throw PgError("the server ended the replication stream without naming the next timeline");
  TimelineEnd end;
  end.next_timeline = static_cast<postgres::TimelineId>(std::stoul(PQgetvalue(r.get(), 0, 0)));
  end.next_start = postgres::parse_lsn(PQgetvalue(r.get(), 0, 1));
  return end;
}

TimelineEnd ReplicationStream::finish_copy() {
  // The copy ended. Either the server failed (e.g. the WAL asked for is gone) and its error
  // is the next result, or it sent CopyDone because its timeline ended: libpq then waits
  // for our CopyDone, and the server names where the next timeline starts.
  conn_.expect(conn_.next_result(), PGRES_COPY_IN, "streaming WAL");
  if (PQputCopyEnd(conn_.get(), nullptr) <= 0 || PQflush(conn_.get()) != 0)
    conn_.fail("ending the replication stream");
  auto r = conn_.next_result();
  if (r && PQresultStatus(r.get()) == PGRES_COMMAND_OK)
    throw PgError(fmt::format("the server on {} ended the replication stream (shutting down?)",
                              conn_.describe()));
  conn_.expect(r, PGRES_TUPLES_OK, "the end of a timeline");
  auto end = read_timeline_end(r);
  while (auto more = conn_.next_result()) conn_.expect(more, PGRES_COMMAND_OK, "START_REPLICATION");
  return end;
}

bool ReplicationStream::wait_readable(std::chrono::steady_clock::time_point deadline) {
  bool readable = false, socket_done = false, timer_done = false;
  socket_.async_wait(asio::posix::stream_descriptor::wait_read,
                     [&](const boost::system::error_code& ec) {
                       socket_done = true;
                       readable = !ec;
                       timer_.cancel();
                     });
  timer_.expires_at(deadline);
  timer_.async_wait([&](const boost::system::error_code& ec) {
    timer_done = true;
    if (!ec) socket_.cancel();
  });
  io_.restart();
  while (!(socket_done && timer_done)) io_.run_one();
  return readable;
}

void ReplicationStream::cancel() {
  boost::system::error_code ignored;
  socket_.cancel(ignored);
  timer_.cancel();
}

StreamItem ReplicationStream::next(std::chrono::steady_clock::time_point deadline) {
  release_buffer();
  while (true) {
    int n = PQgetCopyData(conn_.get(), &buffer_, 1);
    if (n > 0) {
      auto message = postgres::parse_server_message(
          Bytes(reinterpret_cast<const std::uint8_t*>(buffer_), static_cast<std::size_t>(n)));
      if (auto* d = std::get_if<postgres::XLogData>(&message)) return *d;
      return std::get<postgres::Keepalive>(message);
    }
    if (n == -1) return finish_copy();
    if (n == -2) conn_.fail("reading the replication stream");
    if (!wait_readable(deadline)) return NothingYet{};
    if (!PQconsumeInput(conn_.get())) conn_.fail("reading the replication stream");
  }
}

void ReplicationStream::send_status(const postgres::StandbyStatus& status) {
  auto message = postgres::encode_standby_status(status);
  if (PQputCopyData(conn_.get(), reinterpret_cast<const char*>(message.data()),
                    static_cast<int>(message.size())) <= 0 ||
      PQflush(conn_.get()) != 0)
    conn_.fail("sending a standby status update");
}

}  // namespace pitr::capture
