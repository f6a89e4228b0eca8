// libFuzzer target: arbitrary server packets through every MySQL protocol decoder pitr uses
// on bytes that come from the network (hostile server packets must give DecodeError).
#include <cstdint>

#include "formats/mysql_protocol/handshake.hpp"
#include "formats/mysql_protocol/packet.hpp"
#include "formats/mysql_protocol/result_set.hpp"

using namespace pitr;
namespace mp = pitr::mysql_protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes packet(data, size);
  auto attempt = [](auto&& f) {
    try {
      f();
    } catch (const DecodeError&) {
    }
  };
  attempt([&] { mp::decode_initial_handshake(packet); });
  attempt([&] { mp::decode_err_packet(packet); });
  attempt([&] { mp::decode_auth_switch(packet); });
  attempt([&] { mp::decode_column_count(packet); });
  attempt([&] { mp::decode_column_name(packet); });
  attempt([&] { mp::decode_text_row(packet, size % 7); });
  return 0;
}
