#include "tools/pg_restore.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "archive/storage/archive_url.hpp"
#include "archive/storage/encryption_key.hpp"
#include "archive/storage/s3_store.hpp"
#include "formats/hex.hpp"
#include "formats/iso_time.hpp"
#include "replay/postgres/pg_data_restore.hpp"
#include "tools/commands.hpp"
#include "tools/usage_error.hpp"

namespace pitr::tools {
namespace {

namespace fs = std::filesystem;
using Kind = replay::PgRestoreTarget::Kind;

replay::PgRestoreTarget make_target(const PgRestoreArgs& a) {
  replay::PgRestoreTarget t;
  t.source = a.source_id;
  t.timeline = a.timeline;
  t.backup = a.backup;
  if (a.to_time) {
    t.kind = Kind::kTime;
    t.time = parse_option("--to-time", *a.to_time, kIsoTimeForm, parse_iso_time_micros);
  } else if (a.to_lsn) {
    t.kind = Kind::kLsn;
    t.lsn = parse_option("--to-lsn", *a.to_lsn, "an LSN like 0/3000028",
                         [](const std::string& text) { return postgres::parse_lsn(text); });
  } else if (a.to_xid) {
    t.kind = Kind::kXid;
    t.xid = *a.to_xid;
  } else if (a.to_name) {
    t.kind = Kind::kName;
    t.name = *a.to_name;
  } else if (a.immediate) {
    t.kind = Kind::kImmediate;
  }
  return t;
}

// Beside the data directory, not inside it (backups of the restored server would copy
// them): what `pitr wal-fetch` needs that must not go into postgresql.auto.conf, the
// credentials of an archive in object storage and the key of an encrypted one.
fs::path private_file(const fs::path& pgdata, const std::string& suffix) {
  auto dir = pgdata.lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();  // "/srv/pg/" names /srv/pg
  return dir.parent_path() / (dir.filename().string() + suffix);
}

fs::path credentials_file(const fs::path& pgdata) {
  return private_file(pgdata, ".pitr-credentials");
}

fs::path key_file(const fs::path& pgdata) {
  return private_file(pgdata, ".pitr-key");
}

// Writes them, readable by the server's OS user alone.
void share_credentials(const fs::path& file, const std::string& run_as) {
  auto c = storage::load_s3_credentials();
  auto text = fmt::format("[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
                          c.access_key_id, c.secret_access_key);
  if (!c.session_token.empty()) text += fmt::format("aws_session_token = {}\n", c.session_token);
  replay::write_private_file(file, text, run_as);
}

void share_key(const storage::EncryptionKey& key, const fs::path& file, const std::string& run_as) {
  auto text = to_hex(Bytes(key.bytes().data(), key.bytes().size()));
  replay::write_private_file(file, text, run_as);
  OPENSSL_cleanse(text.data(), text.size());
}

// `pitr wal-fetch` for the archive the restore reads. The archive's location and options
// go into postgresql.auto.conf; credentials and keys never do, only the files that hold them.
std::string restore_command(const ArchiveArgs& archive, const std::string& source,
                            const fs::path& pgdata) {
  auto self = fs::read_symlink("/proc/self/exe");
  auto url = storage::parse_archive_url(archive.url);
  std::string where, environment;
  if (url.kind == storage::ArchiveUrl::Kind::kLocal) {
    where = replay::shell_quote(fs::absolute(url.path).string());
  } else {
    // The server's environment has none of the AWS_* settings this restore may have used.
    auto s3 = storage::with_environment({archive.s3_endpoint, archive.s3_region, false, {}});
    where = replay::shell_quote(archive.url);
    if (s3.endpoint) where += " --s3-endpoint " + replay::shell_quote(*s3.endpoint);
    where += " --s3-region " + replay::shell_quote(*s3.region);
    if (archive.s3_virtual_host) where += " --s3-virtual-host";
    if (archive.s3_timeout) where += fmt::format(" --s3-timeout {}", *archive.s3_timeout);
    environment = fmt::format("AWS_SHARED_CREDENTIALS_FILE={} AWS_PROFILE=default ",
                              replay::shell_quote(credentials_file(pgdata).string()));
    // The plan may end in the open tail of a capture on this host: wal-fetch reads it too.
    if (archive.spool)
      where += " --spool " + replay::shell_quote(fs::absolute(*archive.spool).string());
  }
  if (archive.encryption_key_file)
    where += " --encryption-key-file " + replay::shell_quote(key_file(pgdata).string());
  return fmt::format("{}{} wal-fetch --archive {} --source-id {} %f %p", environment,
                     replay::shell_quote(self.string()), where, replay::shell_quote(source));
}

}  // namespace

int run_pg_restore(const PgRestoreArgs& a) {
  auto target = make_target(a);  // a bad command line is told before the archive is read
  auto archive = open_archive(a.archive, SpoolUse::kOptional);
  archive.check_exists();
  auto plan = replay::plan_pg_restore(archive, target);
  fmt::print(stderr, "plan: {}\n", plan.description);
  if (a.dry_run) return kExitOk;
  auto started = std::chrono::steady_clock::now();
  replay::PgDataOptions o;
  o.pgdata = fs::absolute(a.pgdata);
  o.run_as = a.run_as.empty() && ::geteuid() == 0 ? "postgres" : a.run_as;
  o.progress = ::isatty(STDERR_FILENO);
  for (const auto& m : a.tablespace_map) {
    auto eq = m.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == m.size())
      throw UsageError("--tablespace-map wants OLD=NEW, got '" + m + "'");
    o.tablespace_map[m.substr(0, eq)] = m.substr(eq + 1);
  }
  o.restore_command = restore_command(a.archive, plan.source_id, o.pgdata);
  auto written = replay::write_restored_pgdata(archive, plan, o);
  if (storage::parse_archive_url(a.archive.url).kind == storage::ArchiveUrl::Kind::kS3)
    share_credentials(credentials_file(o.pgdata), o.run_as);
  if (archive.encryption_key()) share_key(*archive.encryption_key(), key_file(o.pgdata), o.run_as);
  fmt::print(stderr, "wrote base backup {} ({} files) into {} with recovery settings\n",
             plan.backup.id, written.files, o.pgdata.string());
  std::vector<fs::path> secrets;
  for (const auto& f : {credentials_file(o.pgdata), key_file(o.pgdata)})
    if (fs::exists(f)) secrets.push_back(f);
  if (!a.start) {
    fmt::print(stderr,
               "start the server on it to recover (recovery.signal is set), or run pitr "
               "restore with --start\n");
    for (const auto& f : secrets)
      fmt::print(stderr, "once it is promoted, remove {}: the server needs it only to recover\n",
                 f.string());
    return kExitOk;
  }
  replay::PgServerStart s;
  s.pgdata = o.pgdata;
  s.pg_version = written.pg_version;
  s.port = a.port.value_or(5432);
  s.run_as = o.run_as;
  s.progress = o.progress;
  auto stopped = replay::start_restored_server(s);
  // Promoted: the server needs no archive any more, and its OS user (a superuser's
  // pg_read_binary_file too) should not keep the keys to it.
  for (const auto& f : secrets) fs::remove(f);
  fmt::print(stderr, "recovered and promoted in {:.1f} s; the server listens on 127.0.0.1:{}\n{}\n",
             std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
             s.port, stopped.empty() ? "" : "server log: " + stopped);
  return kExitOk;
}

}  // namespace pitr::tools
