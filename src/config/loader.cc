// load(): reads the config file (or none), walks it with a YamlReader and
// collects every problem before throwing.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <system_error>

#include "src/config/config.h"
#include "src/config/paths.h"
#include "src/config/sections.h"
#include "src/config/yaml_reader.h"

namespace wif::config {
namespace {

constexpr std::string_view kTopKeys[] = {
    "listen", "workers", "shutdown_timeout", "user",    "group",
    "tls",    "http",    "tokens",           "metrics", "log"};
constexpr std::string_view kHttpKeys[] = {"handshake_timeout", "header_timeout", "idle_timeout",
                                          "max_header_bytes", "max_connections"};
constexpr std::string_view kMetricsKeys[] = {"listen", "allow"};
constexpr std::string_view kLogKeys[] = {"level", "format", "access"};
constexpr std::string_view kLogLevels[] = {"error", "warn", "info", "debug", "trace"};
constexpr std::string_view kLogFormats[] = {"text", "json"};

constexpr uint64_t kMaxWorkers = 256;
constexpr uint64_t kMinHeaderBytes = 1'024;
constexpr uint64_t kMaxHeaderBytes = 1'048'576;
constexpr uint64_t kMaxConnections = 1'000'000;
// A config file is a few kilobytes; the cap keeps a wrong path (a device, a
// log file) from being read whole.
constexpr size_t kMaxConfigBytes = 4 * 1'048'576;

constexpr std::string_view kListenOverride = "WIF_TOKEND_LISTEN";
constexpr std::string_view kMetricsListenOverride = "WIF_TOKEND_METRICS_LISTEN";
constexpr std::string_view kListenExpected =
    "an address and port such as 0.0.0.0:7001 or [::]:7001";
constexpr std::string_view kMetricsListenExpected =
    "an address and port such as 127.0.0.1:9464, or \"\" to turn metrics off";
constexpr std::string_view kMetricsOverrideExpected = "an address and port such as 0.0.0.0:9464";
constexpr std::string_view kKeyReadersOverride = "WIF_TOKEND_KEY_READABLE_BY";

[[noreturn]] void fail(const Mark& mark, std::string_view message) {
  Diagnostics diag;
  diag.error(mark, "", message);
  throw ConfigError(diag.messages());
}

[[noreturn]] void fail_to_read(const std::string& path, int error) {
  fail(Mark{path, 0, 0}, "cannot read the config file: " + std::system_category().message(error));
}

// Whoever can write the config decides which clients get which tokens.
void warn_if_writable(const std::string& path, const struct stat& st,
                      std::vector<std::string>& warnings) {
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) == 0) {
    return;
  }
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  warnings.push_back("config file " + path + " is writable by " +
                     ((st.st_mode & S_IWOTH) != 0 ? "others" : "group") + " (mode " + mode +
                     "): whoever can write it decides who gets tokens");
}

std::string read_config_file(const std::string& path, std::vector<std::string>& warnings) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    fail_to_read(path, errno);
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    fail_to_read(path, errno);
  }
  if (S_ISDIR(st.st_mode)) {
    fail_to_read(path, EISDIR);
  }
  warn_if_writable(path, st, warnings);

  std::string text;
  char buffer[16 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      fail_to_read(path, errno);
    }
    if (n == 0) {
      return text;
    }
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > kMaxConfigBytes) {
      fail_to_read(path, EFBIG);
    }
  }
}

// Every document of the file; load() uses the first and reports any other.
// A syntax error ends loading at once: past it, yaml-cpp has no tree to check.
std::vector<YAML::Node> parse(const std::string& path, const std::string& text) {
  try {
    return YAML::LoadAll(text);
  } catch (const YAML::ParserException& e) {
    fail(Mark{path, e.mark.line + 1, e.mark.column + 1}, e.msg);
  }
}

void read_endpoint(YamlReader& reader, const Value& value, bool may_be_empty, std::string& out) {
  const std::string_view expected = may_be_empty ? kMetricsListenExpected : kListenExpected;
  const std::optional<Scalar> s = reader.scalar(value, expected);
  if (!s) {
    return;
  }
  if ((s->text.empty() && may_be_empty) || parse_endpoint(s->text)) {
    out = s->text;
  } else {
    reader.reject(value, *s, expected);
  }
}

