#include "formats/s3/s3_messages.hpp"

#include <fmt/format.h>
#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include <sstream>

namespace pitr::s3 {

namespace pt = boost::property_tree;

namespace {

pt::ptree parse_xml(std::string_view xml) {
  std::istringstream in{std::string(xml)};
  pt::ptree tree;
  try {
    pt::read_xml(in, tree, pt::xml_parser::no_comments);
  } catch (const pt::xml_parser_error& e) {
    throw DecodeError(fmt::format("malformed XML from the S3 server: {}", e.message()));
  }
  return tree;
}

const pt::ptree& child(const pt::ptree& tree, const char* name, const char* document) {
  auto found = tree.get_child_optional(name);
  if (!found) throw DecodeError(fmt::format("the S3 server's {} has no <{}>", document, name));
  return *found;
}

std::uint64_t listed_size(const std::string& text) {
  auto size = parse_unsigned(text);
  if (!size) throw DecodeError("the S3 server listed an object with size '" + text + "'");
  return *size;
}

}  // namespace

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

ListObjectsResult parse_list_objects(std::string_view xml) {
  auto tree = parse_xml(xml);
  const auto& result = child(tree, "ListBucketResult", "listing");
  ListObjectsResult out;
  for (const auto& [name, node] : result) {
    if (name != "Contents") continue;
    out.objects.push_back({child(node, "Key", "listing").data(),
                           listed_size(child(node, "Size", "listing").data()),
                           node.get<std::string>("LastModified", "")});
  }
  if (result.get<std::string>("IsTruncated", "false") == "true") {
    out.next_token = result.get<std::string>("NextContinuationToken", "");
    if (out.next_token->empty())
      throw DecodeError("the S3 server says the listing is truncated but gives no continuation");
  }
  return out;
}

std::optional<ErrorBody> parse_error_body(std::string_view xml) {
  if (xml.find("<Error") == std::string_view::npos) return std::nullopt;
  try {
    auto tree = parse_xml(xml);
    auto error = tree.get_child_optional("Error");
    if (!error) return std::nullopt;
    return ErrorBody{error->get<std::string>("Code", ""), error->get<std::string>("Message", "")};
  } catch (const DecodeError&) {
    return std::nullopt;
  }
}

std::string parse_upload_id(std::string_view xml) {
  auto tree = parse_xml(xml);
  auto id =
      child(child(tree, "InitiateMultipartUploadResult", "answer"), "UploadId", "answer").data();
  if (id.empty()) throw DecodeError("the S3 server gave an empty multipart UploadId");
  return id;
}

std::string complete_multipart_body(const std::vector<std::pair<int, std::string>>& parts) {
  std::string body = "<CompleteMultipartUpload>";
  for (const auto& [number, etag] : parts) {
    std::string escaped;
    for (char c : etag) escaped += c == '"' ? std::string("&quot;") : std::string(1, c);
    body += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", number, escaped);
  }
  return body + "</CompleteMultipartUpload>";
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || (keep_slash && c == '/'))
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

}  // namespace pitr::s3
