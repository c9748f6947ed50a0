// Session ticket keys and their rotation, with a fake clock: directly
// through the callback contract, then end to end through resumption.
#include "src/tls/ticket_keys.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
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
using Status = Session::Status;

constexpr int64_t kLifetimeS = 600;

using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, OpenSslFree<EVP_CIPHER_CTX_free>>;
using MacPtr = std::unique_ptr<EVP_MAC, OpenSslFree<EVP_MAC_free>>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, OpenSslFree<EVP_MAC_CTX_free>>;

class TlsTicketKeys : public ::testing::Test {
 protected:
  // The contexts OpenSSL would hand the callback, fresh for each call.
  struct Contexts {
    CipherCtxPtr cipher{EVP_CIPHER_CTX_new()};
    MacPtr hmac{EVP_MAC_fetch(nullptr, "HMAC", nullptr)};
    MacCtxPtr mac{EVP_MAC_CTX_new(hmac.get())};
  };

  // Encrypts a ticket under the current key; returns the key name.
  std::array<unsigned char, 16> issue() {
    Contexts c;
    std::array<unsigned char, 16> name{};
    unsigned char iv[EVP_MAX_IV_LENGTH] = {};
    EXPECT_EQ(keys_.encrypt(name.data(), iv, c.cipher.get(), c.mac.get()), 1);
    return name;
  }

  int accept(const std::array<unsigned char, 16>& name) {
    Contexts c;
    unsigned char iv[EVP_MAX_IV_LENGTH] = {};
    return keys_.decrypt(name.data(), iv, c.cipher.get(), c.mac.get());
  }

  int64_t now_ = 1'800'000'000;
  TicketKeys keys_{kLifetimeS, [this] { return now_; }};
};

TEST_F(TlsTicketKeys, OpensATicketUnderTheCurrentKey) {
  const auto name = issue();

  EXPECT_EQ(accept(name), 1);
  EXPECT_EQ(keys_.rotations(), 0u);
}

TEST_F(TlsTicketKeys, IgnoresAKeyItNeverMade) {
  std::array<unsigned char, 16> name{};
  name.fill(0x5a);

  EXPECT_EQ(accept(name), 0);
}

TEST_F(TlsTicketKeys, RotatesAfterOneLifetimeAndRenewsTicketsUnderThePreviousKey) {
  const auto old_name = issue();
  now_ += kLifetimeS;

  const auto new_name = issue();
  EXPECT_NE(new_name, old_name);
  EXPECT_EQ(keys_.rotations(), 1u);
  EXPECT_EQ(accept(old_name), 2);  // still good; OpenSSL sends a fresh ticket
  EXPECT_EQ(accept(new_name), 1);
}

TEST_F(TlsTicketKeys, ForgetsAKeyAfterTwoLifetimes) {
  const auto old_name = issue();
  now_ += kLifetimeS;
  issue();
  now_ += kLifetimeS;

  EXPECT_EQ(accept(old_name), 0);
  EXPECT_EQ(keys_.rotations(), 2u);
}

TEST_F(TlsTicketKeys, KeepsNoPreviousKeyAfterAnIdlePeriod) {
  const auto old_name = issue();
  now_ += 2 * kLifetimeS;  // nothing happened in between

  EXPECT_EQ(accept(old_name), 0);
}

TEST_F(TlsTicketKeys, RotatesOnDecryptionToo) {
  const auto old_name = issue();
  now_ += kLifetimeS;

  EXPECT_EQ(accept(old_name), 2);
  EXPECT_EQ(keys_.rotations(), 1u);
}

// The same through real TLS 1.3 resumption, with the context's clock faked.
class TlsTicketRotation : public ::testing::Test {
 protected:
  TlsTicketRotation() {
    ContextOptions options = test::default_options();
    options.session_lifetime_s = kLifetimeS;
    options.now_s = [this] { return now_; };
    context_ = ServerContext::build(options);
  }

  // A full handshake; returns the client's session. The client says
  // close_notify first: SSL_free() of a connection that never did marks its
  // session as not resumable.
  SSL_SESSION* first_session() {
    TlsClient client(client_named("client"));
    Session server(*context_);
    EXPECT_EQ(run_handshake(client, server), Status::kOk);
    SSL_shutdown(client.ssl());
    return SSL_get1_session(client.ssl());
  }

  bool resumes(SSL_SESSION* session) {
    TlsClient client(client_named("client"));
    EXPECT_EQ(SSL_set_session(client.ssl(), session), 1);
    Session server(*context_);
    EXPECT_EQ(run_handshake(client, server), Status::kOk) << server.failure_detail();
    SSL_shutdown(client.ssl());
    return server.resumed();
  }

  int64_t now_ = 1'800'000'000;
  std::shared_ptr<const ServerContext> context_;
};

TEST_F(TlsTicketRotation, ResumesAcrossOneRotationButNotTwo) {
  SSL_SESSION* session = first_session();
  ASSERT_NE(session, nullptr);

  EXPECT_TRUE(resumes(session));
  now_ += kLifetimeS;
  EXPECT_TRUE(resumes(session));
  now_ += kLifetimeS;
  EXPECT_FALSE(resumes(session));
  SSL_SESSION_free(session);
}

TEST_F(TlsTicketRotation, TellsClientsTheSessionLifetime) {
  SSL_SESSION* session = first_session();
  ASSERT_NE(session, nullptr);

  EXPECT_EQ(SSL_SESSION_get_ticket_lifetime_hint(session), static_cast<unsigned long>(kLifetimeS));
  SSL_SESSION_free(session);
}

}  // namespace
}  // namespace wif::tls
