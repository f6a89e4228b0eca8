#include "clients/clickhouse/clickhouse_client.hpp"

#include <fmt/format.h>

#include <regex>

#include "archive/storage/http_client.hpp"
#include "formats/clickhouse/tab_separated.hpp"
#include "formats/s3/s3_messages.hpp"

namespace pitr::clients {
namespace {

constexpr std::size_t kConnections = 4;
constexpr std::chrono::seconds kStallTimeout{300};
// Error codes of ClickHouse (src/Common/ErrorCodes.cpp) that mean "who you are".
constexpr int kUnknownUser = 192, kWrongPassword = 193, kRequiredPassword = 194,
              kIpNotAllowed = 195, kAuthenticationFailed = 516;

// "Code: 60, e.displayText() = DB::Exception: Table x.y doesn't exist., e.what() = ..."
int error_code(const std::string& body) {
  static const std::regex code(R"(Code: (\d+))");
  std::smatch m;
  return std::regex_search(body, m, code) ? std::stoi(m[1].str()) : 0;
}

std::string error_text(std::string body) {
  if (auto at = body.find(", e.what() = "); at != std::string::npos) body.resize(at);
  while (!body.empty() && (body.back() == '\n' || body.back() == ' ')) body.pop_back();
  return body;
}

}  // namespace

ClickHouseClient::ClickHouseClient(ClickHouseEndpoint endpoint)
    : endpoint_(std::move(endpoint)),
      http_(std::make_unique<storage::HttpClient>(
          storage::HttpBasicAuth{endpoint_.user, endpoint_.password}, kConnections,
          kStallTimeout)) {}

ClickHouseClient::~ClickHouseClient() = default;

std::string ClickHouseClient::describe() const {
  return fmt::format("ClickHouse at {}:{}", endpoint_.host, endpoint_.port);
}

std::string ClickHouseClient::post(const std::string& url, Bytes body,
                                   const std::function<void(Bytes)>* sink) {
  storage::HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.body = body;
  request.headers = {"Content-Type: application/octet-stream"};
  if (sink) {
    request.sink = *sink;
    request.stream_status = 200;
  }
  storage::HttpResponse response;
  try {
    response = http_->perform(request);
  } catch (const storage::HttpTransportError& e) {
    throw std::runtime_error(
        fmt::format("cannot reach {} (is the server running, and is {} its HTTP port?): {}",
                    describe(), endpoint_.port, e.what()));
  }
  if (response.status == 200) return std::move(response.body);
  auto code = error_code(response.body);
  auto text = error_text(response.body);
  if (code == kUnknownUser || code == kWrongPassword || code == kRequiredPassword ||
      code == kIpNotAllowed || code == kAuthenticationFailed || response.status == 401 ||
      response.status == 403)
    throw ClickHouseError(
        fmt::format("{} refused user '{}': {} (check the user, and the password in "
                    "PITR_PASSWORD or --password-file)",
                    describe(), endpoint_.user, text),
        code);
  throw ClickHouseError(fmt::format("{}: {}", describe(),
                                    text.empty() ? fmt::format("HTTP {}", response.status) : text),
                        code);
}

// wait_end_of_query: the server answers once the statement is done, so that an error is an
// HTTP error rather than text appended to a body already under way.
std::string ClickHouseClient::url(const std::string& query) const {
  return fmt::format("http://{}:{}/?wait_end_of_query=1{}", endpoint_.host, endpoint_.port,
                     query.empty() ? "" : "&query=" + s3::uri_encode(query, false));
}

std::string ClickHouseClient::execute(const std::string& sql) {
  return post(url(), as_bytes(sql), nullptr);
}

std::vector<std::vector<std::string>> ClickHouseClient::rows(const std::string& sql) {
  return clickhouse::parse_tab_separated(execute(sql));
}

void ClickHouseClient::stream(const std::string& sql, const std::function<void(Bytes)>& sink) {
  post(url(), as_bytes(sql), &sink);
}

void ClickHouseClient::insert(const std::string& sql, Bytes data) {
  post(url(sql), data, nullptr);
}

}  // namespace pitr::clients
