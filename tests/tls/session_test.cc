#include "src/tls/session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/err.h>

#include <memory>
#include <string>

#include "tests/support/heap.h"
#include "tests/support/test_support.h"
#include "tests/tls/test_certificates.h"
#include "tests/tls/tls_client.h"

namespace wif::tls {
namespace {

using test::client_named;
using test::ClientOptions;
using test::run_handshake;
using test::TlsClient;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using wif::testing::heap_in_use;
using wif::testing::kGlibcHeap;
using wif::testing::pki;
using Status = Session::Status;

class TlsSession : public ::testing::Test {
 protected:
  void use_context(const ContextOptions& options) { context_ = ServerContext::build(options); }

  // Runs a handshake the server must refuse, and checks that the client was
  // told why through the alert the failed session left to flush.
  void expect_refused(TlsClient& client, Failure failure, int alert) {
    Session server(*context_);
    EXPECT_EQ(run_handshake(client, server), Status::kFailed);
    EXPECT_EQ(server.failure(), failure) << server.failure_detail();
    EXPECT_FALSE(server.established());
    EXPECT_EQ(server.peer(), nullptr);
    EXPECT_TRUE(client.failed());
    EXPECT_THAT(client.alerts_received(), ElementsAre(alert))
        << "client: " << client.failure_detail();
  }

  // A CRL from the intermediate CA listing the given client's serial.
  std::string intermediate_crl_revoking(const std::string& client_certificate) {
    X509Ptr issuer = test::load_certificate(pki("intermediate.crt"));
    EvpPkeyPtr issuer_key = test::load_key(pki("intermediate.key"));
    X509Ptr revoked = test::load_certificate(client_certificate);
    X509CrlPtr crl =
        test::make_crl(issuer.get(), issuer_key.get(), {X509_get0_serialNumber(revoked.get())});
    std::string path = dir_.file("intermediate.crl");
    test::write_crl(path, crl.get());
    return path;
  }

  // An empty CRL from the root, which covers the intermediate.
  std::string root_crl() {
    X509Ptr root = test::load_certificate(pki("root-ca.crt"));
    EvpPkeyPtr root_key = test::load_key(pki("root-ca.key"));
    X509CrlPtr crl = test::make_crl(root.get(), root_key.get(), {});
    std::string path = dir_.file("root.crl");
    test::write_crl(path, crl.get());
    return path;
  }

