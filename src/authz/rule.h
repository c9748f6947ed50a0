// Rule: one compiled allow rule. Every field that is set must match the
// peer; a field matches when any of the peer's values of that kind does (a
// certificate may carry several DNS names, URIs, addresses or even CNs).
//
//   cn, o, ou   subject attributes, byte for byte (UTF-8)
//   dns         a subjectAltName DNS name, ignoring ASCII case; a leading
//               "*." stands for exactly one label ("*.ci.corp" matches
//               "a.ci.corp", not "ci.corp" nor "a.b.ci.corp")
//   uri         a subjectAltName URI, see UriPattern
//   email       a subjectAltName email (rfc822Name): the local part byte
//               for byte, the domain ignoring ASCII case (RFC 5280 section
//               4.2.1.6)
//   ip          a subjectAltName iPAddress, see IpRange
//   sha256      the SHA-256 fingerprint of the DER certificate
//   spki        the SHA-256 of the DER SubjectPublicKeyInfo (the SPKI pin)
//
// Built by compile_rule() once at load time; matches() reads only the rule
// and the identity, never allocates, and is safe on any thread.
#pragma once

#include <optional>
#include <string>

#include "src/authz/ip_range.h"
#include "src/authz/uri_pattern.h"
#include "src/config/config.h"
#include "src/tls/peer_identity.h"

namespace wif::authz {

struct DnsPattern {
  std::string name;  // lowercase, without the "*." of a wildcard
  bool one_label_wildcard = false;
};

struct EmailAddress {
  std::string local;
  std::string domain;  // lowercase
};

struct Rule {
  std::optional<std::string> cn, o, ou;
  std::optional<DnsPattern> dns;
  std::optional<UriPattern> uri;
  std::optional<EmailAddress> email;
  std::optional<IpRange> ip;
  std::optional<std::string> sha256;  // 64 lowercase hex digits
  std::optional<std::string> spki;    // 64 lowercase hex digits

  bool matches(const tls::PeerIdentity& peer) const;
};

// Checks every value of `rule` and compiles it. Each value of the wrong
// form is reported into diag at its own mark, as
//   FILE:LINE:COLUMN: tokens.wif.allow[0].ip: got "10.0.0.300" (expected ...)
// nullopt when any value was wrong.
std::optional<Rule> compile_rule(const config::AllowRule& rule, config::Diagnostics& diag);

}  // namespace wif::authz
