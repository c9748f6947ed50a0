#include "tests/tls/test_certificates.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <cctype>
#include <stdexcept>

#include "tests/support/test_support.h"

namespace wif::tls::test {
namespace {

[[noreturn]] void fail(const std::string& what) {
  DrainedErrors errors = drain_error_queue();
  throw std::runtime_error(what + ": " + errors.text);
}

BioPtr open_for_write(const std::string& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "wb"));
  if (!bio) {
    fail("cannot write " + path);
  }
  return bio;
}

using Asn1TimePtr = std::unique_ptr<ASN1_TIME, OpenSslFree<ASN1_TIME_free>>;

// Keys are written as they should be kept: readable by their owner only,
// which ServerContext::build() insists on by default.
void owner_only(const std::string& path) {
  if (::chmod(path.c_str(), 0600) != 0) {
    throw std::runtime_error("cannot chmod " + path);
  }
}

}  // namespace

ContextOptions default_options() {
  ContextOptions options;
  options.cert_file = wif::testing::pki("server.crt");
  options.key_file = wif::testing::pki("server.key");
  options.client_ca_file = wif::testing::pki("ca-chain.crt");
  return options;
}

X509Ptr load_certificate(const std::string& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "rb"));
  X509Ptr certificate(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!certificate) {
    fail("cannot load a certificate from " + path);
  }
  return certificate;
}

EvpPkeyPtr load_key(const std::string& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "rb"));
  EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    fail("cannot load a key from " + path);
  }
  return key;
}

EvpPkeyPtr generate_ec_key() {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) {
    fail("cannot generate an EC key");
  }
  return key;
}

EvpPkeyPtr generate_ed25519_key() {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!key) {
    fail("cannot generate an Ed25519 key");
  }
  return key;
}

X509Ptr issue(const CertificateRequest& request, EVP_PKEY* subject_key, X509* issuer,
              EVP_PKEY* issuer_key) {
  X509Ptr certificate(X509_new());
  if (!certificate || X509_set_version(certificate.get(), X509_VERSION_3) != 1 ||
      ASN1_INTEGER_set_int64(X509_get_serialNumber(certificate.get()), request.serial) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(certificate.get()), request.valid_from_offset_s) ==
          nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(certificate.get()),
                      request.valid_from_offset_s + request.valid_for_s) == nullptr ||
      X509_set_pubkey(certificate.get(), subject_key) != 1 ||
      X509_set_issuer_name(certificate.get(), X509_get_subject_name(issuer)) != 1) {
    fail("cannot set up a certificate");
  }
  X509_NAME* subject = X509_get_subject_name(certificate.get());
  for (const auto& [field, value] : request.subject) {
    if (X509_NAME_add_entry_by_txt(subject, field.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                   0) != 1) {
      fail("cannot add " + field + " to a subject");
    }
  }
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, issuer, certificate.get(), nullptr, nullptr, 0);
  for (const auto& [name, value] : request.extensions) {
    X509_EXTENSION* extension = X509V3_EXT_nconf(nullptr, &v3, name.c_str(), value.c_str());
    if (extension == nullptr) {
      fail("cannot make extension " + name);
    }
    int added = X509_add_ext(certificate.get(), extension, -1);
    X509_EXTENSION_free(extension);
    if (added != 1) {
      fail("cannot add extension " + name);
    }
  }
  const EVP_MD* md = EVP_PKEY_get_id(issuer_key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
  if (X509_sign(certificate.get(), issuer_key, md) <= 0) {
    fail("cannot sign a certificate");
  }
  return certificate;
}

X509CrlPtr make_crl(X509* issuer, EVP_PKEY* issuer_key,
                    const std::vector<const ASN1_INTEGER*>& revoked) {
  X509CrlPtr crl(X509_CRL_new());
  Asn1TimePtr last_update(X509_gmtime_adj(nullptr, -3600));
  Asn1TimePtr next_update(X509_gmtime_adj(nullptr, 86400));
  if (!crl || !last_update || !next_update || X509_CRL_set_version(crl.get(), 1) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer)) != 1 ||
      X509_CRL_set1_lastUpdate(crl.get(), last_update.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next_update.get()) != 1) {
    fail("cannot set up a CRL");
  }
  for (const ASN1_INTEGER* serial : revoked) {
    X509_REVOKED* entry = X509_REVOKED_new();
    // X509_REVOKED_set_serialNumber copies the serial; it only lacks the const.
    if (entry == nullptr ||
        X509_REVOKED_set_serialNumber(entry, const_cast<ASN1_INTEGER*>(serial)) != 1 ||
        X509_REVOKED_set_revocationDate(entry, last_update.get()) != 1 ||
        X509_CRL_add0_revoked(crl.get(), entry) != 1) {
      X509_REVOKED_free(entry);
      fail("cannot add a revoked serial");
    }
  }
  if (X509_CRL_sort(crl.get()) != 1 || X509_CRL_sign(crl.get(), issuer_key, EVP_sha256()) <= 0) {
    fail("cannot sign a CRL");
  }
  return crl;
}

void write_certificates(const std::string& path, const std::vector<X509*>& certificates) {
  BioPtr bio = open_for_write(path);
  for (X509* certificate : certificates) {
    if (PEM_write_bio_X509(bio.get(), certificate) != 1) {
      fail("cannot write a certificate to " + path);
    }
  }
}

void write_crl(const std::string& path, X509_CRL* crl) {
  BioPtr bio = open_for_write(path);
  if (PEM_write_bio_X509_CRL(bio.get(), crl) != 1) {
    fail("cannot write a CRL to " + path);
  }
}

void write_pkcs8_key(const std::string& path, EVP_PKEY* key, std::string_view passphrase) {
  BioPtr bio = open_for_write(path);
  const EVP_CIPHER* cipher = passphrase.empty() ? nullptr : EVP_aes_256_cbc();
  if (PEM_write_bio_PKCS8PrivateKey(bio.get(), key, cipher, passphrase.data(),
                                    static_cast<int>(passphrase.size()), nullptr, nullptr) != 1) {
    fail("cannot write a key to " + path);
  }
  owner_only(path);
}

void write_traditional_key(const std::string& path, EVP_PKEY* key, std::string_view passphrase) {
  BioPtr bio = open_for_write(path);
  const EVP_CIPHER* cipher = passphrase.empty() ? nullptr : EVP_aes_256_cbc();
  std::string copy(passphrase);  // the API takes a non-const buffer
  if (PEM_write_bio_PrivateKey_traditional(bio.get(), key, cipher,
                                           reinterpret_cast<unsigned char*>(copy.data()),
                                           static_cast<int>(copy.size()), nullptr, nullptr) != 1) {
    fail("cannot write a key to " + path);
  }
  owner_only(path);
}

std::string sha256_hex(const unsigned char* bytes, size_t len) {
  unsigned char md[EVP_MAX_MD_SIZE];
  size_t md_len = 0;
  if (EVP_Q_digest(nullptr, "SHA256", nullptr, bytes, len, md, &md_len) != 1) {
    fail("cannot hash");
  }
  // OPENSSL_buf2hexstr_ex writes uppercase; an independent check of the
  // library's own hex encoding.
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  size_t hex_len = 0;
  if (OPENSSL_buf2hexstr_ex(hex, sizeof(hex), &hex_len, md, md_len, '\0') != 1) {
    fail("cannot encode a digest");
  }
  std::string text(hex);
  for (char& c : text) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

}  // namespace wif::tls::test
