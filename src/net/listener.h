// Listening sockets opened by hand, so every worker can have its own socket
// on the same port with SO_REUSEPORT (libuv 1.44 has no flag for it; the fd
// is handed to uv_tcp_open). The kernel then spreads new connections across
// the workers' accept queues.
#pragma once

#include <cstdint>
#include <string>

#include "src/config/config.h"

namespace wif::net {

struct ListenResult {
  int fd = -1;
  uint16_t port = 0;  // the bound port (useful when asked for port 0)
  std::string error;  // when fd < 0: "bind 0.0.0.0:7001: Address already in use"
};

// socket + SO_REUSEADDR + SO_REUSEPORT + bind + listen, non-blocking and
// close-on-exec. Port 0 binds an ephemeral port; pass the returned port to
// the next call so that all workers share it.
ListenResult open_listener(const config::Endpoint& endpoint, int backlog);

// Whether another socket already listens on this address and port, found
// by binding one without SO_REUSEPORT (which the kernel then refuses). With
// SO_REUSEPORT a second daemon would silently take half the connections;
// call it before the first open_listener() to warn about that. False for
// port 0.
bool already_listening(const config::Endpoint& endpoint);

// "127.0.0.1:7001" or "[::1]:7001".
std::string format_endpoint(const std::string& host, uint16_t port);

}  // namespace wif::net
