#include "sources/common/spec_reader.h"

#include <charconv>
#include <limits>

namespace wif::sources {
namespace {

template <typename Words>
std::string join(const Words& words, std::string_view last_separator) {
  std::string out;
  size_t i = 0;
  for (std::string_view word : words) {
    if (i > 0) {
      out += (i + 1 == words.size()) ? last_separator : std::string_view(", ");
    }
    out += word;
    ++i;
  }
  return out;
}

// "1048576", "512KiB", "1MiB"; nullopt when malformed or too large.
std::optional<uint64_t> parse_size_bytes(std::string_view text) {
  uint64_t count = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, count);
  if (ptr == text.data() || ec != std::errc()) {
    return std::nullopt;
  }
  const std::string_view suffix(ptr, static_cast<size_t>(end - ptr));
  uint64_t unit = 0;
  if (suffix.empty() || suffix == "B") {
    unit = 1;
  } else if (suffix == "KiB") {
    unit = 1024;
  } else if (suffix == "MiB") {
    unit = 1024 * 1024;
  } else {
    return std::nullopt;
  }
  if (count > std::numeric_limits<uint64_t>::max() / unit) {
    return std::nullopt;
  }
  return count * unit;
}

std::string format_size(uint64_t bytes) {
  if (bytes % (1024 * 1024) == 0) {
    return std::to_string(bytes / (1024 * 1024)) + "MiB";
  }
  if (bytes % 1024 == 0) {
    return std::to_string(bytes / 1024) + "KiB";
  }
  return std::to_string(bytes) + "B";
}

bool valid_dotted_path(std::string_view path) {
  if (path.empty() || path.front() == '.' || path.back() == '.') {
    return false;
  }
  return path.find("..") == std::string_view::npos;
}

}  // namespace

// Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict, a false positive)
// about `"\"" + std::string(value) + "\""`.
std::string in_quotes(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 2);
  out.push_back('"');
  out.append(value);
  out.push_back('"');
  return out;
}

