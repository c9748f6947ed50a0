// Options: what one load generator run does, from the command line.
//
// Plain values, parsed once on the main thread and then read by every load
// thread. Durations use the daemon's syntax ("500ms", "5s", "2m").
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace wif::loadgen {

enum class ConnectionMode {
  kKeepAlive,  // requests follow one another on a connection the server keeps open
  kClose,      // a new connection per request, as curl makes (close_notify after the answer)
};

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string path = "/get_wif_token";
  std::string servername = "localhost";  // checked against the server certificate

  std::string cert_file;  // client certificate chain
  std::string key_file;
  std::string ca_file;      // trust anchors for the server certificate
  bool tls13_only = false;  // --tls 1.3 (default: 1.2 or 1.3, what the server picks)
  bool tls12_only = false;  // --tls 1.2
  bool resume = false;      // offer the last session ticket on every new connection

  ConnectionMode mode = ConnectionMode::kKeepAlive;
  unsigned connections = 50;
  unsigned threads = 1;
  uint64_t warmup_ms = 500;
  uint64_t duration_ms = 5'000;
  std::optional<uint64_t> requests;  // stop after this many measured answers
  double rate = 0;                   // answers per second in total; 0: as fast as possible
  uint64_t timeout_ms = 10'000;      // one request, including its connection set-up
  unsigned ramp = 64;                // first connections being set up at once, per thread

  // Idle mode: open every connection, make one request on each, then hold
  // them all open for hold_ms without traffic and report the server's memory.
  bool idle = false;
  uint64_t hold_ms = 2'000;

  std::string token_file;          // the token the answers must carry; empty: any token
  std::vector<pid_t> server_pids;  // sampled from /proc, with their children
};

// Parses argv. On error returns nullopt and sets *error to a message that
// names the option and what was expected.
std::optional<Options> parse_options(int argc, char** argv, std::string* error);

extern const char kUsage[];

}  // namespace wif::loadgen
