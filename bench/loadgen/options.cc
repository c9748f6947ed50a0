#include "bench/loadgen/options.h"

#include <charconv>
#include <cstdlib>
#include <string_view>

#include "src/config/config.h"

namespace wif::loadgen {

const char kUsage[] =
    "usage: wif-loadgen --port PORT --cert FILE --key FILE --ca FILE [options]\n"
    "\n"
    "  --host ADDR          server address (default 127.0.0.1)\n"
    "  --port PORT          server port\n"
    "  --path PATH          request path (default /get_wif_token)\n"
    "  --servername NAME    name the server certificate must carry (default localhost)\n"
    "  --cert FILE --key FILE   client certificate and key\n"
    "  --ca FILE            trust anchors for the server certificate\n"
    "  --tls 1.2|1.3        only this TLS version (default: either)\n"
    "  --resume             offer the last session ticket on each new connection\n"
    "  --mode keepalive|close   reuse connections, or one connection per request\n"
    "  --connections N      concurrent connections (default 50)\n"
    "  --threads N          event loops (default 1)\n"
    "  --warmup DURATION    load before measuring, once every connection is set up\n"
    "                       (at most 60s of set-up; default 500ms)\n"
    "  --duration DURATION  measured load (default 5s)\n"
    "  --requests N         stop after N measured answers (or the duration, 60s if unset)\n"
    "  --rate R             answers per second in total, open loop (default: as fast as possible)\n"
    "  --timeout DURATION   per request, set-up included (default 10s)\n"
    "  --ramp N             first connections set up at once per thread (default 64)\n"
    "  --idle               one request per connection, then hold them open\n"
    "  --hold DURATION      how long --idle holds the connections (default 2s)\n"
    "  --token-file FILE    the token every answer must carry\n"
    "  --server-pid PID     sample this process and its children from /proc (repeatable)\n"
    "\n"
    "Prints one JSON line. Only 200 answers carrying an access token count as\n"
    "successes. Exit status 0 when every request succeeded, 1 when any failed\n"
    "or none succeeded, 2 on a usage error.\n";

namespace {

constexpr uint64_t kRequestsBoundMs = 60'000;

template <typename Int>
bool parse_int(std::string_view text, Int* out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool parse_double(const std::string& text, double* out) {
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size() && *out >= 0;
}

}  // namespace

std::optional<Options> parse_options(int argc, char** argv, std::string* error) {
  Options o;
  bool duration_set = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view name = argv[i];
    // Flags without a value first.
    if (name == "--resume") {
      o.resume = true;
      continue;
    }
    if (name == "--idle") {
      o.idle = true;
      continue;
    }
    if (i + 1 >= argc) {
      *error = std::string(name) + " needs a value (or is unknown)";
      return std::nullopt;
    }
    const std::string value = argv[++i];
    auto bad = [&](const char* expected) {
      *error = std::string(name) + " \"" + value + "\": expected " + expected;
      return std::nullopt;
    };
    auto duration = [&](uint64_t* out) {
      const auto ms = config::parse_duration_ms(value);
      if (!ms) {
        return false;
      }
      *out = *ms;
      return true;
    };

    if (name == "--host") {
      o.host = value;
    } else if (name == "--port") {
      if (!parse_int(value, &o.port) || o.port == 0) {
        return bad("a port from 1 to 65535");
      }
    } else if (name == "--path") {
      if (value.empty() || value[0] != '/') {
        return bad("a path starting with /");
      }
      o.path = value;
    } else if (name == "--servername") {
      o.servername = value;
    } else if (name == "--cert") {
      o.cert_file = value;
    } else if (name == "--key") {
      o.key_file = value;
    } else if (name == "--ca") {
      o.ca_file = value;
    } else if (name == "--tls") {
      if (value != "1.2" && value != "1.3") {
        return bad("1.2 or 1.3");
      }
      o.tls12_only = value == "1.2";
      o.tls13_only = value == "1.3";
    } else if (name == "--mode") {
      if (value == "keepalive") {
        o.mode = ConnectionMode::kKeepAlive;
      } else if (value == "close") {
        o.mode = ConnectionMode::kClose;
      } else {
        return bad("keepalive or close");
      }
    } else if (name == "--connections") {
      if (!parse_int(value, &o.connections) || o.connections == 0) {
        return bad("a count of at least 1");
      }
    } else if (name == "--threads") {
      if (!parse_int(value, &o.threads) || o.threads == 0 || o.threads > 64) {
        return bad("a count from 1 to 64");
      }
    } else if (name == "--warmup") {
      if (!duration(&o.warmup_ms)) {
        return bad("a duration such as 500ms or 1s");
      }
    } else if (name == "--duration") {
      if (!duration(&o.duration_ms) || o.duration_ms == 0) {
        return bad("a duration such as 5s");
      }
      duration_set = true;
    } else if (name == "--requests") {
      uint64_t n = 0;
      if (!parse_int(value, &n) || n == 0) {
        return bad("a count of at least 1");
      }
      o.requests = n;
    } else if (name == "--rate") {
      if (!parse_double(value, &o.rate)) {
        return bad("requests per second, 0 or more");
      }
    } else if (name == "--timeout") {
      if (!duration(&o.timeout_ms) || o.timeout_ms == 0) {
        return bad("a duration such as 10s");
      }
    } else if (name == "--ramp") {
      if (!parse_int(value, &o.ramp) || o.ramp == 0) {
        return bad("a count of at least 1");
      }
    } else if (name == "--hold") {
      if (!duration(&o.hold_ms)) {
        return bad("a duration such as 2s");
      }
    } else if (name == "--token-file") {
      o.token_file = value;
    } else if (name == "--server-pid") {
      pid_t pid = 0;
      if (!parse_int(value, &pid) || pid <= 0) {
        return bad("a process id");
      }
      o.server_pids.push_back(pid);
    } else {
      *error = "unknown option " + std::string(name);
      return std::nullopt;
    }
  }

  if (o.port == 0) {
    *error = "--port is required";
    return std::nullopt;
  }
  if (o.cert_file.empty() || o.key_file.empty() || o.ca_file.empty()) {
    *error = "--cert, --key and --ca are required: the server asks for a client certificate";
    return std::nullopt;
  }
  if (o.requests && !duration_set) {
    o.duration_ms = kRequestsBoundMs;  // a run stays bounded in time
  }
  if (o.idle && (o.rate > 0 || o.requests)) {
    *error = "--idle makes one request per connection: no --rate or --requests";
    return std::nullopt;
  }
  if (o.threads > o.connections) {
    o.threads = o.connections;
  }
  return o;
}

}  // namespace wif::loadgen
