#include "sources/common/spec_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wif::sources {
namespace {

using ::testing::ElementsAre;

// A `source:` block as the config loader hands it over; each field sits on
// its own line of tokens.yaml, at column 7.
class SpecReaderTest : public ::testing::Test {
 protected:
  SpecReaderTest() {
    spec_.type = "file";
    spec_.mark = config::Mark{"tokens.yaml", 3, 13};
  }

  void set(const std::string& name, std::string value) {
    config::SourceSpec::Field field;
    field.mark = config::Mark{"tokens.yaml", next_line_++, 7};
    field.values.push_back(std::move(value));
    spec_.fields[name] = std::move(field);
  }

  void set_list(const std::string& name, std::vector<std::string> values) {
    config::SourceSpec::Field field;
    field.mark = config::Mark{"tokens.yaml", next_line_++, 7};
    field.is_list = true;
    field.values = std::move(values);
    spec_.fields[name] = std::move(field);
  }

  config::SourceSpec spec_;
  config::Diagnostics diag_;
  int next_line_ = 4;
};

TEST_F(SpecReaderTest, ReadsAValidDuration) {
  set("ttl", "90s");
  SpecReader reader(spec_, "wif", diag_);
  EXPECT_EQ(reader.duration_ms("ttl", 1, 0, 3'600'000), 90'000);
  EXPECT_EQ(reader.duration_ms("absent", 1'234, 0, 3'600'000), 1'234);
  EXPECT_TRUE(reader.ok());
  EXPECT_TRUE(diag_.ok());
}

TEST_F(SpecReaderTest, ReportsAMalformedDurationWithItsMark) {
  set("poll_interval", "soon");
  SpecReader reader(spec_, "wif", diag_);
  EXPECT_EQ(reader.duration_ms("poll_interval", 30'000, 1'000, 3'600'000), 30'000);
  EXPECT_FALSE(reader.ok());
  EXPECT_THAT(diag_.messages(),
              ElementsAre("tokens.yaml:4:7: tokens.wif.source.poll_interval: got \"soon\" "
                          "(expected a duration such as \"500ms\", \"30s\", \"5m\" or \"1h\")"));
}

TEST_F(SpecReaderTest, ReportsADurationOutOfRange) {
  set("a", "500ms");
  set("b", "2h");
  SpecReader reader(spec_, "wif", diag_);
  reader.duration_ms("a", 0, 1'000, 3'600'000);
  reader.duration_ms("b", 0, 1'000, 3'600'000);
  EXPECT_THAT(
      diag_.messages(),
      ElementsAre("tokens.yaml:4:7: tokens.wif.source.a: got \"500ms\" (expected at least 1s)",
                  "tokens.yaml:5:7: tokens.wif.source.b: got \"2h\" (expected at most 1h)"));
}

TEST_F(SpecReaderTest, RejectsAListWhereOneValueIsExpected) {
  set_list("path", {"a", "b"});
  SpecReader reader(spec_, "wif", diag_);
  EXPECT_EQ(reader.string("path", "the path of the token file"), std::nullopt);
  EXPECT_THAT(diag_.messages(),
              ElementsAre("tokens.yaml:4:7: tokens.wif.source.path: got a list (expected the "
                          "path of the token file)"));
}

TEST_F(SpecReaderTest, ReportsAMissingRequiredFieldAtTheBlock) {
  SpecReader reader(spec_, "wif", diag_);
  EXPECT_EQ(reader.string("path", "the path of the token file", /*required=*/true), std::nullopt);
  EXPECT_THAT(diag_.messages(),
              ElementsAre("tokens.yaml:3:13: tokens.wif.source.path: missing (expected the path "
                          "of the token file)"));
}

TEST_F(SpecReaderTest, ReadsSizesInBytesKibAndMib) {
  set("a", "2MiB");
  set("b", "512KiB");
  set("c", "100");
  set("d", "10KB");
  SpecReader reader(spec_, "wif", diag_);
  EXPECT_EQ(reader.size_bytes("a", 0, 1, 64 << 20), 2u << 20);
  EXPECT_EQ(reader.size_bytes("b", 0, 1, 64 << 20), 512u << 10);
  EXPECT_EQ(reader.size_bytes("c", 0, 1, 64 << 20), 100u);
  EXPECT_EQ(reader.size_bytes("d", 7, 1, 64 << 20), 7u);
  EXPECT_THAT(diag_.messages(),
              ElementsAre("tokens.yaml:7:7: tokens.wif.source.d: got \"10KB\" (expected a size "
                          "in bytes, or with KiB or MiB, such as \"1MiB\")"));
}

TEST_F(SpecReaderTest, ReportsAChoiceOutsideTheAllowedOnes) {
  set("on_missing", "forget");
  SpecReader reader(spec_, "wif", diag_);
  EXPECT_EQ(reader.choice("on_missing", {"keep", "drop"}, "keep"), "keep");
  EXPECT_THAT(diag_.messages(),
              ElementsAre("tokens.yaml:4:7: tokens.wif.source.on_missing: got \"forget\" "
                          "(expected keep or drop)"));
}

TEST_F(SpecReaderTest, ListsTheKnownFieldsForAnUnknownOne) {
  set("pth", "/x");
  SpecReader reader(spec_, "wif", diag_);
  reader.reject_unknown({"path", "settle"});
  EXPECT_THAT(diag_.messages(),
              ElementsAre("tokens.yaml:4:7: tokens.wif.source.pth: unknown field (expected one "
                          "of: type, path, settle)"));
}

TEST_F(SpecReaderTest, ReadsThePayloadFields) {
  set("format", "json");
  set("json_field", "data.token");
  set("json_expiry_field", "data.expires_at");
  set("ttl", "10m");
  set("max_ttl", "1h");
  set("min_remaining", "1m");
  SpecReader reader(spec_, "wif", diag_);
  PayloadOptions options = read_payload_options(reader);
  EXPECT_TRUE(diag_.ok()) << diag_.messages().front();
  EXPECT_EQ(options.format, PayloadFormat::kJsonField);
  EXPECT_EQ(options.json_field, "data.token");
  EXPECT_EQ(options.json_expiry_field, "data.expires_at");
  EXPECT_EQ(options.ttl_ms, 600'000);
  EXPECT_EQ(options.max_ttl_ms, 3'600'000);
  EXPECT_EQ(options.min_remaining_ms, 60'000);
}

TEST_F(SpecReaderTest, PayloadFieldsDefaultToAutoDetectionAndThirtySecondsMargin) {
  SpecReader reader(spec_, "wif", diag_);
  PayloadOptions options = read_payload_options(reader);
  EXPECT_EQ(options.format, PayloadFormat::kAuto);
  EXPECT_EQ(options.ttl_ms, std::nullopt);
  EXPECT_EQ(options.max_ttl_ms, std::nullopt);
  EXPECT_EQ(options.min_remaining_ms, 30'000);
  EXPECT_TRUE(diag_.ok());
}

TEST_F(SpecReaderTest, ReportsPayloadFieldsThatDoNotFitTogetherInOnePass) {
  set("format", "oauth2");           // line 4
  set("json_field", "token");        // line 5
  set("json_expiry_field", "a..b");  // line 6
  set("ttl", "2h");                  // line 7
  set("max_ttl", "20s");             // line 8
  SpecReader reader(spec_, "wif", diag_);
  read_payload_options(reader);
  EXPECT_THAT(
      diag_.messages(),
      ElementsAre("tokens.yaml:5:7: tokens.wif.source.json_field: not allowed with format "
                  "oauth2 (expected format auto or json)",
                  "tokens.yaml:6:7: tokens.wif.source.json_expiry_field: got \"a..b\" (expected "
                  "a dotted field path such as \"data.token\")",
                  "tokens.yaml:7:7: tokens.wif.source.ttl: got \"2h\" (expected at most max_ttl "
                  "\"20s\")",
                  "tokens.yaml:8:7: tokens.wif.source.max_ttl: got \"20s\" (expected more than "
                  "min_remaining \"30s\")"));
}

TEST_F(SpecReaderTest, ReportsAnUnknownFormatAndJsonWithoutAField) {
  set("format", "yaml");
  SpecReader reader(spec_, "wif", diag_);
  read_payload_options(reader);
  EXPECT_THAT(diag_.messages(),
              ElementsAre("tokens.yaml:4:7: tokens.wif.source.format: got \"yaml\" (expected one "
                          "of: auto, text, google_executable, exec_credential, oauth2, "
                          "iam_access_token, json)"));

  config::Diagnostics json_diag;
  spec_.fields.clear();
  set("format", "json");
  SpecReader json_reader(spec_, "wif", json_diag);
  read_payload_options(json_reader);
  EXPECT_THAT(json_diag.messages(),
              ElementsAre("tokens.yaml:5:7: tokens.wif.source.format: got \"json\" without "
                          "json_field (expected json_field to name the token's field)"));
}

TEST(FormatDuration, UsesTheLargestWholeUnit) {
  EXPECT_EQ(format_duration_ms(0), "0s");
  EXPECT_EQ(format_duration_ms(500), "500ms");
  EXPECT_EQ(format_duration_ms(30'000), "30s");
  EXPECT_EQ(format_duration_ms(300'000), "5m");
  EXPECT_EQ(format_duration_ms(7'200'000), "2h");
}

TEST_F(SpecReaderTest, ReadsAListOrOneScalarAsStrings) {
  set_list("command", {"/bin/mint", "--aud", "x"});
  set("pass_env", "HOME");
  SpecReader reader(spec_, "build", diag_);
  bool is_list = false;
  EXPECT_THAT(reader.strings("command", "a command", true, &is_list),
              ::testing::Optional(ElementsAre("/bin/mint", "--aud", "x")));
  EXPECT_TRUE(is_list);
  EXPECT_THAT(reader.strings("pass_env", "names", false, &is_list),
              ::testing::Optional(ElementsAre("HOME")));
  EXPECT_FALSE(is_list);
  EXPECT_EQ(reader.strings("absent", "names"), std::nullopt);
  EXPECT_TRUE(reader.ok());
}

TEST_F(SpecReaderTest, ReportsAMissingRequiredList) {
  SpecReader reader(spec_, "build", diag_);
  EXPECT_EQ(reader.strings("command", "a command such as [/usr/local/bin/mint]", true),
            std::nullopt);
  EXPECT_FALSE(reader.ok());
  EXPECT_THAT(diag_.messages(),
              ElementsAre("tokens.yaml:3:13: tokens.build.source.command: missing (expected a "
                          "command such as [/usr/local/bin/mint])"));
}

}  // namespace
}  // namespace wif::sources
