// After a reload: sessions from the old context never resume under the new
// one, and a connection made under the old one can be checked against the
// new trust (Session::verify_again).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "src/tls/context_extras.h"
#include "src/tls/server_context.h"
#include "src/tls/session.h"
#include "tests/support/test_support.h"
#include "tests/tls/test_certificates.h"
#include "tests/tls/tls_client.h"

namespace wif::tls {
namespace {

using test::client_named;
using test::run_handshake;
using test::TlsClient;
using ::testing::HasSubstr;
using wif::testing::pki;
using Status = Session::Status;

class TlsReverification : public ::testing::Test {
 protected:
  // A server session on `context_` with the named client, established.
  std::unique_ptr<Session> connect(const std::string& client_name) {
    auto server = std::make_unique<Session>(*before_);
    client_ = std::make_unique<TlsClient>(client_named(client_name));
    if (run_handshake(*client_, *server) != Status::kOk) {
      throw std::runtime_error("handshake failed: " + server->failure_detail());
    }
    return server;
  }

  // How many client chains a context remembers as verified.
  static size_t remembered(const ServerContext& context) {
    return extras_of(context.native())->verified->size();
  }

  std::shared_ptr<const ServerContext> rebuilt(const ContextOptions& options) const {
    return ServerContext::build(options);
  }

