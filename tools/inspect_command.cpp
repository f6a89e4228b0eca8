// pitr inspect FILE...: one line per event of binlog files.
#include <fmt/format.h>

#include "archive/file_io.hpp"
#include "formats/binlog/event_reader.hpp"
#include "formats/binlog/event_types.hpp"
#include "formats/binlog/transaction_payload.hpp"
#include "tools/commands.hpp"
#include "tools/event_description.hpp"

namespace pitr::tools {
namespace {

struct InspectOptions {
  std::vector<std::string> files;
  bool json = false;
  bool no_checksums = false;
};

std::string type_name(std::uint8_t type) {
  auto name = binlog::event_type_name(type);
  return name.empty() ? fmt::format("UNKNOWN_{}", type) : std::string(name);
}

void print_event(const binlog::Event& ev, const binlog::FormatDescription& fd, bool json,
                 const std::string& file, const char* inside) {
  auto extra = describe_event(ev, fd);
  if (json) {
    nlohmann::json j = {{"file", file},
                        {"pos", ev.offset},
                        {"type", ev.header.type},
                        {"name", type_name(ev.header.type)},
                        {"time", ev.header.timestamp},
                        {"server_id", ev.header.server_id},
                        {"size", ev.header.event_size},
                        {"next_pos", ev.header.log_pos},
                        {"flags", ev.header.flags}};
    if (inside) j["inside"] = inside;
    j.update(extra);
    fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  std::string details;
  for (auto& [key, value] : extra.items())
    details +=
        fmt::format(" {}={}", key, value.is_string() ? value.get<std::string>() : value.dump());
  fmt::print("{}{:>10} {:>3} {:<28} time={} server_id={} size={} next={}{}\n", inside ? "  " : "",
             ev.offset, ev.header.type, type_name(ev.header.type), ev.header.timestamp,
             ev.header.server_id, ev.header.event_size, ev.header.log_pos, details);
}

void inspect_payload(const binlog::Event& ev, const binlog::FormatDescription& fd, bool json,
                     const std::string& file) {
  auto payload =
      binlog::decompress_transaction_payload(binlog::decode_transaction_payload(ev.data, fd));
  auto inner = binlog::EventReader::inner_events(
      payload, fmt::format("{} (payload at {})", file, ev.offset), fd);
  while (auto e = inner.next()) print_event(*e, inner.format(), json, file, "payload");
}

int inspect(const InspectOptions& o) {
  for (const auto& file : o.files) {
    archive::MappedFile map(file);
    binlog::EventReader reader(map.bytes(), file, {!o.no_checksums, true});
    while (auto ev = reader.next()) {
      print_event(*ev, reader.format(), o.json, file, nullptr);
      if (ev->header.type == static_cast<std::uint8_t>(binlog::EventType::kTransactionPayload))
        inspect_payload(*ev, reader.format(), o.json, file);
    }
  }
  return kExitOk;
}

}  // namespace

CommandRunner add_inspect_command(CLI::App& app) {
  auto o = std::make_shared<InspectOptions>();
  auto* cmd = app.add_subcommand("inspect", "List the events of binlog files, one per line");
  cmd->add_option("files", o->files, "Binlog files to read")->required()->check(CLI::ExistingFile);
  cmd->add_flag("--json", o->json, "One JSON object per event");
  cmd->add_flag("--no-checksums", o->no_checksums, "Do not verify event checksums");
  return [o] { return inspect(*o); };
}

}  // namespace pitr::tools
