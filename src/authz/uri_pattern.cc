#include "src/authz/uri_pattern.h"

#include "src/authz/text_match.h"

namespace wif::authz {
namespace {

constexpr std::string_view kUriExpected =
    "a URI with a scheme, such as spiffe://corp/ns/ci/sa/runner, with * for one path segment "
    "and a last ** for the rest";

// RFC 3986 section 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":".
size_t scheme_length(std::string_view text) {
  if (text.empty() || !is_ascii_letter(text[0])) {
    return 0;
  }
  for (size_t i = 1; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ':') {
      return i;
    }
    if (!is_ascii_letter(c) && !is_ascii_digit(c) && c != '+' && c != '-' && c != '.') {
      return 0;
    }
  }
  return 0;
}

// Takes the next '/'-separated segment off the front of `rest`. `done` turns
// true once the last segment is taken.
std::string_view next_segment(std::string_view& rest, bool& done) {
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    std::string_view segment = rest;
    rest = {};
    done = true;
    return segment;
  }
  std::string_view segment = rest.substr(0, slash);
  rest.remove_prefix(slash + 1);
  return segment;
}

// A URI that other software could read as another path: a "." or ".."
// segment, a percent-encoded byte, a query or a fragment. SPIFFE IDs allow
// none of these, and matching them byte for byte would let
// "spiffe://corp/ns/ci/../../prod/sa/admin" pass "spiffe://corp/ns/ci/**".
bool ambiguous(std::string_view uri) {
  if (uri.find_first_of("%?#") != std::string_view::npos) {
    return true;
  }
  bool done = false;
  while (!done) {
    const std::string_view segment = next_segment(uri, done);
    if (segment == "." || segment == "..") {
      return true;
    }
  }
  return false;
}

}  // namespace

std::optional<UriPattern> UriPattern::parse(std::string_view text, std::string& error) {
  const size_t scheme = scheme_length(text);
  if (scheme == 0) {
    error = kUriExpected;
    return std::nullopt;
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      error = "a URI without spaces or control characters";
      return std::nullopt;
    }
  }

  // "scheme://authority/path" cuts into "scheme:", "", "authority", path
  // segments; a URI without "//" ("urn:x:y") has no authority.
  const bool has_authority = text.substr(scheme + 1).starts_with("//");
  const size_t first_path_segment = has_authority ? 3 : 1;

  UriPattern pattern;
  std::string_view rest = text;
  bool done = false;
  while (!done) {
    const std::string_view piece = next_segment(rest, done);
    const size_t index = pattern.segments_.size();
    Segment segment;
    if (index < first_path_segment) {
      // The scheme (with the rest of the first segment when there is no
      // authority), then the empty segment before the authority, then the
      // authority itself.
      segment.folded = index == 0 ? scheme + 1 : piece.size();
    }
    if (piece == "*" || piece == "**") {
      if (index < first_path_segment) {
        error = "wildcards only in the path, not in the scheme or the authority";
        return std::nullopt;
      }
      if (piece == "**" && !done) {
        error = "** only as the last segment";
        return std::nullopt;
      }
      segment.kind = piece == "*" ? Kind::kOne : Kind::kRest;
    } else if (piece.find('*') != std::string_view::npos) {
      error = "* or ** only as a whole path segment, such as spiffe://corp/ns/*/sa/runner";
      return std::nullopt;
    } else {
      segment.text = ascii_lowercase(piece.substr(0, segment.folded));
      segment.text.append(piece.substr(segment.folded));
    }
    pattern.segments_.push_back(std::move(segment));
  }
  return pattern;
}

bool UriPattern::matches(std::string_view uri) const {
  if (ambiguous(uri)) {
    return false;
  }
  std::string_view rest = uri;
  bool done = false;
  for (size_t i = 0; i < segments_.size(); ++i) {
    if (done) {
      return false;  // the URI has fewer segments
    }
    const Segment& segment = segments_[i];
    if (segment.kind == Kind::kRest) {
      return !rest.empty();
    }
    const std::string_view piece = next_segment(rest, done);
    switch (segment.kind) {
      case Kind::kOne:
        if (piece.empty()) {
          return false;
        }
        break;
      case Kind::kLiteral:
        if (piece.size() != segment.text.size() ||
            !equals_ignoring_ascii_case(piece.substr(0, segment.folded),
                                        std::string_view(segment.text).substr(0, segment.folded)) ||
            piece.substr(segment.folded) != std::string_view(segment.text).substr(segment.folded)) {
          return false;
        }
        break;
      case Kind::kRest:
        break;
    }
  }
  return done;  // and no segment left over in the URI
}

}  // namespace wif::authz
