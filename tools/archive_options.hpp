#pragma once
// The archive options every command shares, declared once: --archive (a directory,
// file://PATH or s3://BUCKET/PREFIX), the S3 option group, and --spool for the open tails
// of a capture, and --encryption-key-file. Credentials never come from here:
// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/ AWS_SESSION_TOKEN or the shared credentials file
// (docs/cli.md).
#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "archive/archive.hpp"

namespace pitr::tools {

struct ArchiveArgs {
  std::string url;
  std::optional<std::string> s3_endpoint, s3_region, spool;
  std::optional<std::string> encryption_key_file;
  std::optional<unsigned> s3_timeout;  // seconds
  bool s3_virtual_host = false;
};

enum class SpoolUse {
  kNone,      // the command reads sealed objects only
  kOptional,  // reads open tails too when --spool names the capture's spool
  kWrites,    // capture: open tails are written there (a default for object storage)
};

void add_archive_options(CLI::App* cmd, ArchiveArgs& args, SpoolUse spool,
                         const std::string& help =
                             "The archive: a directory, file://PATH or "
                             "s3://BUCKET/PREFIX");
// Opens the archive the options name; a local archive is its own spool. Checks an archive
// that exists against the encryption key given (or not given) before anything is read.
// `read_ahead`: the command reads many objects in an order it announces (a restore): from
// object storage they are fetched ahead, in parallel, and each once (ReadAheadStore).
archive::Archive open_archive(const ArchiveArgs& args, SpoolUse spool, bool read_ahead = false);

}  // namespace pitr::tools
