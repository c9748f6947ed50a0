// Which client chains a context trusts: anchors against untrusted
// intermediates, partial chains, depth, usage, and revocation by CRL in leaf
// and chain mode. Every case is a real handshake through memory BIOs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "src/tls/server_context.h"
#include "src/tls/session.h"
#include "tests/support/test_support.h"
#include "tests/tls/test_certificates.h"
#include "tests/tls/tls_client.h"

namespace wif::tls {
namespace {

using test::client_named;
using test::ClientOptions;
using test::handshake_refused;
using test::handshake_succeeds;
using test::TlsClient;
using ::testing::HasSubstr;
using wif::testing::pki;

ClientOptions client_with_chain(std::string_view chain, std::string_view key) {
  ClientOptions options;
  options.certificate = pki(chain);
  options.key = pki(key);
  return options;
}

class TlsClientTrust : public ::testing::Test {
 protected:
  std::shared_ptr<const ServerContext> context() const { return ServerContext::build(options_); }

  static std::string build_error(const ContextOptions& options) {
    try {
      ServerContext::build(options);
    } catch (const ContextError& error) {
      return error.what();
    }
    return "build() succeeded";
  }

  ContextOptions options_ = test::default_options();
  wif::testing::TempDir dir_;
};

TEST_F(TlsClientTrust, AcceptsALeafSentWithItsIntermediateWhenOnlyTheRootIsAnAnchor) {
  options_.client_ca_file = pki("root-ca.crt");
  TlsClient client(client_with_chain("client-chain.crt", "client.key"));

  EXPECT_TRUE(handshake_succeeds(*context(), client));
}

TEST_F(TlsClientTrust, AcceptsALeafSentAloneThroughTheConfiguredIntermediates) {
  options_.client_ca_file = pki("root-ca.crt");
  options_.client_intermediates_file = pki("intermediate.crt");
  TlsClient client(client_named("client"));

  EXPECT_TRUE(handshake_succeeds(*context(), client));
}

TEST_F(TlsClientTrust, RefusesAChainEndingAtAnIntermediateAnchorWithoutPartialChain) {
  options_.client_ca_file = pki("intermediate.crt");
  TlsClient client(client_named("client"));

  EXPECT_TRUE(handshake_refused(*context(), client, Failure::kUnknownCa, SSL_AD_UNKNOWN_CA));
}

TEST_F(TlsClientTrust, TrustsAnIntermediateAloneWithPartialChain) {
  options_.client_ca_file = pki("intermediate.crt");
  options_.partial_chain = true;
  std::shared_ptr<const ServerContext> trusting = context();
  TlsClient client(client_named("client"));

  EXPECT_TRUE(trusting->partial_chain());
  EXPECT_TRUE(handshake_succeeds(*trusting, client));
}

TEST_F(TlsClientTrust, PartialChainStillRefusesAnotherCa) {
  options_.client_ca_file = pki("intermediate.crt");
  options_.partial_chain = true;
  TlsClient client(client_named("other-client"));

  EXPECT_TRUE(handshake_refused(*context(), client, Failure::kUnknownCa, SSL_AD_UNKNOWN_CA));
}

// OpenSSL's depth counts the certificates above the leaf that are not the
// anchor: leaf (0) -> sub CA (1) -> intermediate (2) -> root, the anchor.
TEST_F(TlsClientTrust, CountsEveryIntermediateButNotTheAnchorAgainstTheDepth) {
  options_.verify_depth = 1;
  std::shared_ptr<const ServerContext> shallow = context();
  options_.verify_depth = 2;
  std::shared_ptr<const ServerContext> deep = context();

  TlsClient too_deep(client_with_chain("deep-client-chain.crt", "deep-client.key"));
  const ::testing::AssertionResult refused =
      handshake_refused(*shallow, too_deep, Failure::kUnknownCa, SSL_AD_UNKNOWN_CA);
  EXPECT_TRUE(refused);
  EXPECT_THAT(refused.message(), HasSubstr("certificate chain too long"));
  TlsClient accepted(client_with_chain("deep-client-chain.crt", "deep-client.key"));
  EXPECT_TRUE(handshake_succeeds(*deep, accepted));
}

TEST_F(TlsClientTrust, AcceptsAClientWithoutExtendedKeyUsageByDefault) {
  TlsClient client(client_named("noeku-client"));

  EXPECT_TRUE(handshake_succeeds(*context(), client));
}

TEST_F(TlsClientTrust, RefusesAClientWithoutExtendedKeyUsageWhenClientAuthIsRequired) {
  options_.require_client_auth_eku = true;
  std::shared_ptr<const ServerContext> strict = context();

  TlsClient noeku(client_named("noeku-client"));
  EXPECT_TRUE(
      handshake_refused(*strict, noeku, Failure::kBadUsage, SSL_AD_UNSUPPORTED_CERTIFICATE));
  TlsClient client(client_named("client"));
  EXPECT_TRUE(handshake_succeeds(*strict, client));
}

TEST_F(TlsClientTrust, StillRefusesAServerOnlyCertificateWhenClientAuthIsRequired) {
  options_.require_client_auth_eku = true;
  TlsClient client(client_named("serveronly-client"));

  EXPECT_TRUE(
      handshake_refused(*context(), client, Failure::kBadUsage, SSL_AD_UNSUPPORTED_CERTIFICATE));
}

TEST_F(TlsClientTrust, AcceptsAnEd25519Client) {
  TlsClient client(client_named("ed25519-client"));

  EXPECT_TRUE(handshake_succeeds(*context(), client));
}

// Revocation.

TEST_F(TlsClientTrust, RefusesARevokedLeafInLeafMode) {
  options_.crl_files = {pki("intermediate.crl")};
  std::shared_ptr<const ServerContext> checking = context();

  TlsClient revoked(client_named("revoked-client"));
  EXPECT_TRUE(handshake_refused(*checking, revoked, Failure::kRevoked, SSL_AD_CERTIFICATE_REVOKED));
  TlsClient client(client_named("client"));
  EXPECT_TRUE(handshake_succeeds(*checking, client));
}

// intermediate.crl revokes the sub CA itself, which leaf mode never looks at.
TEST_F(TlsClientTrust, LeafModeChecksOnlyTheLeaf) {
  options_.crl_files = {pki("intermediate.crl"), pki("sub.crl")};
  TlsClient client(client_with_chain("deep-client-chain.crt", "deep-client.key"));

  EXPECT_TRUE(handshake_succeeds(*context(), client));
}

TEST_F(TlsClientTrust, ChainModeRefusesAClientUnderARevokedCa) {
  options_.client_intermediates_file = pki("sub-intermediate.crt");
  options_.crl_files = {pki("intermediate.crl"), pki("root.crl"), pki("sub.crl")};
  options_.crl_check_chain = true;
  std::shared_ptr<const ServerContext> checking = context();

  TlsClient deep(client_with_chain("deep-client-chain.crt", "deep-client.key"));
  EXPECT_TRUE(handshake_refused(*checking, deep, Failure::kRevoked, SSL_AD_CERTIFICATE_REVOKED));
  TlsClient revoked(client_named("revoked-client"));
  EXPECT_TRUE(handshake_refused(*checking, revoked, Failure::kRevoked, SSL_AD_CERTIFICATE_REVOKED));
  TlsClient client(client_named("client"));
  EXPECT_TRUE(handshake_succeeds(*checking, client));
}

TEST_F(TlsClientTrust, ChainModeStopsStartUpNamingTheCaWithoutACrl) {
  options_.crl_files = {pki("intermediate.crl")};
  options_.crl_check_chain = true;

  EXPECT_EQ(build_error(options_),
            "crl_check chain: no CRL from CA \"O=Internal,CN=Demo Root CA\" (from client_ca " +
                options_.client_ca_file +
                "); add its CRL to crl, or check the leaf only with crl_check: leaf");
}

TEST_F(TlsClientTrust, ChainModeNamesAConfiguredIntermediateWithoutACrl) {
  options_.client_intermediates_file = pki("sub-intermediate.crt");
  options_.crl_files = {pki("intermediate.crl"), pki("root.crl")};
  options_.crl_check_chain = true;

  EXPECT_THAT(build_error(options_),
              HasSubstr("no CRL from CA \"O=Internal,CN=Demo Sub CA\" (from client_intermediates " +
                        options_.client_intermediates_file + ")"));
}

TEST_F(TlsClientTrust, ChainModeWithoutCrlsStopsStartUp) {
  options_.crl_check_chain = true;

  EXPECT_EQ(build_error(options_), "crl_check chain needs a CRL from every CA, and crl lists none");
}

// A CA the client brings along is not configured, so start-up cannot ask for
// its CRL; the handshake refuses the client as of unknown status instead.
TEST_F(TlsClientTrust, ChainModeRefusesAClientThroughACaWithoutCrl) {
  options_.crl_files = {pki("intermediate.crl"), pki("root.crl")};
  options_.crl_check_chain = true;
  TlsClient deep(client_with_chain("deep-client-chain.crt", "deep-client.key"));

  const ::testing::AssertionResult refused =
      handshake_refused(*context(), deep, Failure::kRevocationUnknown, SSL_AD_UNKNOWN_CA);
  EXPECT_TRUE(refused);
  EXPECT_THAT(refused.message(), HasSubstr("unable to get certificate CRL"));
}

TEST_F(TlsClientTrust, RefusesEveryClientWhileTheCrlHasExpired) {
  options_.crl_files = {pki("intermediate-expired.crl")};
  TlsClient client(client_named("client"));

  const ::testing::AssertionResult refused = handshake_refused(
      *context(), client, Failure::kRevocationUnknown, SSL_AD_CERTIFICATE_EXPIRED);
  EXPECT_TRUE(refused);
  EXPECT_THAT(refused.message(), HasSubstr("CRL has expired"));
}

TEST_F(TlsClientTrust, RefusesACrlNotSignedByTheCaItNames) {
  X509Ptr intermediate = test::load_certificate(pki("intermediate.crt"));
  EvpPkeyPtr wrong_key = test::load_key(pki("other-ca.key"));
  X509CrlPtr forged = test::make_crl(intermediate.get(), wrong_key.get(), {});
  options_.crl_files = {dir_.file("forged.crl")};
  test::write_crl(options_.crl_files[0], forged.get());

  EXPECT_EQ(build_error(options_),
            "crl " + options_.crl_files[0] +
                ": CRL 1 names \"O=Internal,CN=Demo Intermediate CA\" as its issuer but does not "
                "carry that CA's signature");
}

TEST_F(TlsClientTrust, DescribesEachCrl) {
  options_.crl_files = {pki("intermediate.crl"), pki("intermediate-expired.crl")};
  std::shared_ptr<const ServerContext> checking = context();

  ASSERT_EQ(checking->crls().size(), 2u);
  const CrlSummary& current = checking->crls()[0];
  EXPECT_EQ(current.file, pki("intermediate.crl"));
  EXPECT_EQ(current.issuer, "O=Internal,CN=Demo Intermediate CA");
  EXPECT_EQ(current.revoked, 2u);
  EXPECT_EQ(current.next_update_unix - current.last_update_unix, 30 * 86400);  // make-pki.sh
  EXPECT_EQ(checking->crls()[1].next_update_unix, 1580515200);  // 2020-02-01T00:00:00Z
}

}  // namespace
}  // namespace wif::tls
