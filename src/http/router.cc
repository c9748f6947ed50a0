#include "src/http/router.h"

#include <cassert>
#include <utility>

namespace wif::http {

void Router::add(std::string path, RouteKind kind, size_t token_index) {
  assert(!path.empty() && path.front() == '/');
  assert(kind != RouteKind::kNotFound);
#ifndef NDEBUG
  for (const Entry& entry : entries_) {
    assert(entry.path != path);
  }
#endif
  entries_.push_back(Entry{std::move(path), kind, token_index});
}

RouteMatch Router::match(Method method, std::string_view target) const {
  // Only origin-form targets (RFC 9112 section 3.2.1) can match, since every
  // route starts with '/'. The absolute form ("http://host/get_wif_token")
  // and "*" are 404: clients talk to us directly, never through a proxy, and
  // accepting a second spelling of a path would undo the one-spelling rule.
  // This departs on purpose from RFC 9112 section 3.2.2, which asks servers
  // to accept the absolute form.
  const std::string_view path = target.substr(0, target.find('?'));

  RouteMatch match;
  match.method_allowed = method == Method::kGet || method == Method::kHead;
  for (const Entry& entry : entries_) {
    if (entry.path == path) {
      match.kind = entry.kind;
      match.token_index = entry.token_index;
      break;
    }
  }
  match.label = route_label(match.kind);
  return match;
}

std::string_view route_label(RouteKind kind) {
  switch (kind) {
    case RouteKind::kRoot:
      return "root";
    case RouteKind::kToken:
      return "token";
    case RouteKind::kHealthz:
      return "healthz";
    case RouteKind::kReadyz:
      return "readyz";
    case RouteKind::kMetrics:
      return "metrics";
    case RouteKind::kNotFound:
      break;
  }
  return "not_found";
}

}  // namespace wif::http
