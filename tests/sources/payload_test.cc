#include "sources/common/payload.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wif::sources {
namespace {

// 2023-11-14T22:13:20Z.
constexpr int64_t kNow = 1'700'000'000'000;
constexpr int64_t kBase = kNow - 10'000;
constexpr PayloadTimes kTimes{kBase, kNow};

std::string base64url(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (unsigned char c : in) {
    bits = (bits << 8) | c;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out.push_back(kAlphabet[(bits >> count) & 0x3f]);
    }
  }
  if (count > 0) {
    out.push_back(kAlphabet[(bits << (6 - count)) & 0x3f]);
  }
  return out;
}

// An unsigned-looking JWT; the signature is never checked.
std::string jwt(std::string_view claims) {
  return base64url(R"({"alg":"RS256","typ":"JWT"})") + "." + base64url(claims) + ".c2lnbmF0dXJl";
}

std::string seconds(int64_t ms) { return std::to_string(ms / 1000); }

PayloadResult parse(std::string_view content, const PayloadOptions& options = {}) {
  return parse_payload(content, options, kTimes);
}

// Checks success and returns the token, so a failure shows its reason.
ParsedToken expect_ok(const PayloadResult& result) {
  EXPECT_TRUE(result.ok()) << result.error;
  return result.ok() ? ParsedToken(*result.token) : ParsedToken{};
}

std::string expect_error(const PayloadResult& result) {
  EXPECT_FALSE(result.ok());
  return result.error;
}

// --- plain text --------------------------------------------------------------

TEST(PayloadText, AcceptsOneLineOfTokenCharactersWithATrailingNewline) {
  ParsedToken t = expect_ok(parse("ya29.a0-Ab_c~d+e/f==\n"));
  EXPECT_EQ(t.value.reveal(), "ya29.a0-Ab_c~d+e/f==");
  EXPECT_EQ(t.format, PayloadFormat::kText);
  EXPECT_EQ(t.expires_at_ms, std::nullopt);
  EXPECT_EQ(t.expiry_source, ExpirySource::kNone);
  EXPECT_EQ(t.serve_until_ms, std::nullopt);
}

TEST(PayloadText, TrimsSurroundingWhitespaceAndAByteOrderMark) {
  EXPECT_EQ(expect_ok(parse("\xEF\xBB\xBF  tok\r\n")).value.reveal(), "tok");
}

TEST(PayloadText, RejectsAnEmptyFile) {
  EXPECT_EQ(expect_error(parse("")), "payload is empty");
  EXPECT_EQ(expect_error(parse(" \n\t\n")), "payload is empty");
}

TEST(PayloadText, RejectsMoreThanOneLine) {
  EXPECT_EQ(expect_error(parse("first\nsecond\n")),
            "text payload has more than one line (expected one token)");
}

TEST(PayloadText, RejectsBytesOutsideTheRfc6750Alphabet) {
  EXPECT_EQ(expect_error(parse("abc def")),
            "text payload is not an RFC 6750 token (byte 3 is not allowed)");
  EXPECT_EQ(expect_error(parse("ab=c")),
            "text payload is not an RFC 6750 token (byte 3 is not allowed)");
  EXPECT_EQ(expect_error(parse("=abc")),
            "text payload is not an RFC 6750 token (byte 0 is not allowed)");
}

TEST(PayloadText, RejectsAnAwsCredentialsFile) {
  EXPECT_EQ(expect_error(parse("[default]\naws_access_key_id = AKIAEXAMPLE\n"
                               "aws_secret_access_key = c2VjcmV0\n")),
            "payload is an AWS key pair, not a bearer token");
}

