#include <optional>

#include "src/config/paths.h"
#include "src/config/sections.h"

namespace wif::config {
namespace {

constexpr std::string_view kTlsKeys[] = {"cert",
                                         "key",
                                         "key_passphrase_file",
                                         "key_readable_by",
                                         "client_ca",
                                         "client_intermediates",
                                         "crl",
                                         "crl_check",
                                         "partial_chain",
                                         "require_client_auth_eku",
                                         "min_version",
                                         "verify_depth",
                                         "tls12_ciphers",
                                         "tls13_ciphersuites",
                                         "groups",
                                         "session_tickets",
                                         "session_lifetime",
                                         "reload_on_change",
                                         "reload_delay"};
constexpr std::string_view kKeyReaders[] = {"owner", "group", "anyone"};
constexpr std::string_view kCrlChecks[] = {"leaf", "chain"};
constexpr std::string_view kMinVersions[] = {"1.2", "1.3"};
constexpr uint64_t kMaxVerifyDepth = 10;
constexpr uint64_t kMinSessionLifetimeMs = 1'000;
constexpr uint64_t kMaxSessionLifetimeMs = 24 * 3'600'000;
constexpr uint64_t kMaxReloadDelayMs = 60'000;

void check_readable(YamlReader& reader, const Mark& mark, const std::string& field,
                    const std::string& path) {
  if (const std::optional<std::string> why = unreadable(path)) {
    reader.error(mark, field, "cannot read " + quote(path) + ": " + *why);
  }
}

// A file path, made absolute and checked. "" turns an optional file off.
void read_file(YamlReader& reader, const Value& value, const std::string& base_dir, bool required,
               std::string& out) {
  const std::string_view expected = required ? "a file path" : "a file path, or \"\" for none";
  const std::optional<Scalar> path = reader.scalar(value, expected);
  if (!path) {
    return;
  }
  if (path->text.empty()) {
    if (required) {
      reader.reject(value, *path, expected);
    } else {
      out.clear();
    }
    return;
  }
  out = resolve_path(base_dir, path->text);
  check_readable(reader, value.mark, value.field, out);
}

// `crl: FILE` or `crl: [FILE, ...]`.
void read_crl(YamlReader& reader, const Value& value, const std::string& base_dir,
              std::vector<std::string>& out) {
  out.clear();
  if (value.node.IsScalar()) {
    std::string path;
    read_file(reader, value, base_dir, false, path);
    if (!path.empty()) {
      out.push_back(std::move(path));
    }
    return;
  }
  const std::optional<std::vector<Value>> items =
      reader.items(value, "a file path or a list of file paths");
  if (!items) {
    return;
  }
  for (const Value& item : *items) {
    std::string path;
    read_file(reader, item, base_dir, true, path);
    if (!path.empty()) {
      out.push_back(std::move(path));
    }
  }
}

// `groups: X25519:P-256` as OpenSSL writes lists, or `groups: [X25519,
// P-256]`. Each name is checked against OpenSSL after loading.
void read_names(YamlReader& reader, const Value& value, std::vector<std::string>& out) {
  constexpr std::string_view kExpected = "a list of names, or one string of names joined by :";
  out.clear();
  if (value.node.IsScalar()) {
    const std::optional<Scalar> text = reader.scalar(value, kExpected);
    if (!text) {
      return;
    }
    size_t start = 0;
    while (start <= text->text.size() && !text->text.empty()) {
      size_t colon = text->text.find(':', start);
      if (colon == std::string::npos) {
        colon = text->text.size();
      }
      out.push_back(text->text.substr(start, colon - start));
      start = colon + 1;
    }
  } else {
    const std::optional<std::vector<Value>> items = reader.items(value, kExpected);
    for (const Value& item : items.value_or(std::vector<Value>{})) {
      if (const std::optional<Scalar> name = reader.scalar(item, "a name")) {
        out.push_back(name->text);
      }
    }
  }
  for (const std::string& name : out) {
    if (name.empty()) {
      reader.error(value, "got an empty name (expected names such as X25519 joined by :)");
      return;
    }
  }
}

// "500ms", "10s", "5m", "24h": the largest unit that divides ms.
std::string format_ms(uint64_t ms) {
  if (ms == 0) {
    return "0s";
  }
  if (ms % 3'600'000 == 0) {
    return std::to_string(ms / 3'600'000) + "h";
  }
  if (ms % 60'000 == 0) {
    return std::to_string(ms / 60'000) + "m";
  }
  if (ms % 1'000 == 0) {
    return std::to_string(ms / 1'000) + "s";
  }
  return std::to_string(ms) + "ms";
}

// A duration from min_ms to max_ms.
void read_bounded_duration(YamlReader& reader, const Value& value, uint64_t min_ms, uint64_t max_ms,
                           uint64_t& out) {
  const std::optional<uint64_t> ms = reader.duration_ms(value, min_ms > 0);
  if (!ms) {
    return;
  }
  if (*ms < min_ms || *ms > max_ms) {
    if (const std::optional<Scalar> text = reader.scalar(value, "a duration")) {
      reader.reject(value, *text,
                    "a duration from " + format_ms(min_ms) + " to " + format_ms(max_ms));
    }
    return;
  }
  out = *ms;
}

void read_flag(YamlReader& reader, const Value& value, bool& out) {
  if (const std::optional<bool> flag = reader.boolean(value)) {
    out = *flag;
  }
}

}  // namespace

void read_tls(YamlReader& reader, const Value& section, const std::string& base_dir,
              TlsConfig& tls) {
  bool has_cert = false;
  bool has_key = false;
  bool has_client_ca = false;
  const bool is_map = reader.each_entry(section, kTlsKeys, [&](const Entry& entry) {
    const Value& value = entry.value;
    tls.marks[entry.key] = value.mark;
    if (entry.key == "cert") {
      has_cert = true;
      read_file(reader, value, base_dir, true, tls.cert);
    } else if (entry.key == "key") {
      has_key = true;
      read_file(reader, value, base_dir, true, tls.key);
    } else if (entry.key == "key_passphrase_file") {
      read_file(reader, value, base_dir, false, tls.key_passphrase_file);
    } else if (entry.key == "key_readable_by") {
      if (const std::optional<std::string> readers = reader.choice(value, kKeyReaders)) {
        tls.key_readable_by = *readers == "owner"   ? TlsConfig::KeyReaders::kOwner
                              : *readers == "group" ? TlsConfig::KeyReaders::kGroup
                                                    : TlsConfig::KeyReaders::kAnyone;
      }
    } else if (entry.key == "client_ca") {
      has_client_ca = true;
      read_file(reader, value, base_dir, true, tls.client_ca);
    } else if (entry.key == "client_intermediates") {
      read_file(reader, value, base_dir, false, tls.client_intermediates);
    } else if (entry.key == "crl") {
      read_crl(reader, value, base_dir, tls.crl);
    } else if (entry.key == "crl_check") {
      if (const std::optional<std::string> check = reader.choice(value, kCrlChecks)) {
        tls.crl_check_chain = *check == "chain";
      }
    } else if (entry.key == "min_version") {
      // `min_version: 1.2` without quotes is a YAML float; its text is the same.
      if (const std::optional<std::string> version = reader.choice(value, kMinVersions)) {
        tls.min_version_13 = *version == "1.3";
      }
    } else if (entry.key == "verify_depth") {
      if (const std::optional<uint64_t> depth = reader.integer(value, 1, kMaxVerifyDepth)) {
        tls.verify_depth = static_cast<int>(*depth);
      }
    } else if (entry.key == "partial_chain") {
      read_flag(reader, value, tls.partial_chain);
    } else if (entry.key == "require_client_auth_eku") {
      read_flag(reader, value, tls.require_client_auth_eku);
    } else if (entry.key == "tls12_ciphers") {
      read_names(reader, value, tls.tls12_ciphers);
    } else if (entry.key == "tls13_ciphersuites") {
      read_names(reader, value, tls.tls13_ciphersuites);
    } else if (entry.key == "groups") {
      read_names(reader, value, tls.groups);
    } else if (entry.key == "session_tickets") {
      read_flag(reader, value, tls.session_tickets);
    } else if (entry.key == "session_lifetime") {
      read_bounded_duration(reader, value, kMinSessionLifetimeMs, kMaxSessionLifetimeMs,
                            tls.session_lifetime_ms);
    } else if (entry.key == "reload_on_change") {
      read_flag(reader, value, tls.reload_on_change);
    } else if (entry.key == "reload_delay") {
      read_bounded_duration(reader, value, 0, kMaxReloadDelayMs, tls.reload_delay_ms);
    }
  });
  if (!is_map) {
    return;
  }

  // Files left at their defaults must be there too; the mark says so.
  struct DefaultFile {
    bool given;
    const char* field;
    std::string& path;
  };
  for (const DefaultFile& file :
       {DefaultFile{has_cert, "tls.cert", tls.cert}, DefaultFile{has_key, "tls.key", tls.key},
        DefaultFile{has_client_ca, "tls.client_ca", tls.client_ca}}) {
    if (!file.given) {
      file.path = resolve_path(base_dir, file.path);
      check_readable(reader, Mark{}, file.field, file.path);
    }
  }
}

}  // namespace wif::config
