#pragma once
// The subcommands of the `pitr` binary. Each registers its options on the CLI11 app and
// returns the function that runs it, which returns the process exit code.
#include <CLI/CLI.hpp>
#include <functional>

namespace pitr::tools {

using CommandRunner = std::function<int()>;

// Exit codes scripts can rely on (docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // an error: the message says what and what to do
inline constexpr int kExitUsage = 2;    // bad command line
inline constexpr int kExitGap = 3;      // the server no longer has binlogs capture needs

CommandRunner add_capture_command(CLI::App& app);
CommandRunner add_status_command(CLI::App& app);
CommandRunner add_get_command(CLI::App& app);
CommandRunner add_verify_command(CLI::App& app);
CommandRunner add_inspect_command(CLI::App& app);
CommandRunner add_find_command(CLI::App& app);
CommandRunner add_backup_command(CLI::App& app);
CommandRunner add_restore_command(CLI::App& app);
CommandRunner add_wal_fetch_command(CLI::App& app);

}  // namespace pitr::tools
