// Config: the whole configuration as plain structs, loaded from one YAML file
// (or made from defaults when there is none) and validated before use.
//
// Built once on the main thread at start-up or reload, then shared read-only
// (shared_ptr<const Config>) with every worker. Every field is optional and
// every default is safe; with no file the daemon behaves like the original
// Flask app (0.0.0.0:7001, server.crt, server.key, ca-chain.crt,
// $WIF_HOME/wif_token.txt).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace wif::config {

// Where a value came from, for error messages. line and column are 1-based;
// 0 when the value is a default.
struct Mark {
  std::string file;
  int line = 0;
  int column = 0;
};

// A token source block, kept generic so that the core knows no source type:
// the plugin named by `type` validates its own fields (see Diagnostics).
struct SourceSpec {
  struct Field {
    Mark mark;
    bool is_list = false;
    std::vector<std::string> values;  // one value for a scalar
  };
  std::string type;
  Mark mark;
  std::map<std::string, Field> fields;  // every key but `type`
};

// One allow rule: every field that is set must match. Values are kept as
// written (after ${} expansion); src/authz/ checks their form and compiles
// them, reporting a bad one at its own mark under `field`.KEY.
struct AllowRule {
  Mark mark;
  std::string field;                  // dotted path such as "tokens.wif.allow[0]"
  std::map<std::string, Mark> marks;  // where each value sits, by key ("ip")
  std::optional<std::string> cn, o, ou, dns, uri, email, ip, sha256, spki;
};

struct TokenConfig {
  std::string name;
  Mark mark;
  SourceSpec source;
  std::vector<AllowRule> allow;   // empty: any verified client
  bool minimal_response = false;  // `response: minimal`
  // How long a request that finds no valid value may wait for the refresh
  // in flight before it gets 503; 0 answers at once.
  uint64_t request_wait_ms = 5'000;
};

struct TlsConfig {
  std::string cert = "server.crt";
  std::string key = "server.key";
  std::string key_passphrase_file;
  std::string client_ca = "ca-chain.crt";
  std::string client_intermediates;
  std::vector<std::string> crl;
  bool crl_check_chain = false;  // crl_check: leaf | chain
  bool min_version_13 = false;   // min_version: "1.2" | "1.3"
  // key_readable_by: owner | group | anyone. Who besides the owner may read
  // the key and passphrase files before the daemon refuses to start.
  enum class KeyReaders { kOwner, kGroup, kAnyone } key_readable_by = KeyReaders::kOwner;
  int verify_depth = 4;
  bool partial_chain = false;
  bool require_client_auth_eku = false;
  // OpenSSL names; empty: the built-in defaults. Their names are checked
  // against OpenSSL after loading (src/tls/cipher_settings.h), at `marks`.
  std::vector<std::string> tls12_ciphers;
  std::vector<std::string> tls13_ciphersuites;
  std::vector<std::string> groups;
  bool session_tickets = true;
  uint64_t session_lifetime_ms = 600'000;
  bool reload_on_change = true;  // watch the files' folders
  uint64_t reload_delay_ms = 1'000;
  // Where each key of the section was given, by key ("groups"), for the
  // checks made after loading.
  std::map<std::string, Mark> marks;
};

struct HttpConfig {
  uint64_t handshake_timeout_ms = 10'000;
  uint64_t header_timeout_ms = 10'000;
  uint64_t idle_timeout_ms = 60'000;
  uint64_t max_header_bytes = 16'384;
  uint64_t max_connections = 10'000;
};

struct MetricsConfig {
  std::string listen = "127.0.0.1:9464";  // "" turns the listener off
  // Clients that may also read /metrics on the mTLS listener; empty: only
  // the plain listener serves it.
  std::vector<AllowRule> allow;
};

struct LogConfig {
  std::string level = "info";   // error | warn | info | debug | trace
  std::string format = "text";  // text | json
  bool access = true;           // one line per request, at info
};

