// UriPattern: a URI an allow rule's `uri` field matches, with wildcards in
// its path for SPIFFE IDs and similar workload URIs.
//
// The pattern is cut at each '/', as the URI is. A segment written `*`
// matches exactly one non-empty segment; a last segment written `**` matches
// the rest of the URI, one segment or more ("spiffe://corp/ns/ci/**" matches
// "spiffe://corp/ns/ci/sa/runner" but not "spiffe://corp/ns/ci"). Any other
// segment matches itself: byte for byte in the path, ignoring ASCII case in
// the scheme and the authority (RFC 3986 section 6.2.2.1). Wildcards stand
// for whole segments only, and never in the scheme or the authority. A URI
// with a "." or ".." segment, a '%', a '?' or a '#' matches no pattern: it
// could mean another path to whoever reads it next.
//
// Parsed once when the config is loaded; matches() never allocates. An
// immutable value, safe to share between threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wif::authz {

class UriPattern {
 public:
  // nullopt when `text` is not a pattern of the form above; `error` then
  // says what is wrong, as the end of "expected ..." ("a URI with a scheme
  // such as spiffe://...").
  static std::optional<UriPattern> parse(std::string_view text, std::string& error);

  bool matches(std::string_view uri) const;

 private:
  enum class Kind { kLiteral, kOne, kRest };
  struct Segment {
    Kind kind = Kind::kLiteral;
    std::string text;   // the scheme and the authority in lowercase
    size_t folded = 0;  // leading bytes compared ignoring ASCII case
  };

  std::vector<Segment> segments_;
};

}  // namespace wif::authz
