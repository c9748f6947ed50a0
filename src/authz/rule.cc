#include "src/authz/rule.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include "src/authz/text_match.h"

namespace wif::authz {
namespace {

constexpr size_t kSha256HexDigits = 64;

constexpr std::string_view kDnsExpected =
    "a DNS name such as runner.ci.corp, or *.ci.corp for any one label in front";
constexpr std::string_view kEmailExpected = "an email address such as ci@corp.example";
constexpr std::string_view kSha256Expected =
    "the certificate's SHA-256 fingerprint: 64 hex digits, optionally in colon-separated "
    "pairs as `openssl x509 -noout -fingerprint -sha256` prints them";
constexpr std::string_view kSpkiExpected =
    "the SHA-256 of the public key (SPKI): 64 hex digits, optionally in colon-separated "
    "pairs, as `openssl x509 -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum` "
    "prints them";

bool is_hex_digit(char c) {
  return is_ascii_digit(c) || (ascii_lower(c) >= 'a' && ascii_lower(c) <= 'f');
}

// "AB:CD:..." or "abcd...": 32 bytes of hex, every pair separated by a colon
// or none at all. Lowercase hex, as PeerIdentity holds it.
std::optional<std::string> parse_sha256(std::string_view text) {
  const bool colons = text.find(':') != std::string_view::npos;
  std::string hex;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (colons && i % 3 == 2) {
      if (c != ':') {
        return std::nullopt;
      }
      continue;
    }
    if (!is_hex_digit(c)) {
      return std::nullopt;
    }
    hex += ascii_lower(c);
  }
  if (hex.size() != kSha256HexDigits || (colons && text.size() != kSha256HexDigits * 3 / 2 - 1)) {
    return std::nullopt;
  }
  return hex;
}

// RFC 1123 host names: labels of letters, digits and hyphens (underscores
// too, which some internal zones use), not starting or ending with a
// hyphen, at most 63 bytes each.
bool is_dns_label(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
    return false;
  }
  return std::all_of(label.begin(), label.end(), [](char c) {
    return is_ascii_letter(c) || is_ascii_digit(c) || c == '-' || c == '_';
  });
}

std::optional<DnsPattern> parse_dns(std::string_view text) {
  DnsPattern pattern;
  if (text.starts_with("*.")) {
    pattern.one_label_wildcard = true;
    text.remove_prefix(2);
  }
  if (text.empty() || text.size() > 253) {
    return std::nullopt;
  }
  size_t start = 0;
  while (start <= text.size()) {
    size_t dot = text.find('.', start);
    if (dot == std::string_view::npos) {
      dot = text.size();
    }
    if (!is_dns_label(text.substr(start, dot - start))) {
      return std::nullopt;
    }
    start = dot + 1;
  }
  pattern.name = ascii_lowercase(text);
  return pattern;
}

std::optional<EmailAddress> parse_email(std::string_view text) {
  const size_t at = text.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == text.size() ||
      text.find_first_of(" \t\r\n") != std::string_view::npos) {
    return std::nullopt;
  }
  const std::optional<DnsPattern> domain = parse_dns(text.substr(at + 1));
  if (!domain || domain->one_label_wildcard) {
    return std::nullopt;
  }
  return EmailAddress{std::string(text.substr(0, at)), domain->name};
}

bool dns_matches(const DnsPattern& pattern, std::string_view name) {
  if (!pattern.one_label_wildcard) {
    return equals_ignoring_ascii_case(name, pattern.name);
  }
  // "*.ci.corp": one non-empty label, a dot, then the name.
  const size_t dot = name.find('.');
  return dot != std::string_view::npos && dot > 0 &&
         equals_ignoring_ascii_case(name.substr(dot + 1), pattern.name);
}

bool email_matches(const EmailAddress& address, std::string_view email) {
  const size_t at = email.rfind('@');
  return at != std::string_view::npos && email.substr(0, at) == address.local &&
         equals_ignoring_ascii_case(email.substr(at + 1), address.domain);
}

template <typename Predicate>
bool any_of(const std::vector<std::string>& values, Predicate predicate) {
  return std::any_of(values.begin(), values.end(), predicate);
}

bool contains(const std::vector<std::string>& values, const std::string& wanted) {
  return std::find(values.begin(), values.end(), wanted) != values.end();
}

// Reports a value of the wrong form, at its own mark when it has one.
class RuleChecker {
 public:
  RuleChecker(const config::AllowRule& rule, config::Diagnostics& diag)
      : rule_(rule), diag_(diag) {}

  void reject(const std::string& key, const std::string& value, std::string_view expected) {
    const auto found = rule_.marks.find(key);
    const config::Mark& mark = found != rule_.marks.end() ? found->second : rule_.mark;
    diag_.error(mark, rule_.field + "." + key,
                "got " + config::quote(value) + " (expected " + std::string(expected) + ")");
    ok_ = false;
  }
  bool ok() const { return ok_; }

 private:
  const config::AllowRule& rule_;
  config::Diagnostics& diag_;
  bool ok_ = true;
};

}  // namespace

bool Rule::matches(const tls::PeerIdentity& peer) const {
  if (cn && !contains(peer.common_names, *cn)) {
    return false;
  }
  if (o && !contains(peer.organizations, *o)) {
    return false;
  }
  if (ou && !contains(peer.organizational_units, *ou)) {
    return false;
  }
  if (dns && !any_of(peer.dns_names, [&](const std::string& n) { return dns_matches(*dns, n); })) {
    return false;
  }
  if (uri && !any_of(peer.uris, [&](const std::string& u) { return uri->matches(u); })) {
    return false;
  }
  if (email &&
      !any_of(peer.emails, [&](const std::string& e) { return email_matches(*email, e); })) {
    return false;
  }
  if (ip && !any_of(peer.ips, [&](const std::string& a) { return ip->matches(a); })) {
    return false;
  }
  // An identity whose digest could not be computed holds "", which never
  // equals a parsed fingerprint.
  if (sha256 && peer.sha256_hex != *sha256) {
    return false;
  }
  if (spki && peer.spki_sha256_hex != *spki) {
    return false;
  }
  return true;
}

std::optional<Rule> compile_rule(const config::AllowRule& source, config::Diagnostics& diag) {
  RuleChecker checker(source, diag);
  Rule rule;
  rule.cn = source.cn;
  rule.o = source.o;
  rule.ou = source.ou;
  if (source.dns) {
    rule.dns = parse_dns(*source.dns);
    if (!rule.dns) {
      checker.reject("dns", *source.dns, kDnsExpected);
    }
  }
  if (source.uri) {
    std::string expected;
    rule.uri = UriPattern::parse(*source.uri, expected);
    if (!rule.uri) {
      checker.reject("uri", *source.uri, expected);
    }
  }
  if (source.email) {
    rule.email = parse_email(*source.email);
    if (!rule.email) {
      checker.reject("email", *source.email, kEmailExpected);
    }
  }
  if (source.ip) {
    std::string expected;
    rule.ip = IpRange::parse(*source.ip, expected);
    if (!rule.ip) {
      checker.reject("ip", *source.ip, expected);
    }
  }
  if (source.sha256) {
    rule.sha256 = parse_sha256(*source.sha256);
    if (!rule.sha256) {
      checker.reject("sha256", *source.sha256, kSha256Expected);
    }
  }
  if (source.spki) {
    rule.spki = parse_sha256(*source.spki);
    if (!rule.spki) {
      checker.reject("spki", *source.spki, kSpkiExpected);
    }
  }
  if (!checker.ok()) {
    return std::nullopt;
  }
  return rule;
}

}  // namespace wif::authz