void read_http(YamlReader& reader, const Value& section, HttpConfig& http) {
  reader.each_entry(section, kHttpKeys, [&](const Entry& entry) {
    const Value& value = entry.value;
    std::optional<uint64_t> number;
    uint64_t* target = nullptr;
    if (entry.key == "handshake_timeout") {
      number = reader.duration_ms(value, true);
      target = &http.handshake_timeout_ms;
    } else if (entry.key == "header_timeout") {
      number = reader.duration_ms(value, true);
      target = &http.header_timeout_ms;
    } else if (entry.key == "idle_timeout") {
      number = reader.duration_ms(value, true);
      target = &http.idle_timeout_ms;
    } else if (entry.key == "max_header_bytes") {
      number = reader.integer(value, kMinHeaderBytes, kMaxHeaderBytes);
      target = &http.max_header_bytes;
    } else if (entry.key == "max_connections") {
      number = reader.integer(value, 1, kMaxConnections);
      target = &http.max_connections;
    }
    if (number && target != nullptr) {
      *target = *number;
    }
  });
}

void read_metrics(YamlReader& reader, const Value& section, MetricsConfig& metrics) {
  reader.each_entry(section, kMetricsKeys, [&](const Entry& entry) {
    if (entry.key == "allow") {
      read_allow(reader, entry.value, metrics.allow);
    } else {
      read_endpoint(reader, entry.value, true, metrics.listen);
    }
  });
}

void read_log(YamlReader& reader, const Value& section, LogConfig& log) {
  reader.each_entry(section, kLogKeys, [&](const Entry& entry) {
    if (entry.key == "access") {
      if (const std::optional<bool> on = reader.boolean(entry.value)) {
        log.access = *on;
      }
      return;
    }
    const bool is_level = entry.key == "level";
    std::optional<std::string> choice =
        is_level ? reader.choice(entry.value, kLogLevels) : reader.choice(entry.value, kLogFormats);
    if (choice) {
      (is_level ? log.level : log.format) = std::move(*choice);
    }
  });
}

void read_top_level(YamlReader& reader, const Value& root, const Environment& env, Config& config) {
  bool has_tls = false;
  bool has_tokens = false;
  std::optional<Value> user;
  std::optional<Value> group;
  const bool is_map = reader.each_entry(root, kTopKeys, [&](const Entry& entry) {
    const Value& value = entry.value;
    if (entry.key == "listen") {
      read_endpoint(reader, value, false, config.listen);
    } else if (entry.key == "workers") {
      if (const std::optional<uint64_t> workers = reader.integer(value, 0, kMaxWorkers)) {
        config.workers = static_cast<unsigned>(*workers);
      }
    } else if (entry.key == "shutdown_timeout") {
      if (const std::optional<uint64_t> ms = reader.duration_ms(value, false)) {
        config.shutdown_timeout_ms = *ms;
      }
    } else if (entry.key == "user") {
      user = value;
    } else if (entry.key == "group") {
      group = value;
    } else if (entry.key == "tls") {
      has_tls = true;
      read_tls(reader, value, config.base_dir, config.tls);
    } else if (entry.key == "http") {
      read_http(reader, value, config.http);
    } else if (entry.key == "tokens") {
      has_tokens = true;
      read_tokens(reader, value, config.tokens);
    } else if (entry.key == "metrics") {
      read_metrics(reader, value, config.metrics);
    } else if (entry.key == "log") {
      read_log(reader, value, config.log);
    }
  });
  if (!is_map) {
    return;
  }
  read_run_as(reader, user ? &*user : nullptr, group ? &*group : nullptr, config.run_as);

  // Sections left out still have defaults to check and fill in.
  if (!has_tls) {
    read_tls(reader, Value{YAML::Node(), "tls", Mark{}}, config.base_dir, config.tls);
  }
  if (!has_tokens) {
    config.tokens = default_tokens(env);
  }
}