std::string format_duration_ms(int64_t ms) {
  if (ms != 0 && ms % 3'600'000 == 0) {
    return std::to_string(ms / 3'600'000) + "h";
  }
  if (ms != 0 && ms % 60'000 == 0) {
    return std::to_string(ms / 60'000) + "m";
  }
  if (ms % 1'000 == 0) {
    return std::to_string(ms / 1'000) + "s";
  }
  return std::to_string(ms) + "ms";
}

SpecReader::SpecReader(const config::SourceSpec& spec, std::string_view token_name,
                       config::Diagnostics& diag)
    : spec_(spec), token_name_(token_name), diag_(diag) {}

std::string SpecReader::field_path(std::string_view field) const {
  return "tokens." + token_name_ + ".source." + std::string(field);
}

bool SpecReader::has(std::string_view field) const {
  return spec_.fields.find(std::string(field)) != spec_.fields.end();
}

const config::Mark& SpecReader::mark(std::string_view field) const {
  auto it = spec_.fields.find(std::string(field));
  return it == spec_.fields.end() ? spec_.mark : it->second.mark;
}

void SpecReader::error(std::string_view field, std::string_view message) {
  failed_ = true;
  diag_.error(mark(field), field_path(field), message);
}

std::optional<std::string> SpecReader::scalar(std::string_view field, std::string_view expected) {
  auto it = spec_.fields.find(std::string(field));
  if (it == spec_.fields.end()) {
    return std::nullopt;
  }
  const config::SourceSpec::Field& value = it->second;
  if (value.is_list || value.values.size() != 1) {
    error(field, "got a list (expected " + std::string(expected) + ")");
    return std::nullopt;
  }
  return value.values.front();
}

std::optional<std::string> SpecReader::string(std::string_view field, std::string_view expected,
                                              bool required) {
  if (!has(field)) {
    if (required) {
      error(field, "missing (expected " + std::string(expected) + ")");
    }
    return std::nullopt;
  }
  std::optional<std::string> value = scalar(field, expected);
  if (value && required && value->empty()) {
    error(field, "got \"\" (expected " + std::string(expected) + ")");
    return std::nullopt;
  }
  return value;
}

std::optional<std::vector<std::string>> SpecReader::strings(std::string_view field,
                                                            std::string_view expected,
                                                            bool required, bool* is_list) {
  auto it = spec_.fields.find(std::string(field));
  if (it == spec_.fields.end()) {
    if (required) {
      error(field, "missing (expected " + std::string(expected) + ")");
    }
    return std::nullopt;
  }
  if (is_list != nullptr) {
    *is_list = it->second.is_list;
  }
  return it->second.values;
}

std::optional<int64_t> SpecReader::optional_duration_ms(std::string_view field, int64_t min_ms,
                                                        int64_t max_ms) {
  constexpr std::string_view kExpected = "a duration such as \"500ms\", \"30s\", \"5m\" or \"1h\"";
  std::optional<std::string> text = scalar(field, kExpected);
  if (!text) {
    return std::nullopt;
  }
  std::optional<uint64_t> parsed = config::parse_duration_ms(*text);
  if (!parsed) {
    error(field, "got " + in_quotes(*text) + " (expected " + std::string(kExpected) + ")");
    return std::nullopt;
  }
  if (*parsed < static_cast<uint64_t>(min_ms)) {
    error(field,
          "got " + in_quotes(*text) + " (expected at least " + format_duration_ms(min_ms) + ")");
    return std::nullopt;
  }
  if (*parsed > static_cast<uint64_t>(max_ms)) {
    error(field,
          "got " + in_quotes(*text) + " (expected at most " + format_duration_ms(max_ms) + ")");
    return std::nullopt;
  }
  return static_cast<int64_t>(*parsed);
}

int64_t SpecReader::duration_ms(std::string_view field, int64_t default_ms, int64_t min_ms,
                                int64_t max_ms) {
  return optional_duration_ms(field, min_ms, max_ms).value_or(default_ms);
}

uint64_t SpecReader::size_bytes(std::string_view field, uint64_t default_bytes, uint64_t min_bytes,
                                uint64_t max_bytes) {
  constexpr std::string_view kExpected = "a size in bytes, or with KiB or MiB, such as \"1MiB\"";
  std::optional<std::string> text = scalar(field, kExpected);
  if (!text) {
    return default_bytes;
  }
  std::optional<uint64_t> parsed = parse_size_bytes(*text);
  if (!parsed) {
    error(field, "got " + in_quotes(*text) + " (expected " + std::string(kExpected) + ")");
    return default_bytes;
  }
  if (*parsed < min_bytes || *parsed > max_bytes) {
    error(field, "got " + in_quotes(*text) + " (expected " + format_size(min_bytes) + " to " +
                     format_size(max_bytes) + ")");
    return default_bytes;
  }
  return *parsed;
}

std::string SpecReader::choice(std::string_view field,
                               std::initializer_list<std::string_view> choices,
                               std::string_view default_choice) {
  const std::string expected = join(choices, " or ");
  std::optional<std::string> text = scalar(field, expected);
  if (!text) {
    return std::string(default_choice);
  }
  for (std::string_view candidate : choices) {
    if (candidate == *text) {
      return *text;
    }
  }
  error(field, "got " + in_quotes(*text) + " (expected " + expected + ")");
  return std::string(default_choice);
}

std::string SpecReader::raw(std::string_view field) const {
  auto it = spec_.fields.find(std::string(field));
  if (it == spec_.fields.end() || it->second.is_list || it->second.values.size() != 1) {
    return {};
  }
  return it->second.values.front();
}

void SpecReader::reject_unknown(const std::vector<std::string_view>& known) {
  for (const auto& [name, value] : spec_.fields) {
    bool found = false;
    for (std::string_view candidate : known) {
      found = found || candidate == name;
    }
    if (!found) {
      error(name, "unknown field (expected one of: type, " + join(known, ", ") + ")");
    }
  }
}

PayloadOptions read_payload_options(SpecReader& reader) {
  PayloadOptions options;

  const std::string format_expected = "one of: " + std::string(format_names());
  if (std::optional<std::string> format = reader.string("format", format_expected)) {
    if (std::optional<PayloadFormat> parsed = parse_format_name(*format)) {
      options.format = *parsed;
    } else {
      reader.error("format", "got " + in_quotes(*format) + " (expected " + format_expected + ")");
    }
  }

  constexpr std::string_view kFieldExpected = "a dotted field path such as \"data.token\"";
  if (std::optional<std::string> field = reader.string("json_field", kFieldExpected)) {
    if (!valid_dotted_path(*field)) {
      reader.error("json_field",
                   "got " + in_quotes(*field) + " (expected " + std::string(kFieldExpected) + ")");
    } else if (options.format != PayloadFormat::kAuto &&
               options.format != PayloadFormat::kJsonField) {
      reader.error("json_field", "not allowed with format " +
                                     std::string(format_name(options.format)) +
                                     " (expected format auto or json)");
    } else {
      options.json_field = *field;
    }
  }
  if (options.format == PayloadFormat::kJsonField && !reader.has("json_field")) {
    reader.error("format",
                 "got \"json\" without json_field (expected json_field to name the "
                 "token's field)");
  }
  if (std::optional<std::string> field = reader.string("json_expiry_field", kFieldExpected)) {
    if (!valid_dotted_path(*field)) {
      reader.error("json_expiry_field",
                   "got " + in_quotes(*field) + " (expected " + std::string(kFieldExpected) + ")");
    } else if (!reader.has("json_field")) {
      reader.error("json_expiry_field", "set without json_field (expected json_field too)");
    } else {
      options.json_expiry_field = *field;
    }
  }

  // Bounds: a ttl shorter than a second is a typo, and parse_duration_ms has
  // no day unit, so the longest is spelled in hours.
  constexpr int64_t kMaxTtlMs = 720 * 3'600'000LL;  // 30 days
  options.ttl_ms = reader.optional_duration_ms("ttl", 1'000, kMaxTtlMs);
  options.max_ttl_ms = reader.optional_duration_ms("max_ttl", 1'000, kMaxTtlMs);
  options.min_remaining_ms = reader.duration_ms("min_remaining", 30'000, 0, 3'600'000);

  if (options.ttl_ms && options.max_ttl_ms && *options.ttl_ms > *options.max_ttl_ms) {
    reader.error("ttl", "got " + in_quotes(reader.raw("ttl")) + " (expected at most max_ttl " +
                            in_quotes(reader.raw("max_ttl")) + ")");
  }
  // A lifetime no longer than min_remaining would make every read fail.
  for (auto [field, value] :
       {std::pair<std::string_view, std::optional<int64_t>>{"ttl", options.ttl_ms},
        {"max_ttl", options.max_ttl_ms}}) {
    if (value && *value <= options.min_remaining_ms) {
      reader.error(field, "got " + in_quotes(reader.raw(field)) +
                              " (expected more than min_remaining " +
                              in_quotes(format_duration_ms(options.min_remaining_ms)) + ")");
    }
  }
  return options;
}

}  // namespace wif::sources
