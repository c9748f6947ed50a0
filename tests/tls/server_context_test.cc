#include "src/tls/server_context.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "src/tls/session.h"
#include "tests/support/test_support.h"
#include "tests/tls/test_certificates.h"
#include "tests/tls/tls_client.h"

namespace wif::tls {
namespace {

using test::client_named;
using test::TlsClient;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;
using wif::testing::pki;
using wif::testing::read_file;
using wif::testing::write_file;

constexpr int64_t kDay = 86400;
constexpr char kPassphrase[] = "correct horse battery staple";

class TlsServerContext : public ::testing::Test {
 protected:
  // The message of the ContextError build() throws.
  static std::string build_error(const ContextOptions& options) {
    try {
      ServerContext::build(options);
    } catch (const ContextError& error) {
      return error.what();
    }
    return "build() succeeded";
  }

  // Whether a context from these options completes a handshake with the
  // PKI's usual client.
  static bool serves_a_client(const ContextOptions& options, int max_version = TLS1_3_VERSION) {
    std::shared_ptr<const ServerContext> context = ServerContext::build(options);
    Session server(*context);
    TlsClient client(client_named("client", max_version));
    return test::run_handshake(client, server) == Session::Status::kOk && client.handshake_done() &&
           !client.failed();
  }

  // server.key re-written into the test folder in another form.
  ContextOptions with_key(const std::string& key_path) const {
    ContextOptions options = test::default_options();
    options.key_file = key_path;
    return options;
  }

  std::string passphrase_file(const std::string& content) const {
    std::string path = dir_.file("passphrase");
    write_file(path, content);
    std::filesystem::permissions(path, std::filesystem::perms::owner_read);
    return path;
  }

  // server.key copied into the test folder with the given mode.
  ContextOptions with_key_mode(std::filesystem::perms mode) const {
    ContextOptions options = with_key(dir_.file("server.key"));
    test::write_pkcs8_key(options.key_file, server_key_.get());
    std::filesystem::permissions(options.key_file, mode);
    return options;
  }

