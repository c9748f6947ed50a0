// Loading and validating the YAML config: defaults, every kind of error with
// its full message, ${} expansion, overrides and path resolution.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "src/config/config.h"
#include "tests/support/test_support.h"

namespace wif::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using wif::testing::pki;
using wif::testing::TempDir;
using wif::testing::write_file;

constexpr const char* kTopKeys =
    "listen, workers, shutdown_timeout, user, group, tls, http, tokens, metrics, log";
constexpr const char* kListenExpected = "an address and port such as 0.0.0.0:7001 or [::]:7001";
constexpr const char* kRuleKeys = "cn, o, ou, dns, uri, email, ip, sha256, spki";

void copy_server_pki(const std::filesystem::path& dir) {
  for (const char* name : {"server.crt", "server.key", "ca-chain.crt"}) {
    std::filesystem::copy_file(pki(name), dir / name);
  }
}

// A folder holding the server's PKI files under their default names and the
// config file wif.yaml, so relative defaults resolve and only the problem a
// test writes into the YAML is reported.
class ConfigLoader : public ::testing::Test {
 protected:
  ConfigLoader() { copy_server_pki(dir_.path()); }

  std::string path() const { return dir_.file("wif.yaml"); }
  std::string file(std::string_view name) const { return dir_.file(name); }

  // "PATH:LINE:COLUMN: ", the start of a message about wif.yaml.
  std::string at(int line, int column) const {
    return path() + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  }

  Environment env() const {
    return [this](std::string_view name) -> std::optional<std::string> {
      const auto found = env_.find(name);
      if (found == env_.end()) {
        return std::nullopt;
      }
      return found->second;
    };
  }

  Config load_yaml(std::string_view yaml) {
    write_file(path(), yaml);
    return load(path(), "/nonexistent-working-dir", env());
  }

  std::vector<std::string> errors_loading(std::string_view yaml) {
    try {
      load_yaml(yaml);
    } catch (const ConfigError& e) {
      return e.messages();
    }
    ADD_FAILURE() << "the config loaded without errors:\n" << yaml;
    return {};
  }

  TempDir dir_;
  std::map<std::string, std::string, std::less<>> env_;
};

// Defaults.

