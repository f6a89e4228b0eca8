#include "archive/storage/http_client.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace pitr::storage {

namespace {

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

struct Transfer {
  curl_socket_t socket;  // the connection's, for acknowledge_now
  const HttpRequest* request;
  HttpResponse* response;
  std::size_t sent = 0;
  std::exception_ptr sink_failure;  // never let an exception cross libcurl's C frames
};

// Ceph's gateway writes an answer's headers and its body in two sends. With Nagle's algorithm
// on its side and delayed ACKs on ours, a small body then waits some 40 ms for our ACK of the
// headers: every small GET or listing took 44 ms on loopback. Once the headers are in, the
// kernel is asked to send that ACK at once.
void acknowledge_now(curl_socket_t socket) {
  if (socket == CURL_SOCKET_BAD) return;
  int on = 1;
  setsockopt(socket, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);  // a hint: failure is harmless
}

// Which socket a transfer runs on: the one its handle's previous transfer left open (asked
// before curl_easy_reset forgets it), unless curl opens a new one, which this records.
int on_new_socket(void* user, curl_socket_t socket, curlsocktype) {
  static_cast<Transfer*>(user)->socket = socket;
  return CURL_SOCKOPT_OK;
}

curl_socket_t kept_socket(CURL* curl) {
  curl_socket_t socket = CURL_SOCKET_BAD;
  if (curl_easy_getinfo(curl, CURLINFO_ACTIVESOCKET, &socket) != CURLE_OK) return CURL_SOCKET_BAD;
  return socket;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, size * count);
  if (line == "\r\n") acknowledge_now(t->socket);
  if (line.starts_with("HTTP/")) {  // a new answer (also after a 100 Continue)
    t->response->headers.clear();
    auto space = line.find(' ');
    if (space != std::string::npos)
      t->response->status = std::strtol(line.c_str() + space + 1, nullptr, 10);
  }
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto value = line.substr(colon + 1);
    auto first = value.find_first_not_of(" \t");
    auto last = value.find_last_not_of(" \t\r\n");
    t->response->headers[name] =
        first == std::string::npos ? "" : value.substr(first, last - first + 1);
  }
  return size * count;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  auto n = size * count;
  // The status is known once the headers are in: only a 2xx body goes to the sink.
  auto status = t->response->status;
  bool wanted = t->request->stream_status ? status == t->request->stream_status
                                          : status >= 200 && status < 300;
  if (t->request->sink && wanted) {
    try {
      t->request->sink(Bytes(reinterpret_cast<const std::uint8_t*>(data), n));
    } catch (...) {
      t->sink_failure = std::current_exception();
      return 0;  // aborts the transfer
    }
  } else {
    t->response->body.append(data, n);
  }
  return n;
}

std::size_t on_read(char* out, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  auto n = std::min(size * count, t->request->body.size() - t->sent);
  std::memcpy(out, t->request->body.data() + t->sent, n);
  t->sent += n;
  return n;
}

int on_seek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 ||
      static_cast<std::uint64_t>(offset) > t->request->body.size())
    return CURL_SEEKFUNC_FAIL;
  t->sent = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

bool retryable(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_COULDNT_RESOLVE_HOST:
      return true;
    default:
      return false;
  }
}

}  // namespace

HttpClient::HttpClient(HttpAuth auth, std::size_t max_connections,
                       std::chrono::seconds stall_timeout)
    : auth_(std::move(auth)),
      timeout_(stall_timeout),
      max_connections_(std::max<std::size_t>(1, max_connections)) {
  static CurlGlobal global;
}

HttpClient::~HttpClient() {
  for (auto* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* HttpClient::acquire() {
  std::unique_lock lock(mutex_);
  available_.wait(lock, [&] { return !idle_.empty() || created_ < max_connections_; });
  if (!idle_.empty()) {
    auto* h = idle_.back();
    idle_.pop_back();
    return h;
  }
  auto* handle = curl_easy_init();
  if (!handle)
    throw HttpTransportError("libcurl could not create a handle (out of memory?)", false);
  ++created_;
  return handle;
}

void HttpClient::release(void* handle) {
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(handle);
  }
  available_.notify_one();
}

HttpResponse HttpClient::perform(const HttpRequest& request) {
  auto* curl = static_cast<CURL*>(acquire());
  struct Release {
    HttpClient* client;
    void* handle;
    ~Release() { client->release(handle); }
  } release{this, curl};
  HttpResponse response;
  Transfer transfer{kept_socket(curl), &request, &response, 0, nullptr};
  curl_easy_reset(curl);
  curl_slist* headers = nullptr;
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  struct FreeHeaders {
    curl_slist* list;
    ~FreeHeaders() { curl_slist_free_all(list); }
  } free_headers{headers};
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  std::string sigv4;
  if (const auto* signing = std::get_if<HttpSigning>(&auth_)) {
    sigv4 = fmt::format("aws:amz:{}:s3", signing->region);
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl_easy_setopt(curl, CURLOPT_USERNAME, signing->access_key_id.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, signing->secret_access_key.c_str());
  } else {
    const auto& basic = std::get<HttpBasicAuth>(auth_);
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERNAME, basic.user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, basic.password.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
  // An empty "Expect:" header would be signed but not sent; bound the 100-continue wait.
  curl_easy_setopt(curl, CURLOPT_EXPECT_100_TIMEOUT_MS, 300L);
  // A transfer may take long (a backup); one that stalls is cut.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(timeout_.count()));
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_SOCKOPTFUNCTION, on_new_socket);
  curl_easy_setopt(curl, CURLOPT_SOCKOPTDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    if (request.method == "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "POST");
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  // on_header reads the status before the body arrives: only a 2xx body is streamed.
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  auto code = curl_easy_perform(curl);
  if (transfer.sink_failure) std::rethrow_exception(transfer.sink_failure);
  if (code != CURLE_OK)
    throw HttpTransportError(
        fmt::format("{} {}: {}", request.method, request.url, curl_easy_strerror(code)),
        retryable(code));
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace pitr::storage