// WIF_TOKEND_LISTEN and WIF_TOKEND_METRICS_LISTEN win over the file, for
// containers that set addresses from outside: an image opens metrics on every
// address so that Prometheus and Kubernetes probes reach it from outside its
// network namespace, where a host install keeps it on loopback.
// An empty value counts as unset, as `VAR=` in a compose file means, so the
// environment cannot turn metrics off: that stays the file's choice.
void apply_listen_override(const Environment& env, std::string_view name, std::string_view field,
                           std::string_view expected, Diagnostics& diag, std::string& listen) {
  const std::optional<std::string> value = env(name);
  if (!value || value->empty()) {
    return;
  }
  if (!parse_endpoint(*value)) {
    diag.error(Mark{"(environment " + std::string(name) + ")", 0, 0}, field,
               "got " + quote(*value) + " (expected " + std::string(expected) + ")");
    return;
  }
  listen = *value;
}

// The document without what a reload may change (see
// Config::restart_settings), emitted as YAML: comments and spacing drop out.
std::string restart_settings_of(const YAML::Node& root) {
  if (!root.IsMap()) {
    return YAML::Dump(root);
  }
  YAML::Node fixed = YAML::Clone(root);
  fixed.remove("log");
  if (fixed["metrics"] && fixed["metrics"].IsMap()) {
    fixed["metrics"].remove("allow");
  }
  if (fixed["tokens"] && fixed["tokens"].IsMap()) {
    for (auto token : fixed["tokens"]) {
      if (token.second.IsMap()) {
        for (const char* key : {"allow", "response", "request_wait"}) {
          token.second.remove(key);
        }
      }
    }
  }
  return YAML::Dump(fixed);
}

// WIF_TOKEND_KEY_READABLE_BY wins over tls.key_readable_by, for an image run
// without a config file where the platform decides the key's mode: a
// Kubernetes secret volume is owned by root and readable through the pod's
// fsGroup, so the key there is group-readable by design.
void apply_key_readers_override(const Environment& env, Diagnostics& diag, TlsConfig& tls) {
  const std::optional<std::string> value = env(kKeyReadersOverride);
  if (!value || value->empty()) {
    return;
  }
  if (*value == "owner") {
    tls.key_readable_by = TlsConfig::KeyReaders::kOwner;
  } else if (*value == "group") {
    tls.key_readable_by = TlsConfig::KeyReaders::kGroup;
  } else if (*value == "anyone") {
    tls.key_readable_by = TlsConfig::KeyReaders::kAnyone;
  } else {
    diag.error(Mark{"(environment " + std::string(kKeyReadersOverride) + ")", 0, 0},
               "tls.key_readable_by",
               "got " + quote(*value) + " (expected one of: owner, group, anyone)");
  }
}

}  // namespace

Config load(const std::string& path, const std::string& working_dir, const Environment& env) {
  Diagnostics diag;
  Config config = load(path, working_dir, env, diag);
  if (!diag.ok()) {
    throw ConfigError(diag.messages());
  }
  return config;
}

Config load(const std::string& path, const std::string& working_dir, const Environment& env,
            Diagnostics& diag) {
  Config config;
  std::vector<YAML::Node> documents;
  if (path.empty()) {
    config.base_dir = absolute_dir(working_dir);
  } else {
    config.file = path;
    config.base_dir = absolute_dir(std::filesystem::absolute(path).parent_path().string());
    documents = parse(path, read_config_file(path, config.warnings));
  }

  YamlReader reader(config.file, env, diag);
  // An empty file (no document) or an empty document: every default.
  const YAML::Node root = documents.empty() ? YAML::Node() : documents.front();
  for (size_t i = 1; i < documents.size(); ++i) {
    if (!documents[i].IsNull()) {
      reader.error(reader.root(documents[i]).mark, "",
                   "got a second YAML document (expected one document)");
    }
  }
  read_top_level(reader, reader.root(root), env, config);
  apply_listen_override(env, kListenOverride, "listen", kListenExpected, diag, config.listen);
  apply_listen_override(env, kMetricsListenOverride, "metrics.listen", kMetricsOverrideExpected,
                        diag, config.metrics.listen);
  apply_key_readers_override(env, diag, config.tls);
  if (diag.ok()) {
    config.restart_settings = restart_settings_of(root);
  }
  return config;
}

}  // namespace wif::config
