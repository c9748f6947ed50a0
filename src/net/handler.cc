#include "src/net/handler.h"

#include <algorithm>
#include <charconv>

#include "src/http/response.h"

namespace wif::net {
namespace {

using http::ResponseHead;

ResponseHead head_for(const http::Request& request, int status) {
  ResponseHead head;
  head.status = status;
  head.keep_alive = request.keep_alive;
  head.head_only = request.method == http::Method::kHead;
  head.http10 = request.version_major == 1 && request.version_minor == 0;
  return head;
}

// 503 with Retry-After: the next attempt of the source, kept within 1..60 s
// (SOURCES.md "What clients see"). The description names the token only.
Answer unavailable(const ServeState& state, const http::Request& request, size_t index,
                   std::string& out) {
  const int64_t now = state.clock->now_ms();
  const int64_t next = state.store->next_attempt_ms(index);
  int64_t retry_s = next > now ? (next - now + 999) / 1000 : 1;
  retry_s = std::clamp<int64_t>(retry_s, 1, 60);

  ResponseHead head = head_for(request, 503);
  head.retry_after_seconds = static_cast<int>(retry_s);
  std::string body = R"({"error":"temporarily_unavailable","error_description":"token )";
  http::append_json_escaped(body, state.tokens[index].name);
  body.append(R"( has no valid value yet"})");
  http::render_response(out, head, body);
  return {503, !request.keep_alive};
}

// How long a request without a value should wait: until the source's next
// attempt can have ended, within the token's request_wait and what the
// caller allows. 0: answer now. A next attempt of 0 means the source has
// reported no failure since its last value (or has not reported yet): its
// attempt is under way.
int64_t wait_for_refresh(const ServeState& state, size_t index, int64_t now, int64_t may_wait_ms) {
  const int64_t wait_ms = std::min(state.tokens[index].request_wait_ms, may_wait_ms);
  if (wait_ms <= 0) {
    return 0;
  }
  const int64_t next = state.store->next_attempt_ms(index);
  return next <= now + wait_ms ? wait_ms : 0;
}

Answer serve_token(const ServeState& state, const http::Request& request, size_t index,
                   std::string& out, int64_t may_wait_ms) {
  const std::shared_ptr<const token::Token> token = state.store->current(index);
  const int64_t now = state.clock->now_ms();
  const TokenRoute& route = state.tokens[index];
  if (!token || !token::TokenStore::servable(*token, now, route.min_remaining_ms)) {
    if (const int64_t wait_ms = wait_for_refresh(state, index, now, may_wait_ms); wait_ms > 0) {
      Answer held;
      held.status = 0;
      held.wait_ms = wait_ms;
      return held;
    }
    return unavailable(state, request, index, out);
  }

  ResponseHead head = head_for(request, 200);
  if (route.minimal_response) {
    http::render_response(out, head, token->body_minimal);
  } else if (token->expires_at_ms) {
    // expires_in: the whole seconds actually left, so it falls as time passes.
    char tail[24];
    const int64_t left_s = std::max<int64_t>(0, (*token->expires_at_ms - now) / 1000);
    auto [end, ec] = std::to_chars(tail, tail + sizeof tail - 1, left_s);
    *end++ = '}';
    http::render_response(out, head, token->body_prefix,
                          std::string_view(tail, static_cast<size_t>(end - tail)));
  } else {
    http::render_response(out, head, token->body_prefix);
  }
  return {200, !request.keep_alive};
}

Answer forbidden(const ServeState& state, const http::Request& request, size_t index,
                 std::string& out) {
  http::render_response(out, head_for(request, 403), R"({"error":"forbidden"})");
  Answer answer{403, !request.keep_alive};
  answer.denied = &state.tokens[index];
  return answer;
}

bool allowed(const TokenRoute& route, const tls::PeerIdentity* peer) {
  return peer != nullptr ? route.policy.allows(*peer) : route.policy.any_verified_client();
}

// What /readyz says about one token: "ready" (a valid value), "pending"
// (no value yet, the first attempt under way), "expired" (only a value past
// its serving time) or "failing" (no value, the last attempt failed).
std::string_view token_state(const ServeState& state, size_t index, int64_t now) {
  const auto token = state.store->current(index);
  if (token && token::TokenStore::servable(*token, now, state.tokens[index].min_remaining_ms)) {
    return "ready";
  }
  if (token) {
    return "expired";
  }
  return state.store->state(index) == token::SlotState::kPending ? "pending" : "failing";
}

