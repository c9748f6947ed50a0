#include "src/tls/summaries.h"

#include <openssl/err.h>
#include <openssl/objects.h>

#include <utility>

namespace wif::tls {
namespace {

struct UsageBit {
  uint32_t bit;
  const char* name;
};

// RFC 5280 section 4.2.1.3, in the order of the standard.
constexpr UsageBit kKeyUsages[] = {{KU_DIGITAL_SIGNATURE, "digitalSignature"},
                                   {KU_NON_REPUDIATION, "nonRepudiation"},
                                   {KU_KEY_ENCIPHERMENT, "keyEncipherment"},
                                   {KU_DATA_ENCIPHERMENT, "dataEncipherment"},
                                   {KU_KEY_AGREEMENT, "keyAgreement"},
                                   {KU_KEY_CERT_SIGN, "keyCertSign"},
                                   {KU_CRL_SIGN, "cRLSign"},
                                   {KU_ENCIPHER_ONLY, "encipherOnly"},
                                   {KU_DECIPHER_ONLY, "decipherOnly"}};

using EkuPtr = std::unique_ptr<EXTENDED_KEY_USAGE, OpenSslFree<EXTENDED_KEY_USAGE_free>>;

std::vector<std::string> extended_key_usage(X509* certificate) {
  std::vector<std::string> names;
  EkuPtr usages(static_cast<EXTENDED_KEY_USAGE*>(
      X509_get_ext_d2i(certificate, NID_ext_key_usage, nullptr, nullptr)));
  if (!usages) {
    return names;
  }
  for (int i = 0; i < sk_ASN1_OBJECT_num(usages.get()); ++i) {
    const ASN1_OBJECT* usage = sk_ASN1_OBJECT_value(usages.get(), i);
    const int nid = OBJ_obj2nid(usage);
    if (nid != NID_undef) {
      names.emplace_back(OBJ_nid2sn(nid));
      continue;
    }
    char oid[80];
    if (OBJ_obj2txt(oid, sizeof oid, usage, 1) > 0) {
      names.emplace_back(oid);
    }
  }
  return names;
}

}  // namespace

CertificateSummary summary_of(X509* certificate) {
  CertificateSummary summary;
  summary.subject = rfc2253(X509_get_subject_name(certificate));
  summary.issuer = rfc2253(X509_get_issuer_name(certificate));
  summary.not_before_unix = unix_seconds(X509_get0_notBefore(certificate));
  summary.not_after_unix = unix_seconds(X509_get0_notAfter(certificate));
  // X509_get_extension_flags computes the cached extension values first,
  // which X509_get_key_usage relies on.
  const uint32_t flags = X509_get_extension_flags(certificate);
  summary.is_ca = (flags & EXFLAG_CA) != 0;
  if ((flags & EXFLAG_KUSAGE) != 0) {
    const uint32_t bits = X509_get_key_usage(certificate);
    for (const UsageBit& usage : kKeyUsages) {
      if ((bits & usage.bit) != 0) {
        summary.key_usage.emplace_back(usage.name);
      }
    }
  }
  summary.extended_key_usage = extended_key_usage(certificate);
  ERR_clear_error();
  return summary;
}

CrlSummary summary_of(const X509_CRL* crl, const std::string& file) {
  CrlSummary summary;
  summary.file = file;
  summary.issuer = rfc2253(X509_CRL_get_issuer(crl));
  summary.last_update_unix = unix_seconds(X509_CRL_get0_lastUpdate(crl));
  const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl);
  summary.next_update_unix = next != nullptr ? unix_seconds(next) : 0;
  // X509_CRL_get_REVOKED takes a non-const CRL but only reads it.
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(const_cast<X509_CRL*>(crl));
  summary.revoked = revoked != nullptr ? static_cast<size_t>(sk_X509_REVOKED_num(revoked)) : 0;
  ERR_clear_error();
  return summary;
}

}  // namespace wif::tls
