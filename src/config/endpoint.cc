#include <arpa/inet.h>
#include <netinet/in.h>

#include "src/config/config.h"

namespace wif::config {
namespace {

std::optional<uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) {
    return std::nullopt;
  }
  unsigned port = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    port = port * 10 + static_cast<unsigned>(c - '0');
  }
  if (port > 65'535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(port);
}

// The host must be an address literal: binding needs no name lookup at
// start-up, and a typo is caught here with its line rather than at bind time.
bool is_address(const std::string& host, int family) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(family, host.c_str(), buffer) == 1;
}

}  // namespace

std::optional<Endpoint> parse_endpoint(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  const std::optional<uint16_t> port = parse_port(text.substr(colon + 1));
  if (!port) {
    return std::nullopt;
  }

  std::string_view host = text.substr(0, colon);
  int family = AF_INET;
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return std::nullopt;
    }
    host = host.substr(1, host.size() - 2);
    family = AF_INET6;
  }
  Endpoint endpoint{std::string(host), *port};
  if (endpoint.host.empty() || !is_address(endpoint.host, family)) {
    return std::nullopt;
  }
  return endpoint;
}

}  // namespace wif::config
