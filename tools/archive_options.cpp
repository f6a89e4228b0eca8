#include "tools/archive_options.hpp"

#include "archive/storage/archive_url.hpp"
#include "archive/storage/encrypted_store.hpp"
#include "archive/storage/read_ahead_store.hpp"
#include "tools/usage_error.hpp"

namespace pitr::tools {
namespace {

constexpr const char* kDefaultSpoolRoot = "/var/lib/pitr/spool";

}  // namespace

void add_archive_options(CLI::App* cmd, ArchiveArgs& args, SpoolUse spool,
                         const std::string& help) {
  cmd->add_option("--archive", args.url, help)->required();
  const char* group = "Object storage (with an s3:// archive)";
  cmd->add_option("--s3-endpoint", args.s3_endpoint,
                  "S3 endpoint URL, e.g. http://127.0.0.1:7480 (default: AWS_ENDPOINT_URL, or "
                  "AWS itself); with an endpoint, buckets are addressed in the path")
      ->group(group);
  cmd->add_option("--s3-region", args.s3_region,
                  "Region the requests are signed for (default: AWS_REGION, or us-east-1)")
      ->group(group);
  cmd->add_flag("--s3-virtual-host", args.s3_virtual_host,
                "Address the bucket in the host name even with --s3-endpoint")
      ->group(group);
  cmd->add_option("--s3-timeout", args.s3_timeout,
                  "Seconds without progress (retries included) before a request to the store "
                  "fails (default 120)")
      ->check(CLI::Range(1u, 86400u))
      ->group(group);
  cmd->add_option("--encryption-key-file", args.encryption_key_file,
                  "File holding the archive's AES-256 key (32 bytes, or 64 hex digits as "
                  "`openssl rand -hex 32` prints them); a new archive is encrypted with it, an "
                  "encrypted one needs it")
      ->envname("PITR_ENCRYPTION_KEY_FILE");
  if (spool == SpoolUse::kNone) return;
  cmd->add_option("--spool", args.spool,
                  spool == SpoolUse::kWrites
                      ? "Local directory for the open tail of the log before it is sealed into "
                        "object storage (default: /var/lib/pitr/spool/BUCKET/PREFIX; a local "
                        "archive is its own spool)"
                      : "The capture's spool directory, to include the open tail of an archive "
                        "in object storage (a local archive is its own spool)")
      ->group(group);
}

archive::Archive open_archive(const ArchiveArgs& args, SpoolUse spool, bool read_ahead) {
  storage::ArchiveUrl url;
  try {
    url = storage::parse_archive_url(args.url);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());  // it names --archive and the forms it takes
  }
  storage::S3Options s3{args.s3_endpoint, args.s3_region, args.s3_virtual_host, std::nullopt};
  if (args.s3_timeout) s3.deadline = std::chrono::seconds(*args.s3_timeout);
  std::shared_ptr<storage::ObjectStore> store = storage::open_archive_store(url, s3);
  if (read_ahead && !store->capabilities().local_files)
    store = std::make_shared<storage::ReadAheadStore>(store);
  std::shared_ptr<const storage::EncryptionKey> key;
  if (args.encryption_key_file) {
    key = std::make_shared<const storage::EncryptionKey>(
        storage::EncryptionKey::from_file(*args.encryption_key_file));
    store = std::make_shared<storage::EncryptedStore>(
        store, *key, std::set<std::string>{archive::layout::kMarker});
  }
  std::optional<archive::fs::path> spool_dir;
  if (url.kind == storage::ArchiveUrl::Kind::kLocal)
    spool_dir = url.path;
  else if (args.spool)
    spool_dir = *args.spool;
  else if (spool == SpoolUse::kWrites)
    spool_dir = archive::fs::path(kDefaultSpoolRoot) / url.bucket / url.prefix;
  archive::Archive archive(store, spool_dir, key);
  archive.check_if_exists();
  return archive;
}

}  // namespace pitr::tools
