// Handler: turns one parsed request into one complete answer.
//
// Pure request -> bytes, with no I/O: routing, the token lookup (one atomic
// load), readiness, and rendering into the connection's output buffer. The
// ServeState it reads is an immutable snapshot shared by every worker of a
// listener; the handler itself is stateless and safe on any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/authz/access_policy.h"
#include "src/http/request.h"
#include "src/http/router.h"
#include "src/tls/peer_identity.h"
#include "src/token/clock.h"
#include "src/token/token_store.h"

namespace wif::net {

struct TokenRoute {
  std::string name;
  bool minimal_response = false;
  int64_t min_remaining_ms = 0;  // extra margin on top of the source's own
  // How long a request that finds no valid value may be held for the
  // refresh in flight (`request_wait`); 0 answers 503 at once.
  int64_t request_wait_ms = 0;
  authz::AccessPolicy policy;  // who may have it; default: any verified client
};

struct ServeState {
  http::Router router;
  std::vector<TokenRoute> tokens;  // index = TokenStore index
  const token::TokenStore* store = nullptr;
  const token::Clock* clock = nullptr;
  // Renders the Prometheus exposition for /metrics; unset: /metrics is 404.
  std::function<void(std::string& out)> render_metrics;
  // On the mTLS listener: who may read /metrics there (metrics.allow). The
  // plain metrics listener leaves it unset and serves anyone who reaches it.
  std::optional<authz::AccessPolicy> metrics_access;
};

struct Answer {
  int status = 200;
  bool close = false;  // the connection must close after this answer
  // What answered, for metrics: the route kind, and for kToken the token.
  http::RouteKind route = http::RouteKind::kNotFound;
  size_t token_index = 0;
  // Above 0: nothing was rendered. The token has no valid value but a
  // refresh may bring one within this many ms; hold the request and ask
  // again (see handle_request).
  int64_t wait_ms = 0;
  // Set on a 403 for a token: the token this peer may not have, for the
  // caller's log. A 403 on /metrics leaves it null (route says which).
  const TokenRoute* denied = nullptr;
};

// May a request wait for a value at all: pass kWaitAsConfigured for a new
// request, the time left for one already held, and 0 for a final answer.
inline constexpr int64_t kWaitAsConfigured = INT64_MAX;

// Appends the whole response for `request` to out. A token request that
// finds no valid value, when the token's request_wait and `may_wait_ms`
// both allow waiting and the source's next attempt comes within that wait
// (SOURCES.md "Freshness"), renders nothing and returns wait_ms instead: the
// caller holds the request and calls again when the store changes or the
// wait is over. A request that finds a valid value never waits.
// A token route answers 403 {"error":"forbidden"} when its policy does not
// allow `peer` (null on a plain listener: then only a policy without rules
// lets the request through), before looking for a value; /metrics answers
// 403 the same way when metrics_access is set and does not allow `peer`;
// every other route needs no more than the verified certificate the
// handshake already demanded. The answer never says why.
Answer handle_request(const ServeState& state, const http::Request& request,
                      const tls::PeerIdentity* peer, std::string& out, int64_t may_wait_ms = 0);

// Appends a JSON error answer (400, 408, 413, 431, 505 ...) that closes.
void render_error(int status, bool http10, std::string& out);

// The routes of the mTLS listener: "/", "/get_wif_token" (when a token is
// named "wif"), "/v1/tokens/NAME", "/healthz", "/readyz", and "/metrics"
// when with_metrics (metrics.allow names who may read it).
http::Router token_listener_routes(const std::vector<TokenRoute>& tokens,
                                   bool with_metrics = false);
// The routes of the plain metrics listener: "/metrics", "/healthz", "/readyz".
http::Router metrics_listener_routes();

}  // namespace wif::net
