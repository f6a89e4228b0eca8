#pragma once
// The subcommands of the `pitr` binary. Each registers its options on the CLI11 app and
// returns the function that runs it, which returns the process exit code.
#include <CLI/CLI.hpp>
#include <functional>

#include "capture/capture_fatal.hpp"

namespace pitr::tools {

using CommandRunner = std::function<int()>;

// Exit codes scripts can rely on (docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // an error: the message says what and what to do
inline constexpr int kExitUsage = 2;    // bad command line
inline constexpr int kExitGap = capture::kExitGap;  // the server no longer has what capture needs
// wal-fetch: the archive has the file but cannot give it (damaged, unreadable store, wrong
// key). Above 125, so PostgreSQL stops recovery instead of taking it for the archive's end.
inline constexpr int kExitWalUnreadable = 128;

CommandRunner add_capture_command(CLI::App& app);
CommandRunner add_status_command(CLI::App& app);
CommandRunner add_get_command(CLI::App& app);
CommandRunner add_verify_command(CLI::App& app);
CommandRunner add_inspect_command(CLI::App& app);
CommandRunner add_find_command(CLI::App& app);
CommandRunner add_log_command(CLI::App& app);
CommandRunner add_backup_command(CLI::App& app);
CommandRunner add_restore_command(CLI::App& app);
CommandRunner add_wal_fetch_command(CLI::App& app);
CommandRunner add_expire_command(CLI::App& app);

}  // namespace pitr::tools