  wif::testing::TempDir dir_;
  EvpPkeyPtr server_key_ = test::load_key(pki("server.key"));
};

TEST_F(TlsServerContext, DescribesTheServerCertificate) {
  std::shared_ptr<const ServerContext> context = ServerContext::build(test::default_options());

  const CertificateSummary& summary = context->server_certificate();
  EXPECT_EQ(summary.subject, "O=Internal,CN=localhost");
  EXPECT_EQ(summary.issuer, "O=Internal,CN=Demo Intermediate CA");
  EXPECT_EQ(summary.not_after_unix - summary.not_before_unix, 825 * kDay);  // make-pki.sh
}

TEST_F(TlsServerContext, HasTheSameTrustWhateverItsServerCertificate) {
  const ContextOptions base = test::default_options();
  ContextOptions ec = base;
  ec.cert_file = pki("ec-server.crt");
  ec.key_file = pki("ec-server.key");
  ContextOptions revoking = base;
  revoking.crl_files = {pki("intermediate.crl")};
  ContextOptions deeper = base;
  deeper.verify_depth = base.verify_depth + 1;

  const auto first = ServerContext::build(base);
  EXPECT_TRUE(ServerContext::build(base)->same_trust(*first));
  EXPECT_TRUE(ServerContext::build(ec)->same_trust(*first));
  EXPECT_FALSE(ServerContext::build(revoking)->same_trust(*first));
  EXPECT_FALSE(ServerContext::build(deeper)->same_trust(*first));
}

TEST_F(TlsServerContext, DescribesEachAnchor) {
  std::shared_ptr<const ServerContext> context = ServerContext::build(test::default_options());

  ASSERT_EQ(context->anchors().size(), 2u);
  EXPECT_EQ(context->anchors()[0].subject, "O=Internal,CN=Demo Intermediate CA");
  EXPECT_EQ(context->anchors()[0].issuer, "O=Internal,CN=Demo Root CA");
  EXPECT_EQ(context->anchors()[1].subject, "O=Internal,CN=Demo Root CA");
  EXPECT_EQ(context->anchors()[1].not_after_unix - context->anchors()[1].not_before_unix,
            3650 * kDay);
}

TEST_F(TlsServerContext, CountsARepeatedAnchorOnce) {
  ContextOptions options = test::default_options();
  options.client_ca_file = dir_.file("ca.crt");
  write_file(options.client_ca_file,
             read_file(pki("ca-chain.crt")) + read_file(pki("root-ca.crt")));
  std::shared_ptr<const ServerContext> context = ServerContext::build(options);

  EXPECT_EQ(context->anchors().size(), 2u);
  EXPECT_EQ(sk_X509_NAME_num(SSL_CTX_get_client_CA_list(context->native())), 2);
}

TEST_F(TlsServerContext, NamesAMissingCertificateFile) {
  ContextOptions options = test::default_options();
  options.cert_file = dir_.file("missing.crt");

  EXPECT_EQ(build_error(options),
            "cannot read certificate " + options.cert_file + ": No such file or directory");
}

TEST_F(TlsServerContext, NamesACertificateFileWithoutCertificates) {
  ContextOptions options = test::default_options();
  options.cert_file = dir_.file("empty.crt");
  write_file(options.cert_file, "not a certificate\n");

  EXPECT_EQ(build_error(options), "certificate " + options.cert_file + " holds no PEM certificate");
}

TEST_F(TlsServerContext, NamesAMissingKeyFile) {
  ContextOptions options = with_key(dir_.file("missing.key"));

  EXPECT_EQ(build_error(options),
            "cannot read key " + options.key_file + ": No such file or directory");
}

TEST_F(TlsServerContext, NamesAKeyFileWithoutAKey) {
  ContextOptions options = with_key(dir_.file("not-a-key.pem"));
  write_file(options.key_file, read_file(pki("client.crt")));
  std::filesystem::permissions(options.key_file, std::filesystem::perms::owner_read);

  EXPECT_THAT(build_error(options),
              StartsWith("key " + options.key_file + " holds no usable PEM private key"));
}

TEST_F(TlsServerContext, NamesAKeyThatDoesNotMatchTheCertificate) {
  ContextOptions options = with_key(pki("client.key"));

  EXPECT_EQ(build_error(options),
            "key " + options.key_file + " does not match certificate " + options.cert_file);
}

TEST_F(TlsServerContext, TellsAKeyMismatchApartFromOtherProblems) {
  try {
    ServerContext::build(with_key(pki("ec-server.key")));
    FAIL() << "build() succeeded";
  } catch (const ContextError& error) {
    EXPECT_EQ(error.kind(), ContextError::Kind::kKeyMismatch);
  }
  try {
    ServerContext::build(with_key(dir_.file("missing.key")));
    FAIL() << "build() succeeded";
  } catch (const ContextError& error) {
    EXPECT_EQ(error.kind(), ContextError::Kind::kInvalid);
  }
}

TEST_F(TlsServerContext, NamesAKeyOfAnotherTypeThanTheCertificate) {
  ContextOptions options = with_key(pki("ec-server.key"));

  EXPECT_EQ(build_error(options),
            "key " + options.key_file + " does not match certificate " + options.cert_file);
}

TEST_F(TlsServerContext, LoadsAnEncryptedPkcs8KeyWithThePassphraseFromItsFile) {
  ContextOptions options = with_key(dir_.file("server.key"));
  test::write_pkcs8_key(options.key_file, server_key_.get(), kPassphrase);
  ASSERT_THAT(read_file(options.key_file), HasSubstr("BEGIN ENCRYPTED PRIVATE KEY"));
  options.key_passphrase_file = passphrase_file(std::string(kPassphrase) + "\n");

  EXPECT_TRUE(serves_a_client(options));
}

TEST_F(TlsServerContext, StripsACrlfLineEndFromThePassphrase) {
  ContextOptions options = with_key(dir_.file("server.key"));
  test::write_pkcs8_key(options.key_file, server_key_.get(), kPassphrase);
  options.key_passphrase_file = passphrase_file(std::string(kPassphrase) + "\r\n");

  EXPECT_TRUE(serves_a_client(options));
}

TEST_F(TlsServerContext, LoadsAnEncryptedTraditionalRsaKey) {
  ContextOptions options = with_key(dir_.file("server.key"));
  test::write_traditional_key(options.key_file, server_key_.get(), kPassphrase);
  ASSERT_THAT(read_file(options.key_file), HasSubstr("Proc-Type: 4,ENCRYPTED"));
  options.key_passphrase_file = passphrase_file(kPassphrase);

  EXPECT_TRUE(serves_a_client(options));
}

TEST_F(TlsServerContext, RefusesAWrongPassphraseWithoutShowingIt) {
  ContextOptions options = with_key(dir_.file("server.key"));
  test::write_pkcs8_key(options.key_file, server_key_.get(), kPassphrase);
  options.key_passphrase_file = passphrase_file("wrong horse\n");

  std::string message = build_error(options);
  EXPECT_EQ(message, "cannot decrypt key " + options.key_file + " with the passphrase from " +
                         options.key_passphrase_file);
  EXPECT_THAT(message, Not(HasSubstr("wrong horse")));
}

TEST_F(TlsServerContext, RefusesAnEncryptedKeyWithoutAPassphraseFile) {
  ContextOptions options = with_key(dir_.file("server.key"));
  test::write_pkcs8_key(options.key_file, server_key_.get(), kPassphrase);

  EXPECT_EQ(build_error(options),
            "key " + options.key_file + " is encrypted and no key_passphrase_file is set");
}

TEST_F(TlsServerContext, NamesAMissingPassphraseFile) {
  ContextOptions options = with_key(dir_.file("server.key"));
  test::write_pkcs8_key(options.key_file, server_key_.get(), kPassphrase);
  options.key_passphrase_file = dir_.file("missing");

  EXPECT_EQ(build_error(options), "cannot read key_passphrase_file " + options.key_passphrase_file +
                                      ": No such file or directory");
}

TEST_F(TlsServerContext, RefusesAnEmptyPassphraseFile) {
  ContextOptions options = with_key(dir_.file("server.key"));
  test::write_pkcs8_key(options.key_file, server_key_.get(), kPassphrase);
  options.key_passphrase_file = passphrase_file("\n");

  EXPECT_EQ(build_error(options),
            "key_passphrase_file " + options.key_passphrase_file + " is empty");
}

TEST_F(TlsServerContext, RefusesAPassphraseOverTheLimit) {
  ContextOptions options = with_key(dir_.file("server.key"));
  test::write_pkcs8_key(options.key_file, server_key_.get(), kPassphrase);
  options.key_passphrase_file = passphrase_file(std::string(1024, 'p') + "\n");

  EXPECT_EQ(build_error(options),
            "key_passphrase_file " + options.key_passphrase_file + " holds more than 1023 bytes");
}

// Issue #7: a private key readable by others is refused unless allowed.
TEST_F(TlsServerContext, RefusesAKeyReadableByItsGroup) {
  using enum std::filesystem::perms;
  ContextOptions options = with_key_mode(owner_read | owner_write | group_read);

  EXPECT_EQ(build_error(options), "key " + options.key_file +
                                      " is readable by group (mode 0640): make it readable by its "
                                      "owner only (chmod 600), or allow it with "
                                      "tls.key_readable_by: group");
}

TEST_F(TlsServerContext, RefusesAKeyReadableByAnyone) {
  using enum std::filesystem::perms;
  ContextOptions options = with_key_mode(owner_read | owner_write | group_read | others_read);

  EXPECT_EQ(build_error(options), "key " + options.key_file +
                                      " is readable by group and others (mode 0644): make it "
                                      "readable by its owner only (chmod 600), or allow it with "
                                      "tls.key_readable_by: anyone");
}

TEST_F(TlsServerContext, AcceptsAGroupReadableKeyWhenGroupIsAllowed) {
  using enum std::filesystem::perms;
  ContextOptions options = with_key_mode(owner_read | group_read);
  options.key_readable_by = KeyAccess::kGroup;

  EXPECT_TRUE(serves_a_client(options));
}

TEST_F(TlsServerContext, RefusesAKeyReadableByOthersWhenOnlyGroupIsAllowed) {
  using enum std::filesystem::perms;
  ContextOptions options = with_key_mode(owner_read | others_read);
  options.key_readable_by = KeyAccess::kGroup;

  EXPECT_EQ(build_error(options), "key " + options.key_file +
                                      " is readable by others (mode 0404): make it readable by "
                                      "owner and group only (chmod 640), or allow it with "
                                      "tls.key_readable_by: anyone");
}

TEST_F(TlsServerContext, AcceptsAnyModeWhenAnyoneIsAllowed) {
  using enum std::filesystem::perms;
  ContextOptions options = with_key_mode(owner_read | group_read | others_read);
  options.key_readable_by = KeyAccess::kAnyone;

  EXPECT_TRUE(serves_a_client(options));
}

TEST_F(TlsServerContext, RefusesAPassphraseFileReadableByOthers) {
  ContextOptions options = with_key(dir_.file("server.key"));
  test::write_pkcs8_key(options.key_file, server_key_.get(), kPassphrase);
  options.key_passphrase_file = passphrase_file(kPassphrase);
  std::filesystem::permissions(options.key_passphrase_file, std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);

  EXPECT_EQ(build_error(options), "key_passphrase_file " + options.key_passphrase_file +
                                      " is readable by others (mode 0404): make it readable by "
                                      "its owner only (chmod 600), or allow it with "
                                      "tls.key_readable_by: anyone");
}

TEST_F(TlsServerContext, LoadsAnRsaKeyInPkcs1Form) {
  ContextOptions options = with_key(dir_.file("server.key"));
  test::write_traditional_key(options.key_file, server_key_.get());
  ASSERT_THAT(read_file(options.key_file), HasSubstr("BEGIN RSA PRIVATE KEY"));

  EXPECT_TRUE(serves_a_client(options));
}

TEST_F(TlsServerContext, LoadsAnEcKeyInSec1Form) {
  ContextOptions options = test::default_options();
  options.cert_file = pki("ec-server.crt");
  options.key_file = dir_.file("ec-server.key");
  EvpPkeyPtr key = test::load_key(pki("ec-server.key"));
  test::write_traditional_key(options.key_file, key.get());
  ASSERT_THAT(read_file(options.key_file), HasSubstr("BEGIN EC PRIVATE KEY"));

  EXPECT_TRUE(serves_a_client(options, TLS1_2_VERSION));
}

TEST_F(TlsServerContext, ServesWithAnEd25519Key) {
  X509Ptr intermediate = test::load_certificate(pki("intermediate.crt"));
  EvpPkeyPtr intermediate_key = test::load_key(pki("intermediate.key"));
  EvpPkeyPtr key = test::generate_ed25519_key();
  test::CertificateRequest request;
  request.subject = {{"CN", "localhost"}, {"O", "Internal"}};
  request.extensions = {{"basicConstraints", "critical,CA:false"},
                        {"keyUsage", "critical,digitalSignature"},
                        {"extendedKeyUsage", "serverAuth"},
                        {"subjectAltName", "DNS:localhost"}};
  X509Ptr leaf = test::issue(request, key.get(), intermediate.get(), intermediate_key.get());
  ContextOptions options = test::default_options();
  options.cert_file = dir_.file("ed25519.crt");
  options.key_file = dir_.file("ed25519.key");
  test::write_certificates(options.cert_file, {leaf.get(), intermediate.get()});
  test::write_pkcs8_key(options.key_file, key.get());

  std::shared_ptr<const ServerContext> context = ServerContext::build(options);
  Session server(*context);
  TlsClient client(client_named("client"));
  ASSERT_EQ(test::run_handshake(client, server), Session::Status::kOk) << server.failure_detail();
  EXPECT_EQ(EVP_PKEY_get_id(X509_get0_pubkey(SSL_get0_peer_certificate(client.ssl()))),
            EVP_PKEY_ED25519);
}

TEST_F(TlsServerContext, NamesAClientCaFileWithoutCertificates) {
  ContextOptions options = test::default_options();
  options.client_ca_file = dir_.file("ca.crt");
  write_file(options.client_ca_file, "");

  EXPECT_EQ(build_error(options),
            "client_ca " + options.client_ca_file + " holds no PEM certificate");
}

TEST_F(TlsServerContext, NamesTheDamagedCertificateInTheClientCaFile) {
  ContextOptions options = test::default_options();
  options.client_ca_file = dir_.file("ca.crt");
  std::string chain = read_file(pki("ca-chain.crt"));
  size_t second = chain.find("-----BEGIN CERTIFICATE-----", 1);
  ASSERT_NE(second, std::string::npos);
  chain.replace(second + 40, 8, "!!!!!!!!");
  write_file(options.client_ca_file, chain);

  EXPECT_THAT(build_error(options), StartsWith("client_ca " + options.client_ca_file +
                                               ": certificate 2 cannot be parsed"));
}

TEST_F(TlsServerContext, NamesAMissingClientIntermediatesFile) {
  ContextOptions options = test::default_options();
  options.client_intermediates_file = dir_.file("missing.crt");

  EXPECT_EQ(build_error(options), "cannot read client_intermediates " +
                                      options.client_intermediates_file +
                                      ": No such file or directory");
}

TEST_F(TlsServerContext, NamesACrlFileWithoutCrls) {
  ContextOptions options = test::default_options();
  options.crl_files = {pki("root-ca.crt")};

  EXPECT_EQ(build_error(options), "crl " + options.crl_files[0] + " holds no PEM CRL");
}

TEST_F(TlsServerContext, RefusesAVerifyDepthOutOfRange) {
  ContextOptions options = test::default_options();
  options.verify_depth = -1;

  EXPECT_EQ(build_error(options), "verify_depth -1 is out of range (0 to 100)");
}

TEST_F(TlsServerContext, LimitsClientChainsToTheVerifyDepth) {
  ContextOptions options = test::default_options();
  options.verify_depth = 0;  // leaf -> intermediate -> root needs one
  std::shared_ptr<const ServerContext> context = ServerContext::build(options);
  Session server(*context);
  TlsClient client(client_named("client"));

  EXPECT_EQ(test::run_handshake(client, server), Session::Status::kFailed);
  EXPECT_EQ(server.failure(), Failure::kUnknownCa);
  EXPECT_THAT(server.failure_detail(), HasSubstr("certificate chain too long"));
}

TEST_F(TlsServerContext, AcceptsAChainAtTheVerifyDepth) {
  ContextOptions options = test::default_options();
  options.verify_depth = 1;

  EXPECT_TRUE(serves_a_client(options));
}

TEST_F(TlsServerContext, DescribesTheUsagesOfEachServedCertificate) {
  std::shared_ptr<const ServerContext> context = ServerContext::build(test::default_options());

  ASSERT_EQ(context->server_chain().size(), 2u);
  const CertificateSummary& leaf = context->server_chain()[0];
  EXPECT_FALSE(leaf.is_ca);
  EXPECT_THAT(leaf.key_usage, ElementsAre("digitalSignature", "keyEncipherment"));
  EXPECT_THAT(leaf.extended_key_usage, ElementsAre("serverAuth"));
  const CertificateSummary& intermediate = context->server_chain()[1];
  EXPECT_TRUE(intermediate.is_ca);
  EXPECT_EQ(intermediate.subject, "O=Internal,CN=Demo Intermediate CA");
  EXPECT_THAT(intermediate.key_usage, ElementsAre("keyCertSign", "cRLSign"));
  EXPECT_THAT(intermediate.extended_key_usage, IsEmpty());
}

TEST_F(TlsServerContext, DescribesTheClientIntermediates) {
  ContextOptions options = test::default_options();
  options.client_intermediates_file = pki("sub-intermediate.crt");
  std::shared_ptr<const ServerContext> context = ServerContext::build(options);

  ASSERT_EQ(context->intermediates().size(), 1u);
  EXPECT_EQ(context->intermediates()[0].subject, "O=Internal,CN=Demo Sub CA");
}

TEST_F(TlsServerContext, ReportsWhetherTheServedChainLeadsToATrustedRoot) {
  std::shared_ptr<const ServerContext> context = ServerContext::build(test::default_options());
  EXPECT_TRUE(context->server_chain_check().verified) << context->server_chain_check().detail;

  ContextOptions options = test::default_options();
  options.client_ca_file = pki("other-ca.crt");
  context = ServerContext::build(options);
  EXPECT_FALSE(context->server_chain_check().verified);
  EXPECT_EQ(context->server_chain_check().detail, "unable to get local issuer certificate");
}

TEST_F(TlsServerContext, RefusesAnExpiredServerCertificate) {
  ContextOptions options = test::default_options();
  X509Ptr intermediate = test::load_certificate(pki("intermediate.crt"));
  EvpPkeyPtr intermediate_key = test::load_key(pki("intermediate.key"));
  test::CertificateRequest request;
  request.subject = {{"CN", "localhost"}};
  request.extensions = {{"extendedKeyUsage", "serverAuth"}};
  request.valid_from_offset_s = -2 * kDay;
  request.valid_for_s = kDay;
  X509Ptr leaf =
      test::issue(request, server_key_.get(), intermediate.get(), intermediate_key.get());
  options.cert_file = dir_.file("expired.crt");
  test::write_certificates(options.cert_file, {leaf.get(), intermediate.get()});

  EXPECT_THAT(build_error(options),
              StartsWith("certificate " + options.cert_file + " expired on "));
}

TEST_F(TlsServerContext, RefusesAServedChainThatDoesNotLinkUp) {
  ContextOptions options = test::default_options();
  options.cert_file = dir_.file("server.crt");
  X509Ptr leaf = test::load_certificate(pki("server.crt"));
  X509Ptr other = test::load_certificate(pki("other-ca.crt"));
  test::write_certificates(options.cert_file, {leaf.get(), other.get()});

  EXPECT_EQ(build_error(options),
            "certificate " + options.cert_file +
                ": certificate 2 (\"O=Elsewhere,CN=Other Root CA\") did not issue certificate 1 "
                "(\"O=Internal,CN=localhost\"); list the leaf first, then each issuer");
}

TEST_F(TlsServerContext, RefusesAClientCertificateAsTheServerCertificate) {
  ContextOptions options = test::default_options();
  options.cert_file = pki("client.crt");
  options.key_file = pki("client.key");

  EXPECT_EQ(build_error(options),
            "certificate " + options.cert_file +
                " is not for TLS servers (its key usage or extended key usage leaves out "
                "serverAuth)");
}

TEST_F(TlsServerContext, RefusesASessionLifetimeOutOfRange) {
  ContextOptions options = test::default_options();
  options.session_lifetime_s = 0;

  EXPECT_EQ(build_error(options), "session lifetime 0 s is out of range (1 s to 7 days)");
}

}  // namespace
}  // namespace wif::tls