  wif::testing::TempDir dir_;
  std::shared_ptr<const ServerContext> context_ = ServerContext::build(test::default_options());
};

TEST_F(TlsSession, AcceptsAClientFromTheConfiguredCa) {
  Session server(*context_);
  TlsClient client(client_named("client"));

  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();
  EXPECT_TRUE(server.established());
  EXPECT_TRUE(client.handshake_done());
  EXPECT_FALSE(client.failed()) << client.failure_detail();
  EXPECT_EQ(server.failure(), Failure::kNone);
  EXPECT_EQ(server.protocol_version(), "TLSv1.3");
  ASSERT_NE(server.peer(), nullptr);
  EXPECT_THAT(server.peer()->common_names, ElementsAre("app-team-client"));
  EXPECT_THAT(server.peer()->organizations, ElementsAre("Internal"));
}

TEST_F(TlsSession, TakesThePeerIdentityFromTheClientCertificate) {
  Session server(*context_);
  TlsClient client(client_named("client"));
  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();

  X509Ptr expected = test::load_certificate(pki("client.crt"));
  unsigned char* der = nullptr;
  int der_len = i2d_X509(expected.get(), &der);
  ASSERT_GT(der_len, 0);
  OpenSslBytesPtr owned(der);
  ASSERT_NE(server.peer(), nullptr);
  EXPECT_EQ(server.peer()->subject, "O=Internal,CN=app-team-client");
  EXPECT_EQ(server.peer()->issuer, "O=Internal,CN=Demo Intermediate CA");
  EXPECT_EQ(server.peer()->sha256_hex, test::sha256_hex(der, static_cast<size_t>(der_len)));
}

TEST_F(TlsSession, HasNoPeerBeforeTheHandshakeCompletes) {
  Session server(*context_);
  TlsClient client(client_named("client"));
  client.step();
  test::to_server(client, server);

  EXPECT_EQ(server.handshake(), Status::kWantMore);
  EXPECT_FALSE(server.established());
  EXPECT_EQ(server.peer(), nullptr);
  EXPECT_GT(server.pending_ciphertext(), 0u);  // ServerHello and the rest of its flight
}

TEST_F(TlsSession, CompletesAHandshakeFedOneByteAtATime) {
  Session server(*context_);
  TlsClient client(client_named("client"));
  Status status = Status::kWantMore;
  for (int round = 0; round < 10 && status == Status::kWantMore; ++round) {
    client.step();
    std::string ciphertext = client.take_ciphertext();
    for (char byte : ciphertext) {
      server.feed(&byte, 1);
      status = server.handshake();
      if (status != Status::kWantMore) {
        break;
      }
    }
    test::to_client(server, client);
  }

  EXPECT_EQ(status, Status::kOk) << server.failure_detail();
  EXPECT_NE(server.peer(), nullptr);
}

TEST_F(TlsSession, AcceptsATls12ClientWithAnEphemeralAeadSuite) {
  Session server(*context_);
  TlsClient client(client_named("client", TLS1_2_VERSION));

  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();
  EXPECT_EQ(server.protocol_version(), "TLSv1.2");
  EXPECT_THAT(std::string(server.cipher_name()), ::testing::StartsWith("ECDHE-RSA-"));
  EXPECT_THAT(std::string(server.cipher_name()),
              ::testing::AnyOf(HasSubstr("GCM"), HasSubstr("CHACHA20-POLY1305")));
  ASSERT_NE(server.peer(), nullptr);
  EXPECT_THAT(server.peer()->common_names, ElementsAre("app-team-client"));
}

TEST_F(TlsSession, RefusesATls12ClientWithoutForwardSecrecy) {
  ClientOptions options = client_named("client", TLS1_2_VERSION);
  options.tls12_ciphers = "AES128-GCM-SHA256:AES256-SHA256";
  TlsClient client(options);

  expect_refused(client, Failure::kProtocol, SSL_AD_HANDSHAKE_FAILURE);
}

TEST_F(TlsSession, RefusesATls11Client) {
  ClientOptions options = client_named("client", TLS1_1_VERSION);
  options.min_version = TLS1_1_VERSION;
  options.legacy = true;
  TlsClient client(options);

  expect_refused(client, Failure::kProtocol, SSL_AD_PROTOCOL_VERSION);
}

TEST_F(TlsSession, RefusesATls12ClientWhenTheMinimumIs13) {
  ContextOptions options = test::default_options();
  options.min_version = MinVersion::kTls13;
  use_context(options);
  TlsClient client(client_named("client", TLS1_2_VERSION));

  expect_refused(client, Failure::kProtocol, SSL_AD_PROTOCOL_VERSION);
}

TEST_F(TlsSession, RefusesAClientWithoutACertificateAndTellsItOne) {
  TlsClient client(ClientOptions{});

  expect_refused(client, Failure::kNoCertificate, SSL_AD_CERTIFICATE_REQUIRED);
}

TEST_F(TlsSession, RefusesATls12ClientWithoutACertificate) {
  ClientOptions options;
  options.max_version = TLS1_2_VERSION;
  TlsClient client(options);

  // TLS 1.2 has no certificate_required alert (RFC 5246 section 7.4.6).
  expect_refused(client, Failure::kNoCertificate, SSL_AD_HANDSHAKE_FAILURE);
}

TEST_F(TlsSession, RefusesAClientFromAnotherCa) {
  TlsClient client(client_named("other-client"));

  expect_refused(client, Failure::kUnknownCa, SSL_AD_UNKNOWN_CA);
}

TEST_F(TlsSession, RefusesAnExpiredClient) {
  TlsClient client(client_named("expired-client"));

  expect_refused(client, Failure::kExpired, SSL_AD_CERTIFICATE_EXPIRED);
}

TEST_F(TlsSession, RefusesAClientThatIsNotYetValid) {
  TlsClient client(client_named("future-client"));

  expect_refused(client, Failure::kNotYetValid, SSL_AD_BAD_CERTIFICATE);
}

TEST_F(TlsSession, RefusesAClientCertificateMadeForServersOnly) {
  TlsClient client(client_named("serveronly-client"));

  expect_refused(client, Failure::kBadUsage, SSL_AD_UNSUPPORTED_CERTIFICATE);
}

TEST_F(TlsSession, RefusesAClientCertificateForServersOnlyOverTls12) {
  TlsClient client(client_named("serveronly-client", TLS1_2_VERSION));

  expect_refused(client, Failure::kBadUsage, SSL_AD_UNSUPPORTED_CERTIFICATE);
}

TEST_F(TlsSession, AcceptsAClientCertificateWithoutExtendedKeyUsage) {
  Session server(*context_);
  TlsClient client(client_named("noeku-client"));

  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();
  ASSERT_NE(server.peer(), nullptr);
  EXPECT_THAT(server.peer()->common_names, ElementsAre("noeku-client"));
}

TEST_F(TlsSession, AcceptsAnEcClient) {
  Session server(*context_);
  TlsClient client(client_named("ec-client"));

  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();
  ASSERT_NE(server.peer(), nullptr);
  EXPECT_THAT(server.peer()->common_names, ElementsAre("ec-client"));
}

TEST_F(TlsSession, ServesWithAnEcCertificate) {
  ContextOptions options = test::default_options();
  options.cert_file = pki("ec-server.crt");
  options.key_file = pki("ec-server.key");
  use_context(options);
  Session server(*context_);
  TlsClient client(client_named("client", TLS1_2_VERSION));

  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();
  EXPECT_THAT(std::string(server.cipher_name()), ::testing::StartsWith("ECDHE-ECDSA-"));
  EXPECT_EQ(EVP_PKEY_get_id(X509_get0_pubkey(SSL_get0_peer_certificate(client.ssl()))),
            EVP_PKEY_EC);
}

TEST_F(TlsSession, SendsItsIntermediateWithItsCertificate) {
  Session server(*context_);
  TlsClient client(client_named("client"));  // trusts root-ca.crt only

  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();
  EXPECT_EQ(SSL_get_verify_result(client.ssl()), X509_V_OK);
  EXPECT_EQ(sk_X509_num(SSL_get_peer_cert_chain(client.ssl())), 2);
}

TEST_F(TlsSession, ListsTheAnchorsAsAcceptableCaNames) {
  Session server(*context_);
  TlsClient client(client_named("client"));
  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();

  const STACK_OF(X509_NAME)* names = SSL_get0_peer_CA_list(client.ssl());
  ASSERT_NE(names, nullptr);
  ASSERT_EQ(sk_X509_NAME_num(names), 2);
  EXPECT_EQ(rfc2253(sk_X509_NAME_value(names, 0)), "O=Internal,CN=Demo Intermediate CA");
  EXPECT_EQ(rfc2253(sk_X509_NAME_value(names, 1)), "O=Internal,CN=Demo Root CA");
}

// With TLS 1.3 the client sends its certificate after the server's Finished
// (RFC 8446 section 4.4.2), so the client considers the handshake complete
// before the server has looked at the certificate.
TEST_F(TlsSession, QueuesTheAlertWhenTls13RefusesAfterItsFinished) {
  Session server(*context_);
  TlsClient client(client_named("other-client"));
  Status status = Status::kWantMore;
  for (int round = 0; round < 10 && status == Status::kWantMore; ++round) {
    client.step();
    test::to_server(client, server);
    status = server.handshake();
    if (status == Status::kWantMore) {
      test::to_client(server, client);
    }
  }

  ASSERT_EQ(status, Status::kFailed);
  EXPECT_TRUE(client.handshake_done());
  EXPECT_GT(server.pending_ciphertext(), 0u);
  test::to_client(server, client);
  client.step();
  EXPECT_THAT(client.alerts_received(), ElementsAre(SSL_AD_UNKNOWN_CA));
}

TEST_F(TlsSession, AcceptsALeafOnlyClientThroughTheConfiguredIntermediates) {
  ContextOptions options = test::default_options();
  options.client_ca_file = pki("root-ca.crt");
  options.client_intermediates_file = pki("intermediate.crt");
  use_context(options);
  Session server(*context_);
  TlsClient client(client_named("client"));  // sends client.crt: the leaf only

  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();
  ASSERT_NE(server.peer(), nullptr);
  EXPECT_THAT(server.peer()->common_names, ElementsAre("app-team-client"));
}

TEST_F(TlsSession, RefusesALeafOnlyClientWithoutTheIntermediates) {
  ContextOptions options = test::default_options();
  options.client_ca_file = pki("root-ca.crt");
  use_context(options);
  TlsClient client(client_named("client"));

  expect_refused(client, Failure::kUnknownCa, SSL_AD_UNKNOWN_CA);
}

TEST_F(TlsSession, NeverTrustsTheConfiguredIntermediates) {
  ContextOptions options = test::default_options();
  options.client_ca_file = pki("other-ca.crt");
  options.client_intermediates_file = pki("ca-chain.crt");  // intermediate and root
  use_context(options);
  TlsClient client(client_named("client"));

  expect_refused(client, Failure::kUnknownCa, SSL_AD_UNKNOWN_CA);
}

TEST_F(TlsSession, RefusesARevokedClient) {
  ContextOptions options = test::default_options();
  options.crl_files = {intermediate_crl_revoking(pki("client.crt"))};
  use_context(options);
  TlsClient client(client_named("client"));

  expect_refused(client, Failure::kRevoked, SSL_AD_CERTIFICATE_REVOKED);
}

TEST_F(TlsSession, AcceptsAClientTheCrlDoesNotList) {
  ContextOptions options = test::default_options();
  options.crl_files = {intermediate_crl_revoking(pki("client.crt"))};
  use_context(options);
  Session server(*context_);
  TlsClient client(client_named("ec-client"));

  EXPECT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();
}

TEST_F(TlsSession, AcceptsAChainWithACrlForEveryCa) {
  ContextOptions options = test::default_options();
  options.crl_files = {intermediate_crl_revoking(pki("other-client.crt")), root_crl()};
  options.crl_check_chain = true;
  use_context(options);
  Session server(*context_);
  TlsClient client(client_named("client"));

  EXPECT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();
}

TEST_F(TlsSession, ExchangesApplicationDataBothWays) {
  Session server(*context_);
  TlsClient client(client_named("client"));
  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();

  std::string request;
  EXPECT_EQ(test::client_sends(client, server, "GET /get_wif_token HTTP/1.1\r\n\r\n", request),
            Status::kOk);
  EXPECT_EQ(request, "GET /get_wif_token HTTP/1.1\r\n\r\n");
  EXPECT_EQ(test::server_sends(server, client, "HTTP/1.1 200 OK\r\n\r\n"), Status::kOk);
  EXPECT_EQ(client.received(), "HTTP/1.1 200 OK\r\n\r\n");
}

TEST_F(TlsSession, ReadsEveryRecordFedInOneCall) {
  Session server(*context_);
  TlsClient client(client_named("client"));
  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();
  std::string big(200000, 'x');
  for (size_t i = 0; i < big.size(); i += 7) {
    big[i] = static_cast<char>('a' + i % 26);
  }

  std::string received;
  EXPECT_EQ(test::client_sends(client, server, big, received), Status::kOk);
  EXPECT_EQ(received, big);
  EXPECT_EQ(test::server_sends(server, client, big), Status::kOk);
  EXPECT_EQ(client.received(), big);
}

TEST_F(TlsSession, ReadsTheDataBeforeCloseNotifyThenReportsClosed) {
  Session server(*context_);
  TlsClient client(client_named("client"));
  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();

  client.write("last words");
  ASSERT_EQ(SSL_shutdown(client.ssl()), 0);
  test::to_server(client, server);
  std::string received;
  EXPECT_EQ(server.read(received), Status::kClosed);
  EXPECT_EQ(received, "last words");
  EXPECT_EQ(server.failure(), Failure::kNone);
}

TEST_F(TlsSession, QueuesCloseNotifyOnce) {
  Session server(*context_);
  TlsClient client(client_named("client"));
  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();

  server.close();
  EXPECT_GT(server.pending_ciphertext(), 0u);
  test::to_client(server, client);
  client.step();
  EXPECT_TRUE(client.closed());
  server.close();
  EXPECT_EQ(server.pending_ciphertext(), 0u);
  EXPECT_EQ(server.failure(), Failure::kNone);
}

TEST_F(TlsSession, RefusesRenegotiation) {
  Session server(*context_);
  TlsClient client(client_named("client", TLS1_2_VERSION));
  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();

  ASSERT_EQ(SSL_renegotiate(client.ssl()), 1);
  ASSERT_NE(SSL_do_handshake(client.ssl()), 1);  // sends a new ClientHello, waits
  ERR_clear_error();
  test::to_server(client, server);
  std::string received;
  EXPECT_EQ(server.read(received), Status::kFailed);
  EXPECT_TRUE(server.renegotiation_refused());
  EXPECT_EQ(server.failure(), Failure::kProtocol);
  test::to_client(server, client);
  client.step();

  EXPECT_THAT(client.alerts_received(), Contains(SSL_AD_NO_RENEGOTIATION));
  EXPECT_TRUE(received.empty());
}

// Issue #7: the refusal is told apart from other failures by its flag, so
// a TLS 1.3 key update (which is allowed) must not raise it.
TEST_F(TlsSession, AllowsATls13KeyUpdateWithoutCallingItRenegotiation) {
  Session server(*context_);
  TlsClient client(client_named("client"));
  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();

  ASSERT_EQ(SSL_key_update(client.ssl(), SSL_KEY_UPDATE_REQUESTED), 1);
  std::string received;
  EXPECT_EQ(test::client_sends(client, server, "after the update", received), Status::kOk)
      << server.failure_detail();
  EXPECT_EQ(received, "after the update");
  EXPECT_FALSE(server.renegotiation_refused());
}

// The server's certificate is the problem here, not the client's: the
// reason says so, for an operator to look at the server.
TEST_F(TlsSession, SaysWhenTheClientRefusesTheServersCertificate) {
  ClientOptions options = client_named("client");
  options.trust_file = pki("other-ca.crt");
  TlsClient client(options);
  Session server(*context_);

  EXPECT_EQ(run_handshake(client, server), Status::kFailed);
  EXPECT_EQ(server.failure(), Failure::kServerCertificateRefused) << server.failure_detail();
  EXPECT_THAT(server.failure_detail(), HasSubstr("unknown ca"));
  EXPECT_TRUE(client.failed());
}

TEST_F(TlsSession, SaysWhenATls12ClientRefusesTheServersCertificate) {
  ClientOptions options = client_named("client", TLS1_2_VERSION);
  options.trust_file = pki("other-ca.crt");
  TlsClient client(options);
  Session server(*context_);

  EXPECT_EQ(run_handshake(client, server), Status::kFailed);
  EXPECT_EQ(server.failure(), Failure::kServerCertificateRefused) << server.failure_detail();
}

TEST_F(TlsSession, RefusesPlainHttpAsAProtocolFailure) {
  Session server(*context_);
  const std::string request = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
  server.feed(request.data(), request.size());

  EXPECT_EQ(server.handshake(), Status::kFailed);
  EXPECT_EQ(server.failure(), Failure::kProtocol);
  EXPECT_THAT(server.failure_detail(), HasSubstr("http request"));
  EXPECT_EQ(server.handshake(), Status::kFailed);  // stays failed
}

TEST_F(TlsSession, LeavesNoErrorQueuedAfterAFailure) {
  TlsClient client(client_named("other-client"));
  Session server(*context_);
  ASSERT_EQ(run_handshake(client, server), Status::kFailed);

  EXPECT_THAT(server.failure_detail(), HasSubstr("unable to get local issuer certificate"));
  EXPECT_EQ(ERR_peek_error(), 0u);
}

// A previous connection on this thread may have left an error behind; with it
// in the queue SSL_get_error reports SSL_ERROR_SSL instead of WANT_READ.
// (The handshake needs no such test: OpenSSL's state machine clears the
// queue itself.)
TEST_F(TlsSession, IgnoresAnErrorLeftOnTheThreadBeforeARead) {
  Session server(*context_);
  TlsClient client(client_named("client"));
  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();

  ERR_raise(ERR_LIB_SSL, SSL_R_BAD_PACKET_LENGTH);
  std::string received;
  EXPECT_EQ(server.read(received), Status::kOk) << server.failure_detail();
}

TEST_F(TlsSession, FailsARecordThatWasTamperedWith) {
  Session server(*context_);
  TlsClient client(client_named("client"));
  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();

  client.write("GET / HTTP/1.1\r\n\r\n");
  std::string ciphertext = client.take_ciphertext();
  ciphertext[ciphertext.size() - 1] ^= 0x01;
  server.feed(ciphertext.data(), ciphertext.size());
  std::string received;
  EXPECT_EQ(server.read(received), Status::kFailed);
  EXPECT_EQ(server.failure(), Failure::kProtocol);
  EXPECT_TRUE(received.empty());
  EXPECT_GT(server.pending_ciphertext(), 0u);  // bad_record_mac
}

// A TLS 1.3 connection gives OpenSSL's buffers back with the SSL object at
// the hand-off (hand_off_test.cc); one that stays with OpenSSL gives them
// back once idle.
TEST_F(TlsSession, ReleasesOpenSslsBuffersWhenIdleAndKeepsWorking) {
  Session server(*context_);
  TlsClient client(client_named("client", TLS1_2_VERSION));
  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();
  ASSERT_FALSE(server.handed_off());
  std::string received;
  ASSERT_EQ(test::client_sends(client, server, "GET / HTTP/1.1\r\n\r\n", received), Status::kOk);
  ASSERT_EQ(test::server_sends(server, client, "HTTP/1.1 200 OK\r\n\r\n"), Status::kOk);

  // Both record buffers (16 KiB and more each) and the memory BIOs the
  // handshake's flights made grow.
  const size_t before = heap_in_use();
  server.release_buffers();
  if (kGlibcHeap) {
    EXPECT_GT(before, heap_in_use() + 32 * 1024);
  }

  received.clear();
  ASSERT_EQ(test::client_sends(client, server, "GET /a HTTP/1.1\r\n\r\n", received), Status::kOk);
  EXPECT_EQ(received, "GET /a HTTP/1.1\r\n\r\n");
  ASSERT_EQ(test::server_sends(server, client, "HTTP/1.1 204 No Content\r\n\r\n"), Status::kOk);
  EXPECT_EQ(client.received(), "HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
}

TEST_F(TlsSession, KeepsItsBuffersWhileCiphertextIsPending) {
  Session server(*context_);
  TlsClient client(client_named("client"));
  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();
  ASSERT_EQ(server.write("answer"), Status::kOk);
  ASSERT_GT(server.pending_ciphertext(), 0u);
  server.release_buffers();

  test::to_client(server, client);
  client.step();
  EXPECT_EQ(client.received(), "answer");
}

TEST_F(TlsSession, ResumesASessionFromATicketWithTheSameIdentity) {
  TlsClient first(client_named("client"));
  Session first_server(*context_);
  ASSERT_EQ(run_handshake(first, first_server), Status::kOk) << first_server.failure_detail();
  SSL_SESSION* session = SSL_get1_session(first.ssl());
  ASSERT_NE(session, nullptr);
  ASSERT_TRUE(SSL_SESSION_is_resumable(session));

  TlsClient second(client_named("client"));
  ASSERT_EQ(SSL_set_session(second.ssl(), session), 1);
  SSL_SESSION_free(session);
  Session second_server(*context_);
  ASSERT_EQ(run_handshake(second, second_server), Status::kOk) << second_server.failure_detail();

  EXPECT_TRUE(second_server.resumed());
  ASSERT_NE(second_server.peer(), nullptr);
  EXPECT_EQ(second_server.peer()->sha256_hex, first_server.peer()->sha256_hex);
}

// Stateless tickets would make OpenSSL 3.0 decode the client certificate
// again for every ticket made and every resumption (issue #6): the session
// stays in the server's cache, and one ticket naming it is sent.
TEST_F(TlsSession, KeepsOneSessionInTheServerCachePerHandshake) {
  TlsClient client(client_named("client"));
  Session server(*context_);
  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();
  EXPECT_EQ(SSL_CTX_sess_number(context_->native()), 1);

  TlsClient other(client_named("ec-client"));
  Session other_server(*context_);
  ASSERT_EQ(run_handshake(other, other_server), Status::kOk) << other_server.failure_detail();
  EXPECT_EQ(SSL_CTX_sess_number(context_->native()), 2);
}

// The ticket's lifetime is what session_lifetime allows (RFC 8446 section
// 4.6.1); the cached session lives as long (SSL_CTX_set_timeout(3)).
TEST_F(TlsSession, TellsClientsTheSessionLifetime) {
  ContextOptions options = test::default_options();
  options.session_lifetime_s = 120;
  use_context(options);
  TlsClient client(client_named("client"));
  Session server(*context_);
  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();
  SSL_SESSION* session = SSL_get1_session(client.ssl());
  ASSERT_NE(session, nullptr);

  EXPECT_EQ(SSL_SESSION_get_ticket_lifetime_hint(session), 120u);
  SSL_SESSION_free(session);
}

// The server's end goes away before it has seen the client's close_notify
// (the socket died, the daemon stopped): the session stays resumable.
TEST_F(TlsSession, ResumesASessionWhoseServerEndClosedWithoutCloseNotify) {
  SSL_SESSION* session = nullptr;
  {
    TlsClient first(client_named("client"));
    Session first_server(*context_);
    ASSERT_EQ(run_handshake(first, first_server), Status::kOk) << first_server.failure_detail();
    session = SSL_get1_session(first.ssl());
    // The client ends properly, so it keeps its session; the server never
    // reads that close_notify.
    SSL_shutdown(first.ssl());
  }
  ASSERT_NE(session, nullptr);
  TlsClient second(client_named("client"));
  ASSERT_EQ(SSL_set_session(second.ssl(), session), 1);
  SSL_SESSION_free(session);
  Session second_server(*context_);
  ASSERT_EQ(run_handshake(second, second_server), Status::kOk) << second_server.failure_detail();
  EXPECT_TRUE(second_server.resumed());
}

TEST_F(TlsSession, ResumesATls12SessionByIdWhenTicketsAreOff) {
  ContextOptions options = test::default_options();
  options.session_tickets = false;
  use_context(options);
  TlsClient first(client_named("client", TLS1_2_VERSION));
  Session first_server(*context_);
  ASSERT_EQ(run_handshake(first, first_server), Status::kOk) << first_server.failure_detail();
  SSL_SESSION* session = SSL_get1_session(first.ssl());
  ASSERT_NE(session, nullptr);
  EXPECT_FALSE(SSL_SESSION_has_ticket(session));

  TlsClient second(client_named("client", TLS1_2_VERSION));
  ASSERT_EQ(SSL_set_session(second.ssl(), session), 1);
  SSL_SESSION_free(session);
  Session second_server(*context_);
  ASSERT_EQ(run_handshake(second, second_server), Status::kOk) << second_server.failure_detail();

  EXPECT_TRUE(second_server.resumed());
  ASSERT_NE(second_server.peer(), nullptr);
  EXPECT_THAT(second_server.peer()->common_names, ElementsAre("app-team-client"));
}

// OpenSSL does not verify a resumed session's certificate again. The first
// handshake stands in for one made while the certificate was still valid:
// this test's context skips the time check, which build() never does.
TEST_F(TlsSession, RefusesToResumeASessionWhoseCertificateHasExpired) {
  X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(context_->native()), X509_V_FLAG_NO_CHECK_TIME);
  TlsClient first(client_named("expired-client"));
  Session first_server(*context_);
  ASSERT_EQ(run_handshake(first, first_server), Status::kOk) << first_server.failure_detail();
  SSL_SESSION* session = SSL_get1_session(first.ssl());
  ASSERT_NE(session, nullptr);

  TlsClient second(client_named("expired-client"));
  ASSERT_EQ(SSL_set_session(second.ssl(), session), 1);
  SSL_SESSION_free(session);
  Session second_server(*context_);
  EXPECT_EQ(run_handshake(second, second_server), Status::kFailed);
  EXPECT_TRUE(second_server.resumed());
  EXPECT_EQ(second_server.failure(), Failure::kExpired);
  EXPECT_EQ(second_server.peer(), nullptr);
}

TEST_F(TlsSession, SendsNoTls13TicketWhenTicketsAreOff) {
  ContextOptions options = test::default_options();
  options.session_tickets = false;
  use_context(options);
  TlsClient client(client_named("client"));
  Session server(*context_);
  ASSERT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();

  SSL_SESSION* session = SSL_get1_session(client.ssl());
  ASSERT_NE(session, nullptr);
  EXPECT_FALSE(SSL_SESSION_is_resumable(session));
  SSL_SESSION_free(session);
}

TEST(TlsFailure, NamesAreTheMetricLabelValues) {
  EXPECT_EQ(failure_name(Failure::kNone), "none");
  EXPECT_EQ(failure_name(Failure::kNoCertificate), "no_certificate");
  EXPECT_EQ(failure_name(Failure::kUnknownCa), "unknown_ca");
  EXPECT_EQ(failure_name(Failure::kExpired), "expired");
  EXPECT_EQ(failure_name(Failure::kNotYetValid), "not_yet_valid");
  EXPECT_EQ(failure_name(Failure::kRevoked), "revoked");
  EXPECT_EQ(failure_name(Failure::kBadUsage), "bad_usage");
  EXPECT_EQ(failure_name(Failure::kRevocationUnknown), "revocation_unknown");
  EXPECT_EQ(failure_name(Failure::kServerCertificateRefused), "server_certificate_refused");
  EXPECT_EQ(failure_name(Failure::kProtocol), "protocol");
}

}  // namespace
}  // namespace wif::tls
