// Router: exact request paths to routes, built once from the config and then
// only read (shared by every worker).
//
// Only the path is matched; the query string is ignored. Paths are compared
// byte for byte: no percent-decoding, no dot-segment removal, no trailing
// slash folding, so a token is reachable by exactly one spelling. Targets in
// absolute form ("http://host/path") and "*" match nothing.
//
// add() runs while building; match() is const and allocation-free, so any
// number of threads may call it once the router is shared.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "src/http/request.h"

namespace wif::http {

enum class RouteKind { kRoot, kToken, kHealthz, kReadyz, kMetrics, kNotFound };

struct RouteMatch {
  RouteKind kind = RouteKind::kNotFound;
  size_t token_index = 0;  // for kToken: index into the configured tokens
  // True for GET and HEAD, whatever the path: check kind first, since an
  // unknown path is 404 for every method and 405 is only for known paths.
  bool method_allowed = false;
  std::string_view label;  // route_label(kind): "root", "token", ..., "not_found"
};

class Router {
 public:
  // Adds `path` for `kind`. Precondition: path starts with '/' and is unique.
  void add(std::string path, RouteKind kind, size_t token_index = 0);

  // Matches the path part of target (before '?'); kNotFound when nothing does.
  RouteMatch match(Method method, std::string_view target) const;

  // Value of the Allow header for a 405.
  static constexpr std::string_view kAllow = "GET, HEAD";

 private:
  struct Entry {
    std::string path;
    RouteKind kind;
    size_t token_index;
  };
  std::vector<Entry> entries_;
};

std::string_view route_label(RouteKind kind);

}  // namespace wif::http
