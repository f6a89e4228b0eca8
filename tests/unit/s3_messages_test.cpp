// The S3 REST API documents pitr reads and writes, the URI encoding SigV4 needs, and the
// shared credentials file.
#include <gtest/gtest.h>

#include "formats/s3/credentials_file.hpp"
#include "formats/s3/s3_messages.hpp"

using namespace pitr;

TEST(S3Messages, ListObjectsWithEntitiesAndContinuation) {
  auto result = s3::parse_list_objects(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>b</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcx+Q==</NextContinuationToken>
  <Contents><Key>p/a&amp;b &lt;c&gt;</Key><LastModified>2026-11-30T01:02:03.000Z</LastModified>
    <ETag>&quot;x&quot;</ETag><Size>18446744073709551615</Size></Contents>
  <Contents><Key>p/z&#252;rich</Key><Size>0</Size></Contents>
</ListBucketResult>)");
  ASSERT_EQ(result.objects.size(), 2u);
  EXPECT_EQ(result.objects[0].key, "p/a&b <c>");
  EXPECT_EQ(result.objects[0].size, 18446744073709551615ull);
  EXPECT_EQ(result.objects[0].last_modified, "2026-11-30T01:02:03.000Z");
  EXPECT_EQ(result.objects[1].size, 0u);
  EXPECT_EQ(result.next_token, "1ueGcx+Q==");
  auto last = s3::parse_list_objects(
      "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
  EXPECT_TRUE(last.objects.empty());
  EXPECT_FALSE(last.next_token);
}

TEST(S3Messages, MalformedAnswersAreDecodeErrors) {
  for (const char* xml :
       {"", "<ListBucketResult>", "<Other/>",
        "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>k</Key><Size>18446744073709551616</Size></Contents>"
        "</ListBucketResult>",
        "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>"})
    EXPECT_THROW(s3::parse_list_objects(xml), DecodeError) << xml;
  EXPECT_THROW(s3::parse_upload_id("<InitiateMultipartUploadResult/>"), DecodeError);
}

TEST(S3Messages, ErrorBodiesAndMultipart) {
  auto e = s3::parse_error_body(
      "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>gone</Message>"
      "<BucketName>b</BucketName></Error>");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, "NoSuchBucket");
  EXPECT_EQ(e->message, "gone");
  EXPECT_FALSE(s3::parse_error_body(""));
  EXPECT_FALSE(s3::parse_error_body("<CompleteMultipartUploadResult/>"));
  EXPECT_EQ(s3::parse_upload_id("<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                                "<UploadId>2~abc</UploadId></InitiateMultipartUploadResult>"),
            "2~abc");
  EXPECT_EQ(s3::complete_multipart_body({{1, "\"e1\""}, {2, "\"e2\""}}),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;e1&quot;</ETag>"
            "</Part><Part><PartNumber>2</PartNumber><ETag>&quot;e2&quot;</ETag></Part>"
            "</CompleteMultipartUpload>");
}

TEST(S3Messages, UriEncodingUsesUpperCaseHexAndKeepsOnlyUnreserved) {
  EXPECT_EQ(s3::uri_encode("a b+c/d~e_f-g.h", true), "a%20b%2Bc/d~e_f-g.h");
  EXPECT_EQ(s3::uri_encode("a/b", false), "a%2Fb");
  EXPECT_EQ(s3::uri_encode("zürich=?&%", true), "z%C3%BCrich%3D%3F%26%25");
}

TEST(S3Credentials, ProfilesOfTheSharedFile) {
  const char* text =
      "# comment\n[default]\naws_access_key_id = AKIA1\naws_secret_access_key=s1 \n\n"
      "[ci]\r\naws_access_key_id = AKIA2\r\naws_secret_access_key = s2\r\n"
      "aws_session_token = t2\r\n";
  auto d = s3::credentials_profile(text, "default");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->at("aws_access_key_id"), "AKIA1");
  EXPECT_EQ(d->at("aws_secret_access_key"), "s1");
  auto ci = s3::credentials_profile(text, "ci");
  ASSERT_TRUE(ci);
  EXPECT_EQ(ci->at("aws_session_token"), "t2");
  EXPECT_FALSE(s3::credentials_profile(text, "missing"));
}
