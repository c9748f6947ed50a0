// Readers for the larger config sections, used by load() in loader.cc.
// Each reads one YAML section into its struct, reporting every problem
// through the YamlReader; a section left out of the file is passed as a
// null Value, so its defaults are applied and checked the same way.
#pragma once

#include <string>
#include <vector>

#include "src/config/config.h"
#include "src/config/yaml_reader.h"

namespace wif::config {

// `tls`: every file field made absolute against base_dir and checked
// readable, the defaults (server.crt, server.key, ca-chain.crt) included.
void read_tls(YamlReader& reader, const Value& section, const std::string& base_dir,
              TlsConfig& tls);

// `tokens`: at least one token; each with a source of some type, whose other
// fields are kept as written (after ${} expansion) for its plugin to check.
void read_tokens(YamlReader& reader, const Value& section, std::vector<TokenConfig>& tokens);

// An `allow` list of access rules (a token's, or metrics.allow), appended
// to rules as written; src/authz/ compiles them.
void read_allow(YamlReader& reader, const Value& value, std::vector<AllowRule>& rules);

// `user` and `group` (either may be null when left out): names resolved to
// ids through the system's user and group databases.
void read_run_as(YamlReader& reader, const Value* user, const Value* group, RunAs& out);

// The token served when the file has no `tokens` key, as the original app
// did: "wif", read from $WIF_HOME/wif_token.txt (WIF_HOME defaults to
// /opt/wif-token-api).
std::vector<TokenConfig> default_tokens(const Environment& env);

}  // namespace wif::config