TEST(PayloadText, TakesTheConfiguredTtlFromTheBaseTime) {
  PayloadOptions options;
  options.ttl_ms = 3'600'000;
  ParsedToken t = expect_ok(parse("tok", options));
  EXPECT_EQ(t.expires_at_ms, kBase + 3'600'000);
  EXPECT_EQ(t.expiry_source, ExpirySource::kTtl);
  EXPECT_EQ(t.serve_until_ms, kBase + 3'600'000 - 30'000);
}

TEST(PayloadText, ConfiguredTextFormatNeverReadsJson) {
  PayloadOptions options;
  options.format = PayloadFormat::kText;
  EXPECT_EQ(expect_error(parse(R"({"access_token":"x"})", options)),
            "text payload is not an RFC 6750 token (byte 0 is not allowed)");
}

// --- JWT hints ----------------------------------------------------------------

TEST(PayloadJwt, ReadsExpAndNbfWithoutCheckingTheSignature) {
  std::optional<JwtTimes> times = read_jwt_times(jwt(R"({"exp":1700003600,"nbf":1699999000.5})"));
  ASSERT_TRUE(times);
  EXPECT_EQ(times->expires_at_ms, 1'700'003'600'000);
  EXPECT_EQ(times->not_before_ms, 1'699'999'000'500);
}

TEST(PayloadJwt, IgnoresTokensThatOnlyLookLikeJwts) {
  EXPECT_EQ(read_jwt_times("a.b.c"), std::nullopt);
  EXPECT_EQ(read_jwt_times("one.two"), std::nullopt);
  EXPECT_EQ(read_jwt_times(jwt(R"({"exp":1})") + ".extra"), std::nullopt);  // a JWE has five parts
  EXPECT_EQ(read_jwt_times(base64url("{}") + "." + base64url("[1]") + ".s"), std::nullopt);
}

TEST(PayloadJwt, APlainTextJwtExpiresAtItsExp) {
  const std::string token = jwt(R"({"sub":"x","exp":)" + seconds(kNow + 600'000) + "}");
  ParsedToken t = expect_ok(parse(token + "\n"));
  EXPECT_EQ(t.value.reveal(), token);
  EXPECT_EQ(t.expires_at_ms, kNow + 600'000);
  EXPECT_EQ(t.expiry_source, ExpirySource::kJwt);
}

TEST(PayloadJwt, TheJwtExpWinsOverTtl) {
  PayloadOptions options;
  options.ttl_ms = 3'600'000;
  ParsedToken t = expect_ok(parse(jwt(R"({"exp":)" + seconds(kNow + 7'200'000) + "}"), options));
  EXPECT_EQ(t.expires_at_ms, kNow + 7'200'000);
  EXPECT_EQ(t.expiry_source, ExpirySource::kJwt);
}

TEST(PayloadJwt, TheEarlierOfTheExplicitExpiryAndTheJwtExpIsUsed) {
  const std::string early = jwt(R"({"exp":)" + seconds(kNow + 600'000) + "}");
  const std::string late = jwt(R"({"exp":)" + seconds(kNow + 7'200'000) + "}");

  ParsedToken jwt_first =
      expect_ok(parse(R"({"access_token":")" + early + R"(","expires_in":3600})"));
  EXPECT_EQ(jwt_first.expires_at_ms, kNow + 600'000);
  EXPECT_EQ(jwt_first.expiry_source, ExpirySource::kJwt);

  ParsedToken payload_first =
      expect_ok(parse(R"({"access_token":")" + late + R"(","expires_in":3600})"));
  EXPECT_EQ(payload_first.expires_at_ms, kBase + 3'600'000);
  EXPECT_EQ(payload_first.expiry_source, ExpirySource::kPayload);
}

TEST(PayloadJwt, ATokenWhoseNbfIsAheadIsNotUsableYet) {
  const std::string token =
      jwt(R"({"nbf":)" + seconds(kNow + 60'000) + R"(,"exp":)" + seconds(kNow + 3'600'000) + "}");
  EXPECT_EQ(expect_error(parse(token)), "token is not valid yet (JWT nbf is 60s ahead)");
}

// --- JSON formats -------------------------------------------------------------

TEST(PayloadGoogleExecutable, ReadsAnIdTokenAndItsExpirationTime) {
  ParsedToken t = expect_ok(parse(R"({"version":1,"success":true,
      "token_type":"urn:ietf:params:oauth:token-type:id_token",
      "id_token":"header.payload.signature","expiration_time":)" +
                                  seconds(kNow + 3'600'000) + "}"));
  EXPECT_EQ(t.value.reveal(), "header.payload.signature");
  EXPECT_EQ(t.format, PayloadFormat::kGoogleExecutable);
  EXPECT_EQ(t.kind, TokenKind::kIdToken);
  EXPECT_EQ(t.expires_at_ms, kNow + 3'600'000);
  EXPECT_EQ(t.expiry_source, ExpirySource::kPayload);
}

TEST(PayloadGoogleExecutable, ReadsASamlResponse) {
  ParsedToken t = expect_ok(parse(R"({"version":1,"success":true,
      "token_type":"urn:ietf:params:oauth:token-type:saml2","saml_response":"PHNhbWw+"})"));
  EXPECT_EQ(t.value.reveal(), "PHNhbWw+");
  EXPECT_EQ(t.kind, TokenKind::kSaml);
}

TEST(PayloadGoogleExecutable, ReadsAnAccessTokenWhenTheTokenTypeSaysSo) {
  ParsedToken t = expect_ok(parse(R"({"version":1,"success":true,"id_token":"not-this",
      "token_type":"urn:ietf:params:oauth:token-type:access_token","access_token":"ya29.x"})"));
  EXPECT_EQ(t.value.reveal(), "ya29.x");
  EXPECT_EQ(t.kind, TokenKind::kAccessToken);
}

TEST(PayloadGoogleExecutable, AFailureResponseIsRejectedWithoutItsMessage) {
  const std::string error = expect_error(parse(R"({"version":1,"success":false,"code":"401",
      "message":"caller sekrit-detail not allowed"})"));
  EXPECT_EQ(error, "Google executable response reports failure (success: false)");
}

TEST(PayloadGoogleExecutable, RejectsAnotherVersion) {
  EXPECT_EQ(expect_error(parse(R"({"version":2,"success":true,"id_token":"x"})")),
            "Google executable response has an unsupported version (expected 1)");
}

TEST(PayloadExecCredential, ReadsStatusTokenAndExpirationTimestamp) {
  // 01:13:20+02:00 the next day is 23:13:20Z, an hour after kNow.
  ParsedToken t = expect_ok(parse(R"({"apiVersion":"client.authentication.k8s.io/v1",
      "kind":"ExecCredential","status":{"token":"k8s-token",
      "expirationTimestamp":"2023-11-15T01:13:20+02:00"}})"));
  EXPECT_EQ(t.value.reveal(), "k8s-token");
  EXPECT_EQ(t.format, PayloadFormat::kExecCredential);
  EXPECT_EQ(t.expires_at_ms, kNow + 3'600'000);
}

TEST(PayloadExecCredential, RejectsAClientCertificateCredential) {
  EXPECT_EQ(expect_error(parse(R"({"apiVersion":"client.authentication.k8s.io/v1",
      "kind":"ExecCredential","status":{"clientCertificateData":"-----BEGIN",
      "clientKeyData":"-----BEGIN"}})")),
            "ExecCredential carries a client certificate, not a token");
}

TEST(PayloadOAuth2, CountsExpiresInFromTheBaseTime) {
  ParsedToken t = expect_ok(parse(R"({"access_token":"ya29.abc","token_type":"Bearer",
      "expires_in":3599})"));
  EXPECT_EQ(t.value.reveal(), "ya29.abc");
  EXPECT_EQ(t.format, PayloadFormat::kOAuth2);
  EXPECT_EQ(t.kind, TokenKind::kAccessToken);
  EXPECT_EQ(t.expires_at_ms, kBase + 3'599'000);
  EXPECT_EQ(t.serve_until_ms, kBase + 3'599'000 - 30'000);
}

TEST(PayloadOAuth2, AcceptsExpiresInAsANumericString) {
  ParsedToken t = expect_ok(parse(R"({"access_token":"sts","expires_in":"3600",
      "issued_token_type":"urn:ietf:params:oauth:token-type:access_token"})"));
  EXPECT_EQ(t.expires_at_ms, kBase + 3'600'000);
}

TEST(PayloadOAuth2, RejectsAMalformedExpiresIn) {
  EXPECT_EQ(expect_error(parse(R"({"access_token":"x","expires_in":"soon"})")),
            "field expires_in is not a number of seconds");
}

TEST(PayloadOAuth2, RejectsAnErrorResponseWithoutRepeatingIt) {
  EXPECT_EQ(expect_error(parse(R"({"error":"invalid_grant","error_description":"bad"})")),
            "payload is an OAuth 2 error response, not a token");
}

TEST(PayloadIamAccessToken, ReadsAccessTokenAndExpireTime) {
  ParsedToken t =
      expect_ok(parse(R"({"accessToken":"ya29.iam","expireTime":"2023-11-14T23:13:20.250Z"})"));
  EXPECT_EQ(t.value.reveal(), "ya29.iam");
  EXPECT_EQ(t.format, PayloadFormat::kIamAccessToken);
  EXPECT_EQ(t.expires_at_ms, kNow + 3'600'250);
}

TEST(PayloadJsonField, ReadsADottedFieldAndARelativeExpiry) {
  PayloadOptions options;
  options.json_field = "data.auth.client_token";
  options.json_expiry_field = "data.auth.lease_duration";
  ParsedToken t = expect_ok(
      parse(R"({"data":{"auth":{"client_token":"hvs.abc","lease_duration":600}}})", options));
  EXPECT_EQ(t.value.reveal(), "hvs.abc");
  EXPECT_EQ(t.format, PayloadFormat::kJsonField);
  EXPECT_EQ(t.expires_at_ms, kBase + 600'000);
}

TEST(PayloadJsonField, ReadsEpochSecondsEpochMillisecondsAndRfc3339Expiries) {
  PayloadOptions options;
  options.json_field = "t";
  options.json_expiry_field = "e";
  EXPECT_EQ(
      expect_ok(parse(R"({"t":"x","e":)" + seconds(kNow + 60'000) + "}", options)).expires_at_ms,
      kNow + 60'000);
  EXPECT_EQ(expect_ok(parse(R"({"t":"x","e":)" + std::to_string(kNow + 60'500) + "}", options))
                .expires_at_ms,
            kNow + 60'500);
  EXPECT_EQ(expect_ok(parse(R"({"t":"x","e":"2023-11-14T23:13:20Z"})", options)).expires_at_ms,
            kNow + 3'600'000);
}

TEST(PayloadJsonField, AConfiguredFieldWinsOverDetection) {
  PayloadOptions options;
  options.json_field = "id_token";
  ParsedToken t = expect_ok(parse(R"({"access_token":"a","id_token":"b"})", options));
  EXPECT_EQ(t.value.reveal(), "b");
}

TEST(PayloadJsonField, NeverServesAJsonBlob) {
  PayloadOptions options;
  options.json_field = "data";
  EXPECT_EQ(expect_error(parse(R"({"data":{"token":"x"}})", options)),
            "field data holds JSON, not a token");
  options.json_field = "missing";
  EXPECT_EQ(expect_error(parse(R"({"data":1})", options)), "field missing is missing");
  options.json_field = "data";
  EXPECT_EQ(expect_error(parse(R"({"data":1})", options)), "field data is not a string");
}

TEST(PayloadJsonField, InsistsOnJsonWhenAFieldIsConfigured) {
  PayloadOptions options;
  options.json_field = "token";
  EXPECT_EQ(expect_error(parse("plain-token", options)), "payload is not valid JSON");
}

TEST(PayloadFormats, AConfiguredFormatIsNotDetected) {
  PayloadOptions options;
  options.format = PayloadFormat::kOAuth2;
  EXPECT_EQ(
      expect_error(parse(R"({"accessToken":"x","expireTime":"2023-11-14T23:13:20Z"})", options)),
      "field access_token is missing");
}

TEST(PayloadFormats, FormatNamesRoundTrip) {
  for (PayloadFormat format :
       {PayloadFormat::kAuto, PayloadFormat::kText, PayloadFormat::kGoogleExecutable,
        PayloadFormat::kExecCredential, PayloadFormat::kOAuth2, PayloadFormat::kIamAccessToken,
        PayloadFormat::kJsonField}) {
    EXPECT_EQ(parse_format_name(format_name(format)), format);
  }
  EXPECT_EQ(parse_format_name("yaml"), std::nullopt);
}

// --- rejected payloads --------------------------------------------------------

TEST(PayloadRejected, AnAwsKeyPairFromCredentialProcess) {
  EXPECT_EQ(expect_error(parse(R"({"Version":1,"AccessKeyId":"AKIA","SecretAccessKey":"s",
      "SessionToken":"t","Expiration":"2023-11-14T23:13:20Z"})")),
            "payload is an AWS key pair, not a bearer token");
  EXPECT_EQ(expect_error(parse(R"({"Credentials":{"AccessKeyId":"AKIA","SecretAccessKey":"s"}})")),
            "payload is an AWS key pair, not a bearer token");
}

TEST(PayloadRejected, VaultResponseWrappedSinkOutput) {
  const std::string error = expect_error(parse(R"({"token":"hvs.wrapping","accessor":"a",
      "ttl":300,"creation_time":"2023-11-14T22:13:20Z","creation_path":"sys/wrapping/wrap",
      "wrapped_accessor":"b"})"));
  EXPECT_EQ(error,
            "payload is Vault response-wrapped sink output: the wrapping token is single-use and "
            "not the token itself (drop wrap_ttl from the sink)");
}

TEST(PayloadRejected, VaultResponseWrappedOutputEvenWithAConfiguredField) {
  PayloadOptions options;
  options.json_field = "token";
  EXPECT_FALSE(parse(R"({"token":"hvs.w","creation_path":"sys/wrapping/wrap"})", options).ok());
}

TEST(PayloadRejected, VaultEncryptedSinkOutput) {
  EXPECT_EQ(expect_error(parse(R"({"curve25519_public_key":"cHVi","nonce":"bm9uY2U=",
      "encrypted_payload":"ZW5j"})")),
            "payload is Vault encrypted sink output (dh_type): it cannot be served as a token");
}

TEST(PayloadRejected, AnUnrecognisedJsonObject) {
  EXPECT_EQ(expect_error(parse(R"({"value":"x"})")),
            "unrecognised JSON object (expected access_token, accessToken with expireTime, an "
            "ExecCredential, a Google executable response, or a configured json_field)");
}

TEST(PayloadRejected, MalformedJsonAndNonObjects) {
  EXPECT_EQ(expect_error(parse(R"({"access_token":"x")")), "payload is not valid JSON");
  PayloadOptions options;
  options.format = PayloadFormat::kOAuth2;
  EXPECT_EQ(expect_error(parse(R"(["x"])", options)), "payload is JSON but not an object");
}

TEST(PayloadRejected, NoReasonEverContainsTokenBytes) {
  const std::string secret = "SeCrEt-ToKeN-42";
  PayloadOptions ttl;
  ttl.ttl_ms = 1'000;  // expired: base is 10 s before now
  PayloadOptions field;
  field.json_field = "t";
  field.json_expiry_field = "e";
  const std::vector<std::pair<std::string, PayloadOptions>> inputs = {
      {secret + "\n" + secret, {}},
      {secret + " " + secret, {}},
      {secret, ttl},
      {"{\"access_token\":\"" + secret + "\"", {}},
      {"{\"access_token\":\"" + secret + " x\"}", {}},
      {"{\"access_token\":\"" + secret + "\",\"expires_in\":\"" + secret + "\"}", {}},
      {"{\"access_token\":\"" + secret + "\",\"expires_in\":1}", {}},
      {"{\"x\":\"" + secret + "\"}", {}},
      {"{\"t\":\"" + secret + "\",\"e\":\"" + secret + "\"}", field},
      {"{\"version\":1,\"success\":false,\"message\":\"" + secret + "\"}", {}},
      {"{\"kind\":\"ExecCredential\",\"apiVersion\":\"v1\",\"status\":{\"token\":\"" + secret +
           "\",\"expirationTimestamp\":\"" + secret + "\"}}",
       {}},
      {"{\"error\":\"" + secret + "\"}", {}},
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    PayloadResult result = parse(inputs[i].first, inputs[i].second);
    ASSERT_FALSE(result.ok()) << "accepted input #" << i;
    EXPECT_EQ(result.error.find(secret), std::string::npos) << result.error;
    EXPECT_EQ(result.error.find("SeCrEt"), std::string::npos) << result.error;
  }
}

// --- expiry arithmetic --------------------------------------------------------

TEST(PayloadExpiry, AnExpiredTokenCountsAsAFailedRead) {
  EXPECT_EQ(expect_error(parse(R"({"access_token":"x","expires_in":5})")),
            "token expired 5s ago (expiry from payload)");
}

TEST(PayloadExpiry, ATokenWithNoMoreThanMinRemainingLeftCountsAsAFailedRead) {
  // base + 40 s is now + 30 s: exactly min_remaining left.
  EXPECT_EQ(expect_error(parse(R"({"access_token":"x","expires_in":40})")),
            "token has 30s left, not more than min_remaining 30s (expiry from payload)");
  ParsedToken t = expect_ok(parse(R"({"access_token":"x","expires_in":40.001})"));
  EXPECT_EQ(t.serve_until_ms, kNow + 1);
}

TEST(PayloadExpiry, MinRemainingIsConfigurable) {
  PayloadOptions options;
  options.min_remaining_ms = 0;
  ParsedToken t = expect_ok(parse(R"({"access_token":"x","expires_in":11})", options));
  EXPECT_EQ(t.expires_at_ms, kNow + 1'000);
  EXPECT_EQ(t.serve_until_ms, kNow + 1'000);
}

TEST(PayloadExpiry, TtlOnlyAppliesWithoutAnExplicitExpiry) {
  PayloadOptions options;
  options.ttl_ms = 60'000;
  ParsedToken t = expect_ok(parse(R"({"access_token":"x","expires_in":3600})", options));
  EXPECT_EQ(t.expires_at_ms, kBase + 3'600'000);
  EXPECT_EQ(t.expiry_source, ExpirySource::kPayload);
}

TEST(PayloadExpiry, MaxTtlCapsALongerExpiry) {
  PayloadOptions options;
  options.max_ttl_ms = 600'000;
  ParsedToken t = expect_ok(parse(R"({"access_token":"x","expires_in":3600})", options));
  EXPECT_EQ(t.expires_at_ms, kBase + 600'000);
  EXPECT_EQ(t.expiry_source, ExpirySource::kMaxTtl);
}

TEST(PayloadExpiry, MaxTtlGivesAnExpiryWhenThereIsNone) {
  PayloadOptions options;
  options.max_ttl_ms = 600'000;
  ParsedToken t = expect_ok(parse("tok", options));
  EXPECT_EQ(t.expires_at_ms, kBase + 600'000);
}

TEST(PayloadExpiry, MaxTtlLeavesAShorterExpiryAlone) {
  PayloadOptions options;
  options.max_ttl_ms = 600'000;
  ParsedToken t = expect_ok(parse(R"({"access_token":"x","expires_in":300})", options));
  EXPECT_EQ(t.expires_at_ms, kBase + 300'000);
  EXPECT_EQ(t.expiry_source, ExpirySource::kPayload);
}

// --- building blocks ------------------------------------------------------------

TEST(PayloadRfc3339, ParsesFractionsOffsetsAndLowerCaseSeparators) {
  EXPECT_EQ(parse_rfc3339_ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339_ms("2023-11-14T22:13:20Z"), kNow);
  EXPECT_EQ(parse_rfc3339_ms("2023-11-14t22:13:20.123456789z"), kNow + 123);
  EXPECT_EQ(parse_rfc3339_ms("2023-11-14T14:13:20-08:00"), kNow);
  EXPECT_EQ(parse_rfc3339_ms("2023-11-14 22:13:20Z"), kNow);
}

TEST(PayloadRfc3339, RejectsMalformedTimestamps) {
  for (std::string_view bad :
       {"", "2023-11-14", "2023-11-14T22:13:20", "2023-02-30T00:00:00Z", "2023-11-14T24:00:00Z",
        "2023-11-14T22:13:20+0200", "2023-11-14T22:13:20.Z", "2023-11-14T22:13:20Zjunk",
        "23-11-14T22:13:20Z"}) {
    EXPECT_EQ(parse_rfc3339_ms(bad), std::nullopt) << bad;
  }
}

TEST(PayloadTokenCharacters, FollowRfc6750) {
  EXPECT_EQ(find_invalid_token_byte("AZaz09-._~+/"), std::nullopt);
  EXPECT_EQ(find_invalid_token_byte("abc=="), std::nullopt);
  EXPECT_EQ(find_invalid_token_byte(""), 0u);
  EXPECT_EQ(find_invalid_token_byte("ab=c"), 3u);
  EXPECT_EQ(find_invalid_token_byte("a\"b"), 1u);
}

}  // namespace
}  // namespace wif::sources