TEST_F(ConfigLoader, UsesTheOriginalAppDefaultsWithoutAFile) {
  env_["WIF_HOME"] = "/srv/wif";
  const Config config = load("", dir_.path().string(), env());

  EXPECT_EQ(config.file, "");
  EXPECT_EQ(config.base_dir, dir_.path().string());
  EXPECT_EQ(config.listen, "0.0.0.0:7001");
  EXPECT_EQ(config.workers, 0u);
  EXPECT_EQ(config.shutdown_timeout_ms, 10'000u);
  EXPECT_EQ(config.tls.cert, file("server.crt"));
  EXPECT_EQ(config.tls.key, file("server.key"));
  EXPECT_EQ(config.tls.client_ca, file("ca-chain.crt"));
  EXPECT_EQ(config.tls.key_passphrase_file, "");
  EXPECT_EQ(config.tls.client_intermediates, "");
  EXPECT_THAT(config.tls.crl, IsEmpty());
  EXPECT_FALSE(config.tls.crl_check_chain);
  EXPECT_FALSE(config.tls.min_version_13);
  EXPECT_EQ(config.tls.verify_depth, 4);
  EXPECT_TRUE(config.tls.session_tickets);
  EXPECT_FALSE(config.tls.partial_chain);
  EXPECT_FALSE(config.tls.require_client_auth_eku);
  EXPECT_THAT(config.tls.tls12_ciphers, IsEmpty());
  EXPECT_THAT(config.tls.tls13_ciphersuites, IsEmpty());
  EXPECT_THAT(config.tls.groups, IsEmpty());
  EXPECT_EQ(config.tls.session_lifetime_ms, 600'000u);
  EXPECT_TRUE(config.tls.reload_on_change);
  EXPECT_EQ(config.tls.reload_delay_ms, 1'000u);
  EXPECT_EQ(config.http.handshake_timeout_ms, 10'000u);
  EXPECT_EQ(config.http.header_timeout_ms, 10'000u);
  EXPECT_EQ(config.http.idle_timeout_ms, 60'000u);
  EXPECT_EQ(config.http.max_header_bytes, 16'384u);
  EXPECT_EQ(config.http.max_connections, 10'000u);
  EXPECT_EQ(config.metrics.listen, "127.0.0.1:9464");
  EXPECT_EQ(config.log.level, "info");
  EXPECT_EQ(config.log.format, "text");
}

TEST_F(ConfigLoader, ServesTheWifTokenFromWifHomeByDefault) {
  env_["WIF_HOME"] = "/srv/wif";
  const Config config = load("", dir_.path().string(), env());

  ASSERT_EQ(config.tokens.size(), 1u);
  const TokenConfig& token = config.tokens[0];
  EXPECT_EQ(token.name, "wif");
  EXPECT_EQ(token.mark.line, 0);
  EXPECT_EQ(token.mark.file, "");
  EXPECT_EQ(token.source.type, "file");
  EXPECT_THAT(token.allow, IsEmpty());
  EXPECT_FALSE(token.minimal_response);
  EXPECT_EQ(token.request_wait_ms, 5'000u);
  ASSERT_EQ(token.source.fields.size(), 1u);
  const SourceSpec::Field& path = token.source.fields.at("path");
  EXPECT_FALSE(path.is_list);
  EXPECT_THAT(path.values, ElementsAre("/srv/wif/wif_token.txt"));
  EXPECT_EQ(path.mark.line, 0);
}

TEST_F(ConfigLoader, ReadsTheDefaultTokenFromOptWifTokenApiWhenWifHomeIsUnset) {
  const Config config = load("", dir_.path().string(), env());

  ASSERT_EQ(config.tokens.size(), 1u);
  EXPECT_THAT(config.tokens[0].source.fields.at("path").values,
              ElementsAre("/opt/wif-token-api/wif_token.txt"));
}

TEST_F(ConfigLoader, NamesTheBuiltInDefaultWhenADefaultTlsFileIsMissing) {
  const TempDir empty;
  try {
    load("", empty.path().string(), env());
    FAIL() << "loaded without the default TLS files";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.messages(),
                ElementsAre("(built-in default): tls.cert: cannot read \"" +
                                empty.file("server.crt") + "\": No such file or directory",
                            "(built-in default): tls.key: cannot read \"" +
                                empty.file("server.key") + "\": No such file or directory",
                            "(built-in default): tls.client_ca: cannot read \"" +
                                empty.file("ca-chain.crt") + "\": No such file or directory"));
  }
}

TEST_F(ConfigLoader, TreatsAnEmptyFileAsEveryDefaultRelativeToItsFolder) {
  const Config config = load_yaml("# nothing set\n");

  EXPECT_EQ(config.file, path());
  EXPECT_EQ(config.base_dir, dir_.path().string());
  EXPECT_EQ(config.listen, "0.0.0.0:7001");
  EXPECT_EQ(config.tls.cert, file("server.crt"));
  ASSERT_EQ(config.tokens.size(), 1u);
  EXPECT_EQ(config.tokens[0].name, "wif");
}

TEST_F(ConfigLoader, TreatsAnEmptySectionAsItsDefaults) {
  const Config config = load_yaml("tls:\nhttp:\nlog:\n");

  EXPECT_EQ(config.tls.cert, file("server.crt"));
  EXPECT_EQ(config.http.idle_timeout_ms, 60'000u);
  EXPECT_EQ(config.log.level, "info");
}

// Reading every field.

TEST_F(ConfigLoader, ReadsEveryField) {
  write_file(file("intermediates.crt"), "");
  write_file(file("passphrase"), "secret\n");
  write_file(file("root.crl"), "");
  const Config config = load_yaml(R"(listen: "[::]:8443"
workers: 8
shutdown_timeout: 500ms
tls:
  cert: server.crt
  key: server.key
  key_passphrase_file: passphrase
  client_ca: ca-chain.crt
  client_intermediates: intermediates.crt
  crl: [root.crl]
  crl_check: chain
  min_version: "1.3"
  verify_depth: 10
  partial_chain: true
  require_client_auth_eku: true
  tls12_ciphers: ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256
  tls13_ciphersuites: [TLS_AES_256_GCM_SHA384]
  groups: X25519
  session_tickets: false
  session_lifetime: 5m
  reload_on_change: false
  reload_delay: 250ms
http:
  handshake_timeout: 2s
  header_timeout: 3s
  idle_timeout: 1m
  max_header_bytes: 1024
  max_connections: 1000000
tokens:
  build:
    source: {type: exec, command: [/bin/mint, --aud, x], timeout: 30s}
    allow:
      - {cn: ci-runner, o: Internal}
      - {uri: "spiffe://corp/ns/ci/*"}
    response: minimal
    request_wait: 2s
metrics:
  listen: ""
log:
  level: trace
  format: json
)");

  EXPECT_EQ(config.listen, "[::]:8443");
  EXPECT_EQ(config.workers, 8u);
  EXPECT_EQ(config.shutdown_timeout_ms, 500u);
  EXPECT_EQ(config.tls.key_passphrase_file, file("passphrase"));
  EXPECT_EQ(config.tls.client_intermediates, file("intermediates.crt"));
  EXPECT_THAT(config.tls.crl, ElementsAre(file("root.crl")));
  EXPECT_TRUE(config.tls.crl_check_chain);
  EXPECT_TRUE(config.tls.min_version_13);
  EXPECT_EQ(config.tls.verify_depth, 10);
  EXPECT_TRUE(config.tls.partial_chain);
  EXPECT_TRUE(config.tls.require_client_auth_eku);
  EXPECT_THAT(config.tls.tls12_ciphers,
              ElementsAre("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256"));
  EXPECT_THAT(config.tls.tls13_ciphersuites, ElementsAre("TLS_AES_256_GCM_SHA384"));
  EXPECT_THAT(config.tls.groups, ElementsAre("X25519"));
  EXPECT_FALSE(config.tls.session_tickets);
  EXPECT_EQ(config.tls.session_lifetime_ms, 300'000u);
  EXPECT_FALSE(config.tls.reload_on_change);
  EXPECT_EQ(config.tls.reload_delay_ms, 250u);
  EXPECT_EQ(config.tls.marks.at("groups").line, 18);
  EXPECT_EQ(config.tls.marks.at("groups").column, 11);
  EXPECT_EQ(config.http.handshake_timeout_ms, 2'000u);
  EXPECT_EQ(config.http.header_timeout_ms, 3'000u);
  EXPECT_EQ(config.http.idle_timeout_ms, 60'000u);
  EXPECT_EQ(config.http.max_header_bytes, 1'024u);
  EXPECT_EQ(config.http.max_connections, 1'000'000u);
  EXPECT_EQ(config.metrics.listen, "");
  EXPECT_EQ(config.log.level, "trace");
  EXPECT_EQ(config.log.format, "json");
  ASSERT_EQ(config.tokens.size(), 1u);
  EXPECT_EQ(config.tokens[0].name, "build");
  EXPECT_EQ(config.tokens[0].mark.line, 30);
  EXPECT_EQ(config.tokens[0].mark.column, 3);
  EXPECT_TRUE(config.tokens[0].minimal_response);
  EXPECT_EQ(config.tokens[0].request_wait_ms, 2'000u);
}

TEST_F(ConfigLoader, KeepsSourceFieldsVerbatimWithTheirMarks) {
  const Config config = load_yaml(R"(tokens:
  build:
    source:
      type: exec
      command: [/bin/mint, --aud, x]
      timeout: 30s
      output_file: ""
)");

  ASSERT_EQ(config.tokens.size(), 1u);
  const SourceSpec& source = config.tokens[0].source;
  EXPECT_EQ(source.type, "exec");
  EXPECT_EQ(source.mark.line, 4);
  EXPECT_EQ(source.mark.column, 7);
  ASSERT_EQ(source.fields.size(), 3u);
  const SourceSpec::Field& command = source.fields.at("command");
  EXPECT_TRUE(command.is_list);
  EXPECT_THAT(command.values, ElementsAre("/bin/mint", "--aud", "x"));
  EXPECT_EQ(command.mark.file, path());
  EXPECT_EQ(command.mark.line, 5);
  EXPECT_EQ(command.mark.column, 16);
  const SourceSpec::Field& timeout = source.fields.at("timeout");
  EXPECT_FALSE(timeout.is_list);
  EXPECT_THAT(timeout.values, ElementsAre("30s"));
  EXPECT_THAT(source.fields.at("output_file").values, ElementsAre(""));
}

TEST_F(ConfigLoader, ReadsAllowRulesWithTheirMarks) {
  const Config config = load_yaml(R"(tokens:
  wif:
    source: {type: file, path: /run/wif/token}
    allow:
      - {cn: ci-runner, o: Internal}
      - sha256: AB:CD
        ip: 10.0.0.1
)");

  ASSERT_EQ(config.tokens.size(), 1u);
  const std::vector<AllowRule>& allow = config.tokens[0].allow;
  ASSERT_EQ(allow.size(), 2u);
  EXPECT_EQ(allow[0].cn, "ci-runner");
  EXPECT_EQ(allow[0].o, "Internal");
  EXPECT_EQ(allow[0].ou, std::nullopt);
  EXPECT_EQ(allow[0].mark.line, 5);
  EXPECT_EQ(allow[0].mark.column, 9);
  EXPECT_EQ(allow[1].sha256, "AB:CD");
  EXPECT_EQ(allow[1].ip, "10.0.0.1");
  EXPECT_EQ(allow[1].cn, std::nullopt);
  // Each value's own mark and the rule's path, for src/authz/'s checks.
  EXPECT_EQ(allow[1].field, "tokens.wif.allow[1]");
  EXPECT_EQ(allow[1].marks.at("ip").line, 7);
  EXPECT_EQ(allow[1].marks.at("ip").column, 13);
  EXPECT_EQ(allow[0].marks.at("o").column, 28);
}

TEST_F(ConfigLoader, AcceptsTheMinimumTlsVersionWrittenAsANumber) {
  EXPECT_FALSE(load_yaml("tls: {min_version: 1.2}\n").tls.min_version_13);
  EXPECT_TRUE(load_yaml("tls: {min_version: 1.3}\n").tls.min_version_13);
}

TEST_F(ConfigLoader, AcceptsASingleCrlFileAsAString) {
  write_file(file("root.crl"), "");
  EXPECT_THAT(load_yaml("tls: {crl: root.crl}\n").tls.crl, ElementsAre(file("root.crl")));
  EXPECT_THAT(load_yaml("tls: {crl: \"\"}\n").tls.crl, IsEmpty());
}

// Unknown keys.

TEST_F(ConfigLoader, NamesFileLineAndFieldOfAnUnknownKey) {
  EXPECT_THAT(errors_loading("listen: \"0.0.0.0:7001\"\nworkers: 2\ntlss: {}\n"),
              ElementsAre(at(3, 1) + "tlss: unknown key (expected one of: " + kTopKeys + ")"));
}

TEST_F(ConfigLoader, NamesTheAllowedKeysOfEachSectionForAnUnknownKey) {
  EXPECT_THAT(
      errors_loading(R"(tls:
  certificate: a.crt
http:
  timeout: 5s
metrics:
  port: 9464
log:
  verbose: true
tokens:
  wif:
    source: {type: file, path: /run/token}
    allowed: []
)"),
      ElementsAre(at(2, 3) +
                      "tls.certificate: unknown key (expected one of: cert, key, "
                      "key_passphrase_file, key_readable_by, client_ca, client_intermediates, "
                      "crl, crl_check, partial_chain, require_client_auth_eku, min_version, "
                      "verify_depth, tls12_ciphers, tls13_ciphersuites, groups, "
                      "session_tickets, session_lifetime, reload_on_change, reload_delay)",
                  at(4, 3) + "http.timeout: unknown key (expected one of: handshake_timeout, "
                             "header_timeout, idle_timeout, max_header_bytes, max_connections)",
                  at(6, 3) + "metrics.port: unknown key (expected one of: listen, allow)",
                  at(8, 3) + "log.verbose: unknown key (expected one of: level, format, access)",
                  at(12, 5) + "tokens.wif.allowed: unknown key (expected one of: source, allow, "
                              "response, request_wait)"));
}

TEST_F(ConfigLoader, ReadsTheRulesOfWhoMayReadMetricsOverMutualTls) {
  const Config config = load_yaml(R"(metrics:
  listen: ""
  allow:
    - {cn: prometheus, o: Internal}
)");
  ASSERT_EQ(config.metrics.allow.size(), 1u);
  EXPECT_EQ(config.metrics.allow[0].cn, "prometheus");
  EXPECT_EQ(config.metrics.allow[0].field, "metrics.allow[0]");
  EXPECT_EQ(config.metrics.allow[0].mark.line, 4);
  EXPECT_THAT(load_yaml("listen: 127.0.0.1:7002\n").metrics.allow, IsEmpty());
}

TEST_F(ConfigLoader, RejectsAnAllowListLeftEmptyRatherThanOpeningTheToken) {
  EXPECT_THAT(errors_loading(R"(tokens:
  wif:
    source: {type: file, path: /run/token}
    allow:
    #  - {cn: ci-runner}
)"),
              ElementsAre(::testing::HasSubstr(
                  "tokens.wif.allow: is empty (expected a list of rules, or [] for any verified "
                  "client)")));
}

TEST_F(ConfigLoader, RejectsAnEmptyMetricsRule) {
  EXPECT_THAT(errors_loading("metrics:\n  allow: [{}]\n"),
              ElementsAre(::testing::HasSubstr("metrics.allow[0]: got an empty rule")));
}

TEST_F(ConfigLoader, RejectsAnAllowRuleWithAnUnknownField) {
  EXPECT_THAT(
      errors_loading(R"(tokens:
  wif:
    source: {type: file, path: /run/token}
    allow:
      - {cn: ci-runner, subject: x}
)"),
      ElementsAre(at(5, 25) +
                  "tokens.wif.allow[0].subject: unknown key (expected one of: " + kRuleKeys + ")"));
}

TEST_F(ConfigLoader, RejectsAKeyGivenTwice) {
  EXPECT_THAT(errors_loading("workers: 1\nworkers: 2\n"),
              ElementsAre(at(2, 1) +
                          "workers: given twice (expected each key once; the first is at line 1, "
                          "column 1)"));
}

// Wrong types and values.

TEST_F(ConfigLoader, ReportsASectionThatIsNotAMap) {
  EXPECT_THAT(errors_loading("tls: [server.crt]\nlog: quiet\n"),
              ElementsAre(at(1, 6) + "tls: got a list (expected a map)",
                          at(2, 6) + "log: got \"quiet\" (expected a map)"));
}

TEST_F(ConfigLoader, ReportsATopLevelThatIsNotAMap) {
  EXPECT_THAT(errors_loading("- listen\n- workers\n"),
              ElementsAre(at(1, 1) + "got a list (expected a map)"));
}

TEST_F(ConfigLoader, QuotesTheOffendingValueAndSaysWhatWasExpected) {
  EXPECT_THAT(
      errors_loading("tls:\n  verify_depth: deep\n"),
      ElementsAre(at(2, 17) + "tls.verify_depth: got \"deep\" (expected an integer from 1 to 10)"));
}

TEST_F(ConfigLoader, ReportsAMapOrListWhereAValueIsExpected) {
  EXPECT_THAT(errors_loading("workers: {count: 2}\nlisten: [a, b]\n"),
              ElementsAre(at(1, 10) + "workers: got a map (expected an integer from 0 to 256)",
                          at(2, 9) + "listen: got a list (expected " + kListenExpected + ")"));
}

TEST_F(ConfigLoader, ReportsAKeyWithoutValueAtTheKey) {
  EXPECT_THAT(
      errors_loading("log:\n  level:\n\nworkers: 1\n"),
      ElementsAre(at(2, 3) + "log.level: got no value (expected one of: error, warn, info, debug, "
                             "trace)"));
}

TEST_F(ConfigLoader, RejectsABareNumberAsADuration) {
  EXPECT_THAT(
      errors_loading("shutdown_timeout: 10\n"),
      ElementsAre(at(1, 19) + "shutdown_timeout: got \"10\" (expected a duration: a whole number "
                              "followed by ms, s, m or h, such as 10s)"));
}

TEST_F(ConfigLoader, RejectsAZeroHttpTimeout) {
  EXPECT_THAT(errors_loading("http:\n  idle_timeout: 0s\n"),
              ElementsAre(at(2, 17) +
                          "http.idle_timeout: got \"0s\" (expected a duration above zero: a whole "
                          "number followed by ms, s, m or h, such as 10s)"));
}

TEST_F(ConfigLoader, RejectsNumbersOutOfRange) {
  EXPECT_THAT(
      errors_loading(R"(workers: 257
tls:
  verify_depth: 0
http:
  max_header_bytes: 1023
  max_connections: 99999999999999999999999
)"),
      ElementsAre(at(1, 10) + "workers: got \"257\" (expected an integer from 0 to 256)",
                  at(3, 17) + "tls.verify_depth: got \"0\" (expected an integer from 1 to 10)",
                  at(5, 21) +
                      "http.max_header_bytes: got \"1023\" (expected an integer from 1024 to "
                      "1048576)",
                  at(6, 20) + "http.max_connections: got \"99999999999999999999999\" (expected an "
                              "integer from 1 to 1000000)"));
}

TEST_F(ConfigLoader, RejectsSignedIntegers) {
  EXPECT_THAT(errors_loading("workers: -1\n"),
              ElementsAre(at(1, 10) + "workers: got \"-1\" (expected an integer from 0 to 256)"));
}

TEST_F(ConfigLoader, RejectsWordsOutsideTheirChoices) {
  EXPECT_THAT(
      errors_loading(R"(tls:
  crl_check: all
  min_version: "1.1"
  session_tickets: maybe
log:
  level: verbose
  format: xml
)"),
      ElementsAre(at(2, 14) + "tls.crl_check: got \"all\" (expected one of: leaf, chain)",
                  at(3, 16) + "tls.min_version: got \"1.1\" (expected one of: 1.2, 1.3)",
                  at(4, 20) + "tls.session_tickets: got \"maybe\" (expected true or false)",
                  at(6, 10) +
                      "log.level: got \"verbose\" (expected one of: error, warn, info, debug, "
                      "trace)",
                  at(7, 11) + "log.format: got \"xml\" (expected one of: text, json)"));
}

TEST_F(ConfigLoader, RejectsAListenAddressWithoutHostOrPort) {
  EXPECT_THAT(
      errors_loading("listen: \"7001\"\nmetrics:\n  listen: localhost:9464\n"),
      ElementsAre(at(1, 9) + "listen: got \"7001\" (expected " + kListenExpected + ")",
                  at(3, 11) +
                      "metrics.listen: got \"localhost:9464\" (expected an address and port "
                      "such as 127.0.0.1:9464, or \"\" to turn metrics off)"));
}

TEST_F(ConfigLoader, EscapesControlCharactersInTheOffendingValue) {
  EXPECT_THAT(errors_loading("log: {level: \"in\\tfo\\u0001\"}\n"),
              ElementsAre(at(1, 14) +
                          "log.level: got \"in\\tfo\\x01\" (expected one of: error, warn, info, "
                          "debug, trace)"));
}

TEST_F(ConfigLoader, CutsALongOffendingValue) {
  const std::string long_value(150, 'x');
  EXPECT_THAT(errors_loading("log: {format: " + long_value + "}\n"),
              ElementsAre(at(1, 15) + "log.format: got \"" + std::string(100, 'x') +
                          "...\" (expected one of: text, json)"));
}

TEST_F(ConfigLoader, ReportsEveryProblemInOnePass) {
  EXPECT_THAT(
      errors_loading(R"(listen: nowhere
workers: many
tls:
  cert: missing.crt
  verify_depth: 11
colour: blue
tokens:
  Wif:
    source: {path: /run/token}
)"),
      ElementsAre(
          at(1, 9) + "listen: got \"nowhere\" (expected " + kListenExpected + ")",
          at(2, 10) + "workers: got \"many\" (expected an integer from 0 to 256)",
          at(4, 9) + "tls.cert: cannot read \"" + file("missing.crt") +
              "\": No such file or directory",
          at(5, 17) + "tls.verify_depth: got \"11\" (expected an integer from 1 to 10)",
          at(6, 1) + "colour: unknown key (expected one of: " + kTopKeys + ")",
          at(8, 3) + "tokens: got \"Wif\" as a token name (expected 1 to 64 characters from "
                     "a-z, 0-9, _ and -)",
          at(9, 13) + "tokens.Wif.source: has no type (expected a type such as file or exec)"));
}

// The file itself.

TEST_F(ConfigLoader, ReportsAYamlSyntaxErrorWithItsPosition) {
  EXPECT_THAT(errors_loading("tls:\n  crl: [a.crl, b.crl\n"),
              ElementsAre(at(3, 1) + "end of sequence flow not found"));
}

TEST_F(ConfigLoader, ReportsAMissingConfigFile) {
  const std::string missing = file("missing.yaml");
  try {
    load(missing, "/", env());
    FAIL() << "loaded a missing file";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.messages(),
                ElementsAre(missing + ": cannot read the config file: No such file or "
                                      "directory"));
  }
}

TEST_F(ConfigLoader, ReportsAFolderGivenAsTheConfigFile) {
  try {
    load(dir_.path().string(), "/", env());
    FAIL() << "loaded a folder";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.messages(), ElementsAre(dir_.path().string() +
                                          ": cannot read the config file: Is a directory"));
  }
}

TEST_F(ConfigLoader, RejectsASecondYamlDocument) {
  EXPECT_THAT(errors_loading("workers: 1\n---\nworkers: 2\n"),
              ElementsAre(at(3, 1) + "got a second YAML document (expected one document)"));
}

// TLS files.

TEST_F(ConfigLoader, NamesTheFieldAndPathOfAMissingTlsFile) {
  EXPECT_THAT(errors_loading("tls:\n  key: keys/server.key\n"),
              ElementsAre(at(2, 8) + "tls.key: cannot read \"" + file("keys/server.key") +
                          "\": No such file or directory"));
}

TEST_F(ConfigLoader, ReportsAFolderGivenAsATlsFile) {
  std::filesystem::create_directory(file("certs"));
  EXPECT_THAT(errors_loading("tls:\n  client_ca: certs\n"),
              ElementsAre(at(2, 14) + "tls.client_ca: cannot read \"" + file("certs") +
                          "\": Is a directory"));
}

TEST_F(ConfigLoader, ChecksOptionalTlsFilesOnlyWhenSet) {
  write_file(file("a.crl"), "");
  EXPECT_THAT(errors_loading(R"(tls:
  key_passphrase_file: passphrase
  client_intermediates: ""
  crl: [a.crl, b.crl]
)"),
              ElementsAre(at(2, 24) + "tls.key_passphrase_file: cannot read \"" +
                              file("passphrase") + "\": No such file or directory",
                          at(4, 16) + "tls.crl[1]: cannot read \"" + file("b.crl") +
                              "\": No such file or directory"));
}

TEST_F(ConfigLoader, RejectsAnEmptyPathForARequiredTlsFile) {
  EXPECT_THAT(errors_loading("tls:\n  cert: \"\"\n  crl: [\"\"]\n"),
              ElementsAre(at(2, 9) + "tls.cert: got \"\" (expected a file path)",
                          at(3, 9) + "tls.crl[0]: got \"\" (expected a file path)"));
}

TEST_F(ConfigLoader, ResolvesRelativeTlsPathsAgainstTheConfigFolder) {
  std::filesystem::create_directory(file("pki"));
  copy_server_pki(file("pki"));
  write_file(file("pki/root.crl"), "");
  const Config config = load_yaml(R"(tls:
  cert: pki/server.crt
  key: ./pki/../pki/server.key
  client_ca: )" + pki("ca-chain.crt") +
                                  R"(
  crl: pki/root.crl
)");

  EXPECT_EQ(config.tls.cert, file("pki/server.crt"));
  EXPECT_EQ(config.tls.key, file("pki/server.key"));
  EXPECT_EQ(config.tls.client_ca, pki("ca-chain.crt"));
  EXPECT_THAT(config.tls.crl, ElementsAre(file("pki/root.crl")));
}

TEST_F(ConfigLoader, ResolvesDefaultsAgainstTheWorkingDirectoryWithoutAFile) {
  const Config config = load("", dir_.path().string() + "/./", env());

  EXPECT_EQ(config.base_dir, dir_.path().string());
  EXPECT_EQ(config.tls.key, file("server.key"));
}

// Environment.

TEST_F(ConfigLoader, ExpandsEnvironmentVariablesInStringValues) {
  env_["PKI"] = dir_.path().string();
  env_["WORKERS"] = "3";
  env_["EMPTY"] = "";
  const Config config = load_yaml(R"(workers: ${WORKERS}
tls:
  cert: ${PKI}/server.crt
  key: ${KEY_FILE:-server.key}
  client_ca: ${EMPTY:-ca-chain.crt}
tokens:
  wif:
    source: {type: exec, command: [mint, "${PKI}", "$${PKI}", "a$b"]}
)");

  EXPECT_EQ(config.workers, 3u);
  EXPECT_EQ(config.tls.cert, file("server.crt"));
  EXPECT_EQ(config.tls.client_ca, file("ca-chain.crt"));
  ASSERT_EQ(config.tokens.size(), 1u);
  EXPECT_THAT(config.tokens[0].source.fields.at("command").values,
              ElementsAre("mint", dir_.path().string(), "${PKI}", "a$b"));
}

TEST_F(ConfigLoader, NamesAnUnsetVariableWithoutDefault) {
  EXPECT_THAT(
      errors_loading(R"(tls:
  cert: "${CERT_DIR}/server.crt"
tokens:
  wif:
    source: {type: file, path: "${TOKEN_DIR}/${TOKEN_FILE}"}
)"),
      ElementsAre(at(2, 9) + "tls.cert: got \"${CERT_DIR}/server.crt\", but CERT_DIR is not set "
                             "in the environment (expected it set, or a default as in "
                             "${CERT_DIR:-default})",
                  at(5, 32) + "tokens.wif.source.path: got \"${TOKEN_DIR}/${TOKEN_FILE}\", but "
                              "TOKEN_DIR is not set in the environment (expected it set, or a "
                              "default as in ${TOKEN_DIR:-default})",
                  at(5, 32) + "tokens.wif.source.path: got \"${TOKEN_DIR}/${TOKEN_FILE}\", but "
                              "TOKEN_FILE is not set in the environment (expected it set, or a "
                              "default as in ${TOKEN_FILE:-default})"));
}

TEST_F(ConfigLoader, RejectsAMalformedVariableReference) {
  EXPECT_THAT(
      errors_loading("tls:\n  cert: \"${1DIR}/server.crt\"\n  key: ${KEY\n"
                     "  client_ca: ${A:-${B}}\n"),
      ElementsAre(at(2, 9) + "tls.cert: got \"${1DIR}/server.crt\" (expected ${NAME} or "
                             "${NAME:-default} with NAME made of letters, digits and _, or $$ "
                             "for a literal $)",
                  at(3, 8) + "tls.key: got \"${KEY\" (expected ${NAME} or ${NAME:-default} with "
                             "NAME made of letters, digits and _, or $$ for a literal $)",
                  at(4, 14) + "tls.client_ca: got \"${A:-${B}}\" (expected ${NAME} or "
                              "${NAME:-default} with NAME made of letters, digits and _, or $$ "
                              "for a literal $)"));
}

TEST_F(ConfigLoader, ShowsTheTextAsWrittenWhenAnExpandedValueIsWrong) {
  env_["WORKERS"] = "lots";
  EXPECT_THAT(errors_loading("workers: ${WORKERS}\n"),
              ElementsAre(at(1, 10) +
                          "workers: got \"lots\", from \"${WORKERS}\" (expected an integer from 0 "
                          "to 256)"));
}

TEST_F(ConfigLoader, LetsWifTokendListenOverrideTheFile) {
  env_["WIF_TOKEND_LISTEN"] = "[::1]:9000";
  EXPECT_EQ(load_yaml("listen: 0.0.0.0:7001\n").listen, "[::1]:9000");
}

TEST_F(ConfigLoader, IgnoresAnEmptyWifTokendListen) {
  env_["WIF_TOKEND_LISTEN"] = "";
  EXPECT_EQ(load_yaml("listen: 127.0.0.1:7002\n").listen, "127.0.0.1:7002");
}

TEST_F(ConfigLoader, NamesTheEnvironmentForABadWifTokendListen) {
  env_["WIF_TOKEND_LISTEN"] = "7001";
  EXPECT_THAT(errors_loading("workers: 1\n"),
              ElementsAre("(environment WIF_TOKEND_LISTEN): listen: got \"7001\" (expected " +
                          std::string(kListenExpected) + ")"));
}

TEST_F(ConfigLoader, LetsWifTokendMetricsListenOverrideTheFile) {
  env_["WIF_TOKEND_METRICS_LISTEN"] = "0.0.0.0:9464";
  const Config config = load_yaml("listen: 127.0.0.1:7002\nmetrics: {listen: \"\"}\n");
  EXPECT_EQ(config.metrics.listen, "0.0.0.0:9464");
  EXPECT_EQ(config.listen, "127.0.0.1:7002");
}

TEST_F(ConfigLoader, LetsWifTokendMetricsListenOverrideTheDefaultWithoutAFile) {
  env_["WIF_TOKEND_METRICS_LISTEN"] = "[::]:9100";
  EXPECT_EQ(load("", dir_.path().string(), env()).metrics.listen, "[::]:9100");
}

TEST_F(ConfigLoader, IgnoresAnEmptyWifTokendMetricsListen) {
  env_["WIF_TOKEND_METRICS_LISTEN"] = "";
  EXPECT_EQ(load_yaml("metrics: {listen: 127.0.0.1:9465}\n").metrics.listen, "127.0.0.1:9465");
}

TEST_F(ConfigLoader, NamesTheEnvironmentForABadWifTokendMetricsListen) {
  env_["WIF_TOKEND_METRICS_LISTEN"] = "localhost:9464";
  env_["WIF_TOKEND_LISTEN"] = "7001";
  EXPECT_THAT(errors_loading("workers: 1\n"),
              ElementsAre("(environment WIF_TOKEND_LISTEN): listen: got \"7001\" (expected " +
                              std::string(kListenExpected) + ")",
                          "(environment WIF_TOKEND_METRICS_LISTEN): metrics.listen: got "
                          "\"localhost:9464\" (expected an address and port such as "
                          "0.0.0.0:9464)"));
}

TEST_F(ConfigLoader, LetsWifTokendKeyReadableByOverrideTheFile) {
  env_["WIF_TOKEND_KEY_READABLE_BY"] = "group";
  EXPECT_EQ(load_yaml("tls: {key_readable_by: owner}\n").tls.key_readable_by,
            TlsConfig::KeyReaders::kGroup);
  EXPECT_EQ(load("", dir_.path().string(), env()).tls.key_readable_by,
            TlsConfig::KeyReaders::kGroup);
  env_["WIF_TOKEND_KEY_READABLE_BY"] = "";
  EXPECT_EQ(load_yaml("tls: {key_readable_by: anyone}\n").tls.key_readable_by,
            TlsConfig::KeyReaders::kAnyone);
}

TEST_F(ConfigLoader, NamesTheEnvironmentForABadWifTokendKeyReadableBy) {
  env_["WIF_TOKEND_KEY_READABLE_BY"] = "world";
  EXPECT_THAT(errors_loading("workers: 1\n"),
              ElementsAre("(environment WIF_TOKEND_KEY_READABLE_BY): tls.key_readable_by: got "
                          "\"world\" (expected one of: owner, group, anyone)"));
}

// Tokens.

TEST_F(ConfigLoader, AcceptsTokenNamesOfLowercaseLettersDigitsUnderscoresAndDashes) {
  const std::string longest(64, 'a');
  const Config config = load_yaml("tokens:\n  ci_build-2: {source: {type: file, path: a}}\n  " +
                                  longest + ": {source: {type: file, path: b}}\n");

  ASSERT_EQ(config.tokens.size(), 2u);
  EXPECT_EQ(config.tokens[0].name, "ci_build-2");
  EXPECT_EQ(config.tokens[1].name, longest);
}

TEST_F(ConfigLoader, RejectsTokenNamesOutsideTheAllowedCharactersOrLength) {
  const std::string too_long(65, 'a');
  EXPECT_THAT(
      errors_loading(
          "tokens:\n  ci.build: {source: {type: file, path: a}}\n  " + too_long +
          ": {source: {type: file, path: b}}\n  \"\": " + "{source: {type: file, path: c}}\n"),
      ElementsAre(at(2, 3) + "tokens: got \"ci.build\" as a token name (expected 1 to 64 "
                             "characters from a-z, 0-9, _ and -)",
                  at(3, 3) + "tokens: got \"" + too_long +
                      "\" as a token name (expected 1 to 64 characters from a-z, 0-9, _ "
                      "and -)",
                  at(4, 3) + "tokens: got \"\" as a token name (expected 1 to 64 characters "
                             "from a-z, 0-9, _ and -)"));
}

TEST_F(ConfigLoader, RejectsAnExplicitlyEmptyTokenMap) {
  EXPECT_THAT(
      errors_loading("tokens: {}\n"),
      ElementsAre(at(1, 9) + "tokens: got no tokens (expected at least one; leave tokens out to "
                             "serve the default wif token)"));
}

TEST_F(ConfigLoader, RejectsATokensKeyWithoutValue) {
  EXPECT_THAT(
      errors_loading("tokens:\nworkers: 1\n"),
      ElementsAre(at(1, 1) + "tokens: got no tokens (expected at least one; leave tokens out to "
                             "serve the default wif token)"));
}

TEST_F(ConfigLoader, RejectsATokenWithoutSource) {
  EXPECT_THAT(
      errors_loading("tokens:\n  wif:\n    response: full\n"),
      ElementsAre(at(2, 3) + "tokens.wif: has no source (expected one such as source: {type: file, "
                             "path: ...})"));
}

TEST_F(ConfigLoader, RejectsASourceWithoutType) {
  EXPECT_THAT(
      errors_loading("tokens:\n  wif:\n    source:\n      path: /run/token\n"),
      ElementsAre(at(4, 7) + "tokens.wif.source: has no type (expected a type such as file or "
                             "exec)"));
}

TEST_F(ConfigLoader, RejectsASourceThatIsNotAMapOrHasNestedMaps) {
  EXPECT_THAT(
      errors_loading(R"(tokens:
  a:
    source: file
  b:
    source: {type: [file], env: {A: b}, command: [mint, {x: y}]}
)"),
      ElementsAre(at(3, 13) + "tokens.a.source: got \"file\" (expected a map)",
                  at(5, 20) + "tokens.b.source.type: got a list (expected a source type such as "
                              "file or exec)",
                  at(5, 33) + "tokens.b.source.env: got a map (expected a value or a list of "
                              "values)",
                  at(5, 57) + "tokens.b.source.command[1]: got a map (expected a value)"));
}

TEST_F(ConfigLoader, RejectsAnEmptyAllowRule) {
  EXPECT_THAT(
      errors_loading(R"(tokens:
  wif:
    source: {type: file, path: /run/token}
    allow:
      - {}
      - {cn: ""}
)"),
      ElementsAre(at(5, 9) +
                      "tokens.wif.allow[0]: got an empty rule (expected at least "
                      "one of: " +
                      kRuleKeys + ")",
                  at(6, 14) + "tokens.wif.allow[1].cn: got \"\" (expected a value to match)"));
}

TEST_F(ConfigLoader, RejectsAllowThatIsNotAList) {
  EXPECT_THAT(
      errors_loading(R"(tokens:
  wif:
    source: {type: file, path: /run/token}
    allow: {cn: ci-runner}
)"),
      ElementsAre(at(4, 12) + "tokens.wif.allow: got a map (expected a list of rules such as [{cn: "
                              "ci-runner}])"));
}

TEST_F(ConfigLoader, RejectsAnUnknownResponseShape) {
  EXPECT_THAT(errors_loading(R"(tokens:
  wif:
    source: {type: file, path: /run/token}
    response: short
)"),
              ElementsAre(at(4, 15) +
                          "tokens.wif.response: got \"short\" (expected one of: full, minimal)"));
}

TEST_F(ConfigLoader, RejectsARequestWaitOverThirtySeconds) {
  EXPECT_THAT(errors_loading(R"(tokens:
  wif:
    source: {type: file, path: /run/token}
    request_wait: 1m
  build:
    source: {type: file, path: /run/build}
    request_wait: soon
)"),
              ElementsAre(at(4, 19) + "tokens.wif.request_wait: got \"1m\" (expected a duration "
                                      "from 0s (never wait) to 30s, such as 5s)",
                          at(7, 19) + "tokens.build.request_wait: got \"soon\" (expected a "
                                      "duration from 0s (never wait) to 30s, such as 5s)"));
}

TEST_F(ConfigLoader, AcceptsARequestWaitOfZeroToAnswerAtOnce) {
  const Config config = load_yaml(R"(tokens:
  wif:
    source: {type: file, path: /run/token}
    request_wait: 0s
)");
  ASSERT_EQ(config.tokens.size(), 1u);
  EXPECT_EQ(config.tokens[0].request_wait_ms, 0u);
}

TEST_F(ConfigLoader, RejectsTlsDurationsOutOfRange) {
  EXPECT_THAT(errors_loading("tls:\n  session_lifetime: 2d\n  reload_delay: 2m\n"),
              ElementsAre(at(2, 21) + "tls.session_lifetime: got \"2d\" (expected a duration "
                                      "above zero: a whole number followed by ms, s, m or h, "
                                      "such as 10s)",
                          at(3, 17) + "tls.reload_delay: got \"2m\" (expected a duration from 0s "
                                      "to 1m)"));
  EXPECT_THAT(errors_loading("tls:\n  session_lifetime: 25h\n"),
              ElementsAre(at(2, 21) + "tls.session_lifetime: got \"25h\" (expected a duration "
                                      "from 1s to 24h)"));
}

TEST_F(ConfigLoader, RejectsAnEmptyNameInAList) {
  EXPECT_THAT(errors_loading("tls:\n  groups: \"X25519::P-256\"\n  tls12_ciphers: {a: b}\n"),
              ElementsAre(at(2, 11) + "tls.groups: got an empty name (expected names such as "
                                      "X25519 joined by :)",
                          at(3, 18) + "tls.tls12_ciphers: got a map (expected a list of names, or "
                                      "one string of names joined by :)"));
}

// Hardening (issue #7).

TEST_F(ConfigLoader, ReadsWhoMayReadTheKey) {
  EXPECT_EQ(load_yaml("").tls.key_readable_by, TlsConfig::KeyReaders::kOwner);
  EXPECT_EQ(load_yaml("tls: {key_readable_by: group}\n").tls.key_readable_by,
            TlsConfig::KeyReaders::kGroup);
  EXPECT_EQ(load_yaml("tls: {key_readable_by: anyone}\n").tls.key_readable_by,
            TlsConfig::KeyReaders::kAnyone);
  EXPECT_THAT(errors_loading("tls: {key_readable_by: world}\n"),
              ElementsAre(at(1, 24) + "tls.key_readable_by: got \"world\" (expected one of: "
                                      "owner, group, anyone)"));
}

TEST_F(ConfigLoader, ResolvesUserAndGroupNamesToIds) {
  // root exists on every system, with uid and gid 0.
  const Config config = load_yaml("user: root\ngroup: root\n");
  EXPECT_EQ(config.run_as.user, "root");
  EXPECT_EQ(config.run_as.group, "root");
  EXPECT_EQ(config.run_as.uid, 0u);
  EXPECT_EQ(config.run_as.gid, 0u);
  EXPECT_EQ(config.run_as.mark.line, 1);
}

TEST_F(ConfigLoader, TakesTheUsersPrimaryGroupWhenNoGroupIsGiven) {
  const Config config = load_yaml("user: root\n");
  EXPECT_EQ(config.run_as.group, "");
  EXPECT_EQ(config.run_as.gid, 0u);
}

TEST_F(ConfigLoader, StaysWhoItIsWithoutUser) { EXPECT_EQ(load_yaml("").run_as.user, ""); }

TEST_F(ConfigLoader, RejectsAUserOrGroupTheSystemDoesNotKnow) {
  EXPECT_THAT(errors_loading("user: no-such-user-wif\n"),
              ElementsAre(at(1, 7) + "user: got \"no-such-user-wif\" (expected the name of a "
                                     "user on this system)"));
  EXPECT_THAT(errors_loading("user: root\ngroup: no-such-group-wif\n"),
              ElementsAre(at(2, 8) + "group: got \"no-such-group-wif\" (expected the name of a "
                                     "group on this system)"));
}

TEST_F(ConfigLoader, RejectsAGroupWithoutAUser) {
  EXPECT_THAT(errors_loading("group: root\n"),
              ElementsAre(at(1, 8) + "group: is set without user (expected user as well, or "
                                     "neither)"));
}

TEST_F(ConfigLoader, WarnsAboutAConfigFileOthersMayWrite) {
  EXPECT_THAT(load_yaml("").warnings, IsEmpty());

  write_file(path(), "");
  std::filesystem::permissions(path(), std::filesystem::perms::others_write,
                               std::filesystem::perm_options::add);
  const Config config = load(path(), "/nonexistent-working-dir", env());
  EXPECT_THAT(config.warnings,
              ElementsAre("config file " + path() +
                          " is writable by others (mode 0646): whoever can write it decides who "
                          "gets tokens"));
}

}  // namespace
}  // namespace wif::config
