#include "src/tls/peer_identity.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/err.h>

#include <cctype>
#include <string>

#include "tests/support/test_support.h"
#include "tests/tls/test_certificates.h"

namespace wif::tls {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using wif::testing::pki;

class TlsPeerIdentity : public ::testing::Test {
 protected:
  // A certificate from the PKI's intermediate CA for a fresh EC key.
  X509Ptr issue(const test::CertificateRequest& request) {
    return test::issue(request, key_.get(), intermediate_.get(), intermediate_key_.get());
  }

  PeerIdentity identity_of_file(const std::string& name) {
    X509Ptr certificate = test::load_certificate(pki(name));
    return identity_of(certificate.get());
  }

  X509Ptr intermediate_ = test::load_certificate(pki("intermediate.crt"));
  EvpPkeyPtr intermediate_key_ = test::load_key(pki("intermediate.key"));
  EvpPkeyPtr key_ = test::generate_ec_key();
};

TEST_F(TlsPeerIdentity, WritesSubjectAndIssuerInRfc2253Form) {
  PeerIdentity identity = identity_of_file("client.crt");

  // make-pki.sh writes "/CN=app-team-client/O=Internal"; RFC 2253 lists the
  // last RDN first.
  EXPECT_EQ(identity.subject, "O=Internal,CN=app-team-client");
  EXPECT_EQ(identity.issuer, "O=Internal,CN=Demo Intermediate CA");
}

TEST_F(TlsPeerIdentity, EscapesSpecialCharactersInTheSubject) {
  test::CertificateRequest request;
  request.subject = {{"O", "Acme, Inc."}, {"CN", "a+b"}};

  X509Ptr certificate = issue(request);
  EXPECT_EQ(identity_of(certificate.get()).subject, "CN=a\\+b,O=Acme\\, Inc.");
}

TEST_F(TlsPeerIdentity, ListsEveryNameAttributeInOrder) {
  test::CertificateRequest request;
  request.subject = {{"O", "Internal"}, {"OU", "ci"}, {"OU", "platform"}, {"CN", "runner"}};

  X509Ptr certificate = issue(request);
  PeerIdentity identity = identity_of(certificate.get());
  EXPECT_THAT(identity.common_names, ElementsAre("runner"));
  EXPECT_THAT(identity.organizations, ElementsAre("Internal"));
  EXPECT_THAT(identity.organizational_units, ElementsAre("ci", "platform"));
}

TEST_F(TlsPeerIdentity, KeepsNonAsciiAttributesAsUtf8) {
  test::CertificateRequest request;
  request.subject = {{"CN", "caf\xc3\xa9"}};

  X509Ptr certificate = issue(request);
  PeerIdentity identity = identity_of(certificate.get());
  EXPECT_THAT(identity.common_names, ElementsAre("caf\xc3\xa9"));
  EXPECT_EQ(identity.subject, "CN=caf\\C3\\A9");  // RFC 2253 escapes the bytes
}

TEST_F(TlsPeerIdentity, ListsDnsNamesAndAddressesOfBothFamilies) {
  X509Ptr certificate = test::load_certificate(pki("server.crt"));  // the leaf comes first

  PeerIdentity identity = identity_of(certificate.get());
  EXPECT_THAT(identity.dns_names, ElementsAre("localhost"));
  EXPECT_THAT(identity.ips, ElementsAre("127.0.0.1", "::1"));
}

TEST_F(TlsPeerIdentity, ListsUrisEmailsAndAddressesByKind) {
  test::CertificateRequest request;
  request.subject = {{"CN", "runner"}};
  request.extensions = {{"subjectAltName",
                         "URI:spiffe://corp/ns/ci/sa/runner, email:ci@example.com, "
                         "DNS:runner.internal, IP:10.1.2.3, IP:2001:db8:0:0:0:0:0:7"}};

  X509Ptr certificate = issue(request);
  PeerIdentity identity = identity_of(certificate.get());
  EXPECT_THAT(identity.uris, ElementsAre("spiffe://corp/ns/ci/sa/runner"));
  EXPECT_THAT(identity.emails, ElementsAre("ci@example.com"));
  EXPECT_THAT(identity.dns_names, ElementsAre("runner.internal"));
  EXPECT_THAT(identity.ips, ElementsAre("10.1.2.3", "2001:db8::7"));
}

TEST_F(TlsPeerIdentity, LeavesAltNamesEmptyWithoutTheExtension) {
  PeerIdentity identity = identity_of_file("client.crt");

  EXPECT_THAT(identity.dns_names, IsEmpty());
  EXPECT_THAT(identity.uris, IsEmpty());
  EXPECT_THAT(identity.emails, IsEmpty());
  EXPECT_THAT(identity.ips, IsEmpty());
}

TEST_F(TlsPeerIdentity, DropsAnAltNameWithAnEmbeddedNul) {
  test::CertificateRequest request;
  request.subject = {{"CN", "runner"}};
  X509Ptr certificate = issue(request);
  static constexpr char kSpoof[] = "good.example\0.evil.example";
  GeneralNamesPtr names(GENERAL_NAMES_new());
  GENERAL_NAME* name = GENERAL_NAME_new();
  ASN1_IA5STRING* text = ASN1_IA5STRING_new();
  ASSERT_TRUE(names && name && text);
  ASSERT_EQ(ASN1_STRING_set(text, kSpoof, sizeof(kSpoof) - 1), 1);
  GENERAL_NAME_set0_value(name, GEN_DNS, text);
  ASSERT_GT(sk_GENERAL_NAME_push(names.get(), name), 0);
  ASSERT_EQ(X509_add1_ext_i2d(certificate.get(), NID_subject_alt_name, names.get(), 0,
                              X509V3_ADD_DEFAULT),
            1);

  EXPECT_THAT(identity_of(certificate.get()).dns_names, IsEmpty());
}

TEST_F(TlsPeerIdentity, WritesTheSerialAsLowercaseHex) {
  X509Ptr certificate = test::load_certificate(pki("client.crt"));
  BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate.get()), nullptr);
  ASSERT_NE(serial, nullptr);
  char* upper = BN_bn2hex(serial);
  BN_free(serial);
  ASSERT_NE(upper, nullptr);
  std::string expected(upper);
  OPENSSL_free(upper);
  for (char& c : expected) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }

  EXPECT_EQ(identity_of(certificate.get()).serial_hex, expected);
}

