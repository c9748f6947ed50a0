#include "src/tls/cipher_settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "src/tls/server_context.h"
#include "src/tls/session.h"
#include "tests/tls/test_certificates.h"
#include "tests/tls/tls_client.h"

namespace wif::tls {
namespace {

using test::client_named;
using test::run_handshake;
using test::TlsClient;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Status = Session::Status;

TEST(TlsCipherSettings, AcceptsTheDefaultTls12List) {
  EXPECT_THAT(check_tls12_ciphers(default_tls12_ciphers()), IsEmpty());
}

TEST(TlsCipherSettings, RefusesAnUnknownTls12Cipher) {
  EXPECT_EQ(check_tls12_ciphers({"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES129-GCM-SHA256"}),
            "TLS 1.2 cipher names as OpenSSL spells them, such as ECDHE-RSA-AES128-GCM-SHA256; "
            "\"ECDHE-RSA-AES129-GCM-SHA256\" is not one");
}

TEST(TlsCipherSettings, RefusesKeywordsAndOperatorsInATls12List) {
  EXPECT_THAT(check_tls12_ciphers({"HIGH"}), HasSubstr("\"HIGH\" is not one"));
  EXPECT_THAT(check_tls12_ciphers({"!aNULL"}), HasSubstr("\"!aNULL\" is not one"));
  EXPECT_THAT(check_tls12_ciphers({"ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA"}),
              HasSubstr("is not one"));
}

TEST(TlsCipherSettings, RefusesTls12CiphersWithoutForwardSecrecyOrAead) {
  const std::string expected =
      "TLS 1.2 ciphers with an ephemeral key exchange (ECDHE or DHE) and an AEAD cipher (GCM, "
      "CCM or CHACHA20-POLY1305); ";
  EXPECT_EQ(check_tls12_ciphers({"AES128-GCM-SHA256"}),
            expected + "\"AES128-GCM-SHA256\" is not one");
  EXPECT_EQ(check_tls12_ciphers({"ECDHE-RSA-AES128-SHA256"}),
            expected + "\"ECDHE-RSA-AES128-SHA256\" is not one");
}

TEST(TlsCipherSettings, RefusesATls13SuiteInTheTls12List) {
  EXPECT_THAT(check_tls12_ciphers({"TLS_AES_128_GCM_SHA256"}), HasSubstr("is not one"));
}

TEST(TlsCipherSettings, AcceptsTls13SuitesByTheirRfcNames) {
  EXPECT_THAT(check_tls13_ciphersuites({"TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}),
              IsEmpty());
}

TEST(TlsCipherSettings, RefusesAnUnknownTls13Suite) {
  EXPECT_EQ(check_tls13_ciphersuites({"TLS_AES_128_GCM"}),
            "TLS 1.3 cipher suites such as TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384 or "
            "TLS_CHACHA20_POLY1305_SHA256; \"TLS_AES_128_GCM\" is not one");
  EXPECT_THAT(check_tls13_ciphersuites({"ECDHE-RSA-AES128-GCM-SHA256"}), HasSubstr("is not one"));
}

TEST(TlsCipherSettings, ChecksGroupNames) {
  EXPECT_THAT(check_groups({"X25519", "P-256", "P-384"}), IsEmpty());
  EXPECT_EQ(check_groups({"X25519", "P-257"}),
            "key exchange groups such as X25519, P-256 or P-384; \"P-257\" is not one");
}

TEST(TlsCipherSettings, BuildRefusesABadList) {
  ContextOptions options = test::default_options();
  options.groups = {"P-257"};

  EXPECT_THROW(ServerContext::build(options), ContextError);
}

TEST(TlsCipherSettings, NegotiatesTheConfiguredTls13Suite) {
  ContextOptions options = test::default_options();
  options.tls13_ciphersuites = {"TLS_CHACHA20_POLY1305_SHA256"};
  std::shared_ptr<const ServerContext> context = ServerContext::build(options);
  Session server(*context);
  TlsClient client(client_named("client"));

  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();
  EXPECT_EQ(server.cipher_name(), "TLS_CHACHA20_POLY1305_SHA256");
}

TEST(TlsCipherSettings, NegotiatesTheConfiguredTls12Cipher) {
  ContextOptions options = test::default_options();
  options.tls12_ciphers = {"ECDHE-RSA-AES256-GCM-SHA384"};
  std::shared_ptr<const ServerContext> context = ServerContext::build(options);
  Session server(*context);
  TlsClient client(client_named("client", TLS1_2_VERSION));

  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();
  EXPECT_EQ(server.cipher_name(), "ECDHE-RSA-AES256-GCM-SHA384");
}

TEST(TlsCipherSettings, NegotiatesOnlyTheConfiguredGroups) {
  ContextOptions options = test::default_options();
  options.groups = {"P-384"};
  std::shared_ptr<const ServerContext> context = ServerContext::build(options);
  Session server(*context);
  TlsClient client(client_named("client"));

  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();
  EXPECT_EQ(SSL_get_negotiated_group(client.ssl()), NID_secp384r1);
}

}  // namespace
}  // namespace wif::tls