// `user:` and `group:`: whom the daemon runs as once it has bound its
// sockets, when started as root. Names are resolved at load time.
struct RunAs {
  std::string user;   // "" : stay who we are
  std::string group;  // "" : the user's primary group
  uint32_t uid = 0;   // resolved; meaningful only when user is set
  uint32_t gid = 0;
  Mark mark;  // where `user` is, for messages
};

struct Config {
  std::string file;      // the file it came from; "" for built-in defaults
  std::string base_dir;  // relative paths were resolved against this
  // Problems that do not stop the daemon (a config file writable by group
  // or others); the daemon logs each at warn, `check` prints them.
  std::vector<std::string> warnings;
  RunAs run_as;
  std::string listen = "0.0.0.0:7001";
  unsigned workers = 0;  // 0: one per CPU
  uint64_t shutdown_timeout_ms = 10'000;
  TlsConfig tls;
  HttpConfig http;
  std::vector<TokenConfig> tokens;
  MetricsConfig metrics;
  LogConfig log;
  // The file's settings that only a restart applies: everything but the
  // allow rules, `response`, `request_wait` and `log`, as YAML text. A
  // reload (SIGHUP) that finds it changed applies nothing.
  std::string restart_settings;
};

// Collects every problem found in one pass. Each message reads
//   FILE:LINE:COLUMN: FIELD.PATH: what is wrong (expected ...)
// A mark with line 0 prints only its file (such as "(environment
// WIF_TOKEND_LISTEN)"), or "(built-in default)" when the file is empty too.
// An empty field leaves out "FIELD.PATH: ", for problems with the file itself.
class Diagnostics {
 public:
  void error(const Mark& mark, std::string_view field, std::string_view message);
  bool ok() const { return messages_.empty(); }
  const std::vector<std::string>& messages() const { return messages_; }

 private:
  std::vector<std::string> messages_;
};

// `text` in double quotes, with quotes, backslashes and control characters
// escaped and anything past 100 characters cut, so a value from a file is safe
// to print on one line. For messages about values checked after loading too.
std::string quote(std::string_view text);

// Thrown by load(); what() is every message, one per line.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<std::string> messages);
  const std::vector<std::string>& messages() const { return messages_; }

 private:
  std::vector<std::string> messages_;
};

// Reads the process environment in production; tests pass their own.
using Environment = std::function<std::optional<std::string>(std::string_view name)>;
Environment process_environment();

// Loads `path`, or builds the defaults when path is empty (then relative
// paths resolve against `working_dir`). ${NAME} in string values is replaced
// from env; WIF_TOKEND_LISTEN overrides `listen`, WIF_TOKEND_METRICS_LISTEN
// overrides `metrics.listen` and WIF_TOKEND_KEY_READABLE_BY overrides
// `tls.key_readable_by` (an empty value counts as unset). Relative file paths
// are made absolute. Throws ConfigError listing every problem.
Config load(const std::string& path, const std::string& working_dir, const Environment& env);

// The same, but every problem in the file goes to `diag` and the config is
// returned as far as it could be read (a field in error keeps its default),
// so that the caller can check the rest (token sources, TLS files) and report
// everything in one pass. Throws ConfigError only when the file cannot be read
// or parsed at all.
Config load(const std::string& path, const std::string& working_dir, const Environment& env,
            Diagnostics& diag);

// "500ms", "10s", "5m", "1h" to milliseconds; nullopt when malformed.
std::optional<uint64_t> parse_duration_ms(std::string_view text);

struct Endpoint {
  std::string host;  // "0.0.0.0", "127.0.0.1", "::" (from "[::]:7001")
  uint16_t port = 0;
};
// "host:port" or "[v6]:port"; nullopt when malformed. Port 0 is allowed.
std::optional<Endpoint> parse_endpoint(std::string_view text);

}  // namespace wif::config
