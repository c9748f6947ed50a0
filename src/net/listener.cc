#include "src/net/listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wif::net {

std::string format_endpoint(const std::string& host, uint16_t port) {
  if (host.find(':') != std::string::npos) {
    return "[" + host + "]:" + std::to_string(port);
  }
  return host + ":" + std::to_string(port);
}

namespace {

// The socket address of a numeric host; 0 when the host is not one.
socklen_t socket_address(const config::Endpoint& endpoint, sockaddr_storage& addr) {
  addr = {};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, endpoint.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(endpoint.port);
    return sizeof *v4;
  }
  if (inet_pton(AF_INET6, endpoint.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(endpoint.port);
    return sizeof *v6;
  }
  return 0;
}

}  // namespace

bool already_listening(const config::Endpoint& endpoint) {
  sockaddr_storage addr;
  const socklen_t addr_len = socket_address(endpoint, addr);
  if (endpoint.port == 0 || addr_len == 0) {
    return false;
  }
  const int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  const int one = 1;  // a closed connection in TIME_WAIT is no listener
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (addr.ss_family == AF_INET6) {
    const int zero = 0;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  }
  const bool taken =
      bind(fd, reinterpret_cast<sockaddr*>(&addr), addr_len) != 0 && errno == EADDRINUSE;
  close(fd);
  return taken;
}

ListenResult open_listener(const config::Endpoint& endpoint, int backlog) {
  ListenResult result;
  const std::string where = format_endpoint(endpoint.host, endpoint.port);

  sockaddr_storage addr;
  const socklen_t addr_len = socket_address(endpoint, addr);
  if (addr_len == 0) {
    result.error = "listen " + where + ": not a numeric IPv4 or IPv6 address";
    return result;
  }

  const int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    result.error = "socket for " + where + ": " + std::strerror(errno);
    return result;
  }
  const int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    result.error = "setsockopt on " + where + ": " + std::strerror(errno);
    close(fd);
    return result;
  }
  if (addr.ss_family == AF_INET6) {
    // "[::]:7001" means IPv6 and IPv4-mapped; say so explicitly rather than
    // depending on net.ipv6.bindv6only.
    const int zero = 0;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), addr_len) != 0) {
    result.error = "bind " + where + ": " + std::strerror(errno);
    close(fd);
    return result;
  }
  if (listen(fd, backlog) != 0) {
    result.error = "listen " + where + ": " + std::strerror(errno);
    close(fd);
    return result;
  }

  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  result.port =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  result.fd = fd;
  return result;
}

}  // namespace wif::net
