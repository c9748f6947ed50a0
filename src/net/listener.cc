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

ListenResult open_listener(const config::Endpoint& endpoint, int backlog) {
  ListenResult result;
  const std::string where = format_endpoint(endpoint.host, endpoint.port);

  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, endpoint.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(endpoint.port);
    addr_len = sizeof *v4;
  } else if (inet_pton(AF_INET6, endpoint.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(endpoint.port);
    addr_len = sizeof *v6;
  } else {
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
  result.port = ntohs(bound.ss_family == AF_INET6
                          ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                          : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  result.fd = fd;
  return result;
}

}  // namespace wif::net
