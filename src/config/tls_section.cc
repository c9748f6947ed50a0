#include <optional>

#include "src/config/paths.h"
#include "src/config/sections.h"

namespace wif::config {
namespace {

constexpr std::string_view kTlsKeys[] = {
    "cert", "key",       "key_passphrase_file", "client_ca",    "client_intermediates",
    "crl",  "crl_check", "min_version",         "verify_depth", "session_tickets"};
constexpr std::string_view kCrlChecks[] = {"leaf", "chain"};
constexpr std::string_view kMinVersions[] = {"1.2", "1.3"};
constexpr uint64_t kMaxVerifyDepth = 10;

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

}  // namespace

void read_tls(YamlReader& reader, const Value& section, const std::string& base_dir,
              TlsConfig& tls) {
  bool has_cert = false;
  bool has_key = false;
  bool has_client_ca = false;
  const bool is_map = reader.each_entry(section, kTlsKeys, [&](const Entry& entry) {
    const Value& value = entry.value;
    if (entry.key == "cert") {
      has_cert = true;
      read_file(reader, value, base_dir, true, tls.cert);
    } else if (entry.key == "key") {
      has_key = true;
      read_file(reader, value, base_dir, true, tls.key);
    } else if (entry.key == "key_passphrase_file") {
      read_file(reader, value, base_dir, false, tls.key_passphrase_file);
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
    } else if (entry.key == "session_tickets") {
      if (const std::optional<bool> tickets = reader.boolean(value)) {
        tls.session_tickets = *tickets;
      }
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