TEST_F(TlsPeerIdentity, KeepsTheLeadingZeroOfASerialByte) {
  test::CertificateRequest request;
  request.subject = {{"CN", "runner"}};
  request.serial = 0x0abcde;

  X509Ptr certificate = issue(request);
  EXPECT_EQ(identity_of(certificate.get()).serial_hex, "0abcde");
}

TEST_F(TlsPeerIdentity, HashesTheDerCertificate) {
  X509Ptr certificate = test::load_certificate(pki("client.crt"));
  unsigned char* der = nullptr;
  int der_len = i2d_X509(certificate.get(), &der);
  ASSERT_GT(der_len, 0);
  OpenSslBytesPtr owned(der);

  EXPECT_EQ(identity_of(certificate.get()).sha256_hex,
            test::sha256_hex(der, static_cast<size_t>(der_len)));
}

// The pin is over the DER SubjectPublicKeyInfo, as `openssl pkey -pubout
// -outform DER | sha256sum` computes it, not over the bare key bits that
// X509_pubkey_digest() hashes.
TEST_F(TlsPeerIdentity, PinsTheWholeSubjectPublicKeyInfo) {
  X509Ptr certificate = test::load_certificate(pki("ec-client.crt"));
  unsigned char* der = nullptr;
  int der_len = i2d_PUBKEY(X509_get0_pubkey(certificate.get()), &der);
  ASSERT_GT(der_len, 0);
  OpenSslBytesPtr owned(der);
  unsigned char bits_md[EVP_MAX_MD_SIZE];
  unsigned int bits_len = 0;
  ASSERT_EQ(X509_pubkey_digest(certificate.get(), EVP_sha256(), bits_md, &bits_len), 1);

  PeerIdentity identity = identity_of(certificate.get());
  EXPECT_EQ(identity.spki_sha256_hex, test::sha256_hex(der, static_cast<size_t>(der_len)));
  EXPECT_NE(identity.spki_sha256_hex, test::sha256_hex(bits_md, bits_len));
}

TEST_F(TlsPeerIdentity, ReadsNotAfterAsUnixSeconds) {
  // make-pki.sh: -enddate 20210101000000Z (a UTCTime).
  EXPECT_EQ(identity_of_file("expired-client.crt").not_after_unix, 1609459200);
}

TEST_F(TlsPeerIdentity, ReadsANotAfterWrittenAsGeneralizedTime) {
  // make-pki.sh: -enddate 20910101000000Z; years from 2050 are GeneralizedTime.
  EXPECT_EQ(identity_of_file("future-client.crt").not_after_unix, 3818448000);
}

TEST_F(TlsPeerIdentity, LeavesNoErrorQueued) {
  test::CertificateRequest request;
  request.subject = {{"CN", "runner"}};
  X509Ptr certificate = issue(request);
  ERR_clear_error();

  identity_of(certificate.get());
  EXPECT_EQ(ERR_peek_error(), 0u);
}

}  // namespace
}  // namespace wif::tls