// Ready once every token has a valid value; each token's state is listed,
// and the ones holding readiness back are named again on their own.
Answer serve_ready(const ServeState& state, const http::Request& request, std::string& out) {
  const int64_t now = state.clock->now_ms();
  std::string states;
  std::string waiting;
  for (size_t i = 0; i < state.tokens.size(); ++i) {
    const std::string_view token = token_state(state, i, now);
    states.append(states.empty() ? "\"" : ",\"");
    http::append_json_escaped(states, state.tokens[i].name);
    states.append("\":\"").append(token).push_back('"');
    if (token != "ready") {
      waiting.append(waiting.empty() ? "\"" : ",\"");
      http::append_json_escaped(waiting, state.tokens[i].name);
      waiting.push_back('"');
    }
  }
  if (waiting.empty()) {
    http::render_response(out, head_for(request, 200),
                          R"({"status":"ready","tokens":{)" + states + "}}");
    return {200, !request.keep_alive};
  }
  const std::string body =
      R"({"status":"not_ready","tokens":{)" + states + R"(},"tokens_not_ready":[)" + waiting + "]}";
  ResponseHead head = head_for(request, 503);
  head.retry_after_seconds = 1;
  http::render_response(out, head, body);
  return {503, !request.keep_alive};
}

Answer dispatch(const ServeState& state, const http::Request& request,
                const http::RouteMatch& match, const tls::PeerIdentity* peer, std::string& out,
                int64_t may_wait_ms) {
  if (match.kind == http::RouteKind::kNotFound) {
    http::render_response(out, head_for(request, 404), R"({"error":"not_found"})");
    return {404, !request.keep_alive};
  }
  if (!match.method_allowed) {
    ResponseHead head = head_for(request, 405);
    head.allow = http::Router::kAllow;
    http::render_response(out, head, R"({"error":"method_not_allowed"})");
    return {405, !request.keep_alive};
  }

  switch (match.kind) {
    case http::RouteKind::kRoot:
      http::render_response(out, head_for(request, 200), R"({"status":"OK"})");
      return {200, !request.keep_alive};
    case http::RouteKind::kHealthz:
      http::render_response(out, head_for(request, 200), R"({"status":"serving"})");
      return {200, !request.keep_alive};
    case http::RouteKind::kReadyz:
      return serve_ready(state, request, out);
    case http::RouteKind::kToken:
      if (!allowed(state.tokens[match.token_index], peer)) {
        return forbidden(state, request, match.token_index, out);
      }
      return serve_token(state, request, match.token_index, out, may_wait_ms);
    case http::RouteKind::kMetrics: {
      if (!state.render_metrics) {
        break;
      }
      if (state.metrics_access && (peer == nullptr || !state.metrics_access->allows(*peer))) {
        http::render_response(out, head_for(request, 403), R"({"error":"forbidden"})");
        return {403, !request.keep_alive};
      }
      std::string text;
      state.render_metrics(text);
      ResponseHead head = head_for(request, 200);
      head.content_type = "text/plain; version=0.0.4; charset=utf-8";
      http::render_response(out, head, text);
      return {200, !request.keep_alive};
    }
    case http::RouteKind::kNotFound:
      break;
  }
  http::render_response(out, head_for(request, 404), R"({"error":"not_found"})");
  return {404, !request.keep_alive};
}

}  // namespace

Answer handle_request(const ServeState& state, const http::Request& request,
                      const tls::PeerIdentity* peer, std::string& out, int64_t may_wait_ms) {
  const http::RouteMatch match = state.router.match(request.method, request.target);
  Answer answer = dispatch(state, request, match, peer, out, may_wait_ms);
  answer.route = match.kind;
  answer.token_index = match.token_index;
  return answer;
}

void render_error(int status, bool http10, std::string& out) {
  ResponseHead head;
  head.status = status;
  head.keep_alive = false;
  head.http10 = http10;
  std::string body = R"({"error":")";
  switch (status) {
    case 408:
      body += "request_timeout";
      break;
    case 413:
      body += "request_body_not_allowed";
      break;
    case 431:
      body += "request_header_too_large";
      break;
    case 505:
      body += "http_version_not_supported";
      break;
    case 501:
      body += "not_implemented";
      break;
    default:
      body += "bad_request";
      break;
  }
  body += "\"}";
  http::render_response(out, head, body);
}

http::Router token_listener_routes(const std::vector<TokenRoute>& tokens, bool with_metrics) {
  http::Router router;
  router.add("/", http::RouteKind::kRoot);
  router.add("/healthz", http::RouteKind::kHealthz);
  router.add("/readyz", http::RouteKind::kReadyz);
  if (with_metrics) {
    router.add("/metrics", http::RouteKind::kMetrics);
  }
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].name == "wif") {
      router.add("/get_wif_token", http::RouteKind::kToken, i);
    }
    router.add("/v1/tokens/" + tokens[i].name, http::RouteKind::kToken, i);
  }
  return router;
}

http::Router metrics_listener_routes() {
  http::Router router;
  router.add("/metrics", http::RouteKind::kMetrics);
  router.add("/healthz", http::RouteKind::kHealthz);
  router.add("/readyz", http::RouteKind::kReadyz);
  return router;
}

}  // namespace wif::net