  ContextOptions options_ = test::default_options();
  std::shared_ptr<const ServerContext> before_ = ServerContext::build(options_);
  std::unique_ptr<TlsClient> client_;
  std::string detail_;
};

TEST_F(TlsReverification, GivesEachBuildANewGeneration) {
  std::shared_ptr<const ServerContext> after = rebuilt(options_);

  EXPECT_GT(after->generation(), before_->generation());
  EXPECT_GT(before_->generation(), 0u);
}

TEST_F(TlsReverification, KeepsTrustingAClientTheNewContextAccepts) {
  std::unique_ptr<Session> session = connect("client");

  EXPECT_EQ(session->verify_again(*rebuilt(options_), detail_), Failure::kNone) << detail_;
}

TEST_F(TlsReverification, StopsTrustingAClientANewCrlRevokes) {
  std::unique_ptr<Session> session = connect("revoked-client");
  options_.crl_files = {pki("intermediate.crl")};

  EXPECT_EQ(session->verify_again(*rebuilt(options_), detail_), Failure::kRevoked);
  EXPECT_THAT(detail_, HasSubstr("certificate revoked"));
}

TEST_F(TlsReverification, StopsTrustingAClientWhenItsAnchorIsSwappedForAnother) {
  std::unique_ptr<Session> session = connect("client");
  options_.client_ca_file = pki("other-ca.crt");

  EXPECT_EQ(session->verify_again(*rebuilt(options_), detail_), Failure::kUnknownCa);
}

TEST_F(TlsReverification, UsesTheIntermediatesOfTheNewContext) {
  options_.client_ca_file = pki("root-ca.crt");
  options_.client_intermediates_file = pki("intermediate.crt");
  before_ = rebuilt(options_);
  std::unique_ptr<Session> session = connect("client");  // sends its leaf only

  EXPECT_EQ(session->verify_again(*rebuilt(options_), detail_), Failure::kNone) << detail_;
  options_.client_intermediates_file.clear();
  EXPECT_EQ(session->verify_again(*rebuilt(options_), detail_), Failure::kUnknownCa);
}

TEST_F(TlsReverification, AppliesTheNewUsageRule) {
  std::unique_ptr<Session> session = connect("noeku-client");
  options_.require_client_auth_eku = true;

  EXPECT_EQ(session->verify_again(*rebuilt(options_), detail_), Failure::kBadUsage);
}

TEST_F(TlsReverification, ChecksAResumedSessionsCertificateToo) {
  std::unique_ptr<Session> first = connect("revoked-client");
  SSL_SESSION* saved = SSL_get1_session(client_->ssl());
  ASSERT_NE(saved, nullptr);
  TlsClient again(client_named("revoked-client"));
  ASSERT_EQ(SSL_set_session(again.ssl(), saved), 1);
  SSL_SESSION_free(saved);
  Session resumed(*before_);
  ASSERT_EQ(run_handshake(again, resumed), Status::kOk) << resumed.failure_detail();
  ASSERT_TRUE(resumed.resumed());
  options_.crl_files = {pki("intermediate.crl")};

  EXPECT_EQ(resumed.verify_again(*rebuilt(options_), detail_), Failure::kRevoked);
}

// Each context has its own session cache: whatever a client saved before a
// reload buys it only a full handshake, with verification.
TEST_F(TlsReverification, ResumesNoTicketFromAnEarlierContext) {
  std::unique_ptr<Session> first = connect("client");
  SSL_SESSION* saved = SSL_get1_session(client_->ssl());
  ASSERT_NE(saved, nullptr);
  ASSERT_TRUE(SSL_SESSION_is_resumable(saved));
  std::shared_ptr<const ServerContext> after = rebuilt(options_);

  TlsClient same(client_named("client"));
  ASSERT_EQ(SSL_set_session(same.ssl(), saved), 1);
  Session under_before(*before_);
  ASSERT_EQ(run_handshake(same, under_before), Status::kOk);
  EXPECT_TRUE(under_before.resumed());  // the ticket itself is good

  TlsClient later(client_named("client"));
  ASSERT_EQ(SSL_set_session(later.ssl(), saved), 1);
  SSL_SESSION_free(saved);
  Session under_after(*after);
  ASSERT_EQ(run_handshake(later, under_after), Status::kOk) << under_after.failure_detail();
  EXPECT_FALSE(under_after.resumed());
}

TEST_F(TlsReverification, ResumesNoCachedTls12SessionFromAnEarlierContext) {
  options_.session_tickets = false;
  before_ = rebuilt(options_);
  auto first_server = std::make_unique<Session>(*before_);
  TlsClient first(client_named("client", TLS1_2_VERSION));
  ASSERT_EQ(run_handshake(first, *first_server), Status::kOk);
  SSL_SESSION* saved = SSL_get1_session(first.ssl());
  ASSERT_NE(saved, nullptr);
  std::shared_ptr<const ServerContext> after = rebuilt(options_);

  TlsClient later(client_named("client", TLS1_2_VERSION));
  ASSERT_EQ(SSL_set_session(later.ssl(), saved), 1);
  SSL_SESSION_free(saved);
  Session under_after(*after);
  ASSERT_EQ(run_handshake(later, under_after), Status::kOk) << under_after.failure_detail();
  EXPECT_FALSE(under_after.resumed());
}

TEST_F(TlsReverification, RefusesToResumeARevokedClientAfterAReload) {
  std::unique_ptr<Session> first = connect("revoked-client");
  SSL_SESSION* saved = SSL_get1_session(client_->ssl());
  ASSERT_NE(saved, nullptr);
  options_.crl_files = {pki("intermediate.crl")};
  std::shared_ptr<const ServerContext> after = rebuilt(options_);

  TlsClient later(client_named("revoked-client"));
  ASSERT_EQ(SSL_set_session(later.ssl(), saved), 1);
  SSL_SESSION_free(saved);
  EXPECT_TRUE(
      test::handshake_refused(*after, later, Failure::kRevoked, SSL_AD_CERTIFICATE_REVOKED));
}

// A context remembers the chains it verified (VerifiedChains), so the next
// handshake of the same client skips the chain checks. A reload must forget
// them: the next handshake is verified in full against the new CRLs and
// anchors (issue #6).
TEST_F(TlsReverification, RemembersAVerifiedChainForTheNextFullHandshake) {
  std::unique_ptr<Session> first = connect("client");
  ASSERT_EQ(remembered(*before_), 1u);

  TlsClient again(client_named("client"));
  EXPECT_TRUE(test::handshake_succeeds(*before_, again));
  EXPECT_EQ(remembered(*before_), 1u);
  EXPECT_EQ(remembered(*rebuilt(options_)), 0u);
}

TEST_F(TlsReverification, RefusesARememberedClientOnceANewCrlRevokesIt) {
  std::unique_ptr<Session> first = connect("revoked-client");
  ASSERT_EQ(remembered(*before_), 1u);
  options_.crl_files = {pki("intermediate.crl")};
  std::shared_ptr<const ServerContext> after = rebuilt(options_);

  TlsClient later(client_named("revoked-client"));
  EXPECT_TRUE(
      test::handshake_refused(*after, later, Failure::kRevoked, SSL_AD_CERTIFICATE_REVOKED));
  EXPECT_EQ(remembered(*after), 0u);
}

TEST_F(TlsReverification, RefusesARememberedClientOnceItsAnchorIsSwappedForAnother) {
  std::unique_ptr<Session> first = connect("client");
  ASSERT_EQ(remembered(*before_), 1u);
  options_.client_ca_file = pki("other-ca.crt");
  std::shared_ptr<const ServerContext> after = rebuilt(options_);

  TlsClient later(client_named("client"));
  EXPECT_TRUE(test::handshake_refused(*after, later, Failure::kUnknownCa, SSL_AD_UNKNOWN_CA));
}

TEST_F(TlsReverification, RemembersNoRefusal) {
  options_.crl_files = {pki("intermediate.crl")};
  before_ = rebuilt(options_);
  for (int i = 0; i < 2; ++i) {
    TlsClient revoked(client_named("revoked-client"));
    EXPECT_TRUE(
        test::handshake_refused(*before_, revoked, Failure::kRevoked, SSL_AD_CERTIFICATE_REVOKED));
  }
  EXPECT_EQ(remembered(*before_), 0u);
}

}  // namespace
}  // namespace wif::tls
