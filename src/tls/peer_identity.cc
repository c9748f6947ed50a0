#include "src/tls/peer_identity.h"

#include <arpa/inet.h>
#include <openssl/err.h>

#include <string_view>

#include "src/tls/openssl_helpers.h"

namespace wif::tls {
namespace {

// Access rules compare these strings byte for byte. A value with an embedded
// NUL ("good.example\0.evil.example") is malformed and could fool a rule that
// some other tool applies to a C string, so such a value is left out: it can
// then match no rule at all.
bool usable(std::string_view value) { return value.find('\0') == std::string_view::npos; }

std::vector<std::string> attribute_values(const X509_NAME* name, int nid) {
  std::vector<std::string> values;
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, nid, i)) {
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len < 0) {
      // Not convertible to UTF-8: the attribute cannot match a rule.
      continue;
    }
    OpenSslBytesPtr owned(utf8);
    std::string value(reinterpret_cast<const char*>(utf8), static_cast<size_t>(len));
    if (usable(value)) {
      values.push_back(std::move(value));
    }
  }
  return values;
}

void add_ia5(const ASN1_IA5STRING* text, std::vector<std::string>& out) {
  std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                    static_cast<size_t>(ASN1_STRING_length(text)));
  if (usable(value)) {
    out.push_back(std::move(value));
  }
}

// An iPAddress entry holds the address in network order: 4 bytes for IPv4,
// 16 for IPv6 (RFC 5280 section 4.2.1.6). inet_ntop writes IPv6 in the
// RFC 5952 form ("::1").
void add_ip(const ASN1_OCTET_STRING* address, std::vector<std::string>& out) {
  char text[INET6_ADDRSTRLEN];
  int family = 0;
  switch (ASN1_STRING_length(address)) {
    case 4:
      family = AF_INET;
      break;
    case 16:
      family = AF_INET6;
      break;
    default:
      return;  // not an address a peer can hold
  }
  if (inet_ntop(family, ASN1_STRING_get0_data(address), text, sizeof(text)) != nullptr) {
    out.emplace_back(text);
  }
}

void add_alt_names(const X509* certificate, PeerIdentity& identity) {
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) {
    return;
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    int type = 0;
    const void* value = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(names.get(), i), &type);
    switch (type) {
      case GEN_DNS:
        add_ia5(static_cast<const ASN1_IA5STRING*>(value), identity.dns_names);
        break;
      case GEN_URI:
        add_ia5(static_cast<const ASN1_IA5STRING*>(value), identity.uris);
        break;
      case GEN_EMAIL:
        add_ia5(static_cast<const ASN1_IA5STRING*>(value), identity.emails);
        break;
      case GEN_IPADD:
        add_ip(static_cast<const ASN1_OCTET_STRING*>(value), identity.ips);
        break;
      default:
        break;  // otherName, directoryName, registeredID: no rule uses them
    }
  }
}

// The magnitude bytes of the INTEGER, as `openssl x509 -serial` prints them.
// RFC 5280 forbids negative serials but some old CAs issued them.
std::string serial_hex(const ASN1_INTEGER* serial) {
  std::string hex =
      lowercase_hex(ASN1_STRING_get0_data(serial), static_cast<size_t>(ASN1_STRING_length(serial)));
  if (ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER) {
    hex.insert(0, 1, '-');
  }
  return hex;
}

std::string certificate_sha256(const X509* certificate) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(certificate, EVP_sha256(), md, &len) != 1) {
    return {};
  }
  return lowercase_hex(md, len);
}

// The pin covers the whole DER SubjectPublicKeyInfo (algorithm and key, as
// in RFC 7469 section 2.4), not just the key bits that X509_pubkey_digest()
// hashes.
std::string spki_sha256(const X509* certificate) {
  unsigned char* der = nullptr;
  int der_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(certificate), &der);
  if (der_len <= 0) {
    return {};
  }
  OpenSslBytesPtr owned(der);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(der, static_cast<size_t>(der_len), md, &len, EVP_sha256(), nullptr) != 1) {
    return {};
  }
  return lowercase_hex(md, len);
}

}  // namespace

PeerIdentity identity_of(X509* certificate) {
  PeerIdentity identity;
  const X509_NAME* subject = X509_get_subject_name(certificate);
  identity.subject = rfc2253(subject);
  identity.issuer = rfc2253(X509_get_issuer_name(certificate));
  identity.common_names = attribute_values(subject, NID_commonName);
  identity.organizations = attribute_values(subject, NID_organizationName);
  identity.organizational_units = attribute_values(subject, NID_organizationalUnitName);
  add_alt_names(certificate, identity);
  identity.serial_hex = serial_hex(X509_get0_serialNumber(certificate));
  identity.sha256_hex = certificate_sha256(certificate);
  identity.spki_sha256_hex = spki_sha256(certificate);
  identity.not_after_unix = unix_seconds(X509_get0_notAfter(certificate));

  // Nothing above may leave an entry behind for the connection's next
  // OpenSSL call (a malformed extension, a failed conversion).
  ERR_clear_error();
  return identity;
}

}  // namespace wif::tls
