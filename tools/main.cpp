// pitr: continuous binlog archiving and point-in-time restore.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <map>

#include "capture/interruption.hpp"
#include "tools/commands.hpp"
#include "tools/usage_error.hpp"

int main(int argc, char** argv) {
  using namespace pitr::tools;
  CLI::App app{
      "pitr: continuous archiving of MySQL/MariaDB binlogs and PostgreSQL WAL, byte for byte, "
      "and point-in-time restore"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("pitr 0.1.0"));
  std::map<CLI::App*, CommandRunner> runners;
  for (auto add : {add_capture_command, add_status_command, add_get_command, add_verify_command,
                   add_inspect_command, add_find_command, add_log_command, add_backup_command,
                   add_restore_command, add_wal_fetch_command, add_expire_command}) {
    auto before = app.get_subcommands({}).size();
    auto runner = add(app);
    runners[app.get_subcommands({})[before]] = std::move(runner);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  try {
    for (auto* sub : app.get_subcommands()) {
      if (sub->get_name() == "backup" || sub->get_name() == "restore")
        pitr::capture::stop_on_interruption();
      return runners.at(sub)();
    }
  } catch (const UsageError& e) {
    fmt::print(stderr, "pitr: {}\nRun with --help for more information.\n", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    if (auto signal = pitr::capture::interruption()) {
      fmt::print(stderr, "pitr: {}; stopped cleanly ({})\n",
                 pitr::capture::InterruptedError(*signal).what(), e.what());
      return 128 + *signal;
    }
    fmt::print(stderr, "pitr: error: {}\n", e.what());
    return kExitFailure;
  }
  return kExitUsage;
}
