// Structured logging: one event per line, fixed keys first.
//
//   time=2026-12-03T21:40:01.123Z level=info component=net event=listening addr=0.0.0.0:7001
//
// or the same as one JSON object per line. Any thread may log; each line is
// written with one write(2) so lines from workers never interleave. Values
// are escaped and capped (log::untrusted) because paths, subjects and SNI
// come from outside. Secrets never reach here: token::Secret has no
// formatting, so a caller can only pass its fingerprint() or size().
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace wif::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError };
enum class Format { kText, kJson };

// Parses "trace" .. "error"; false when unknown.
bool parse_level(std::string_view text, Level* level);
std::string_view level_name(Level level);

// Process-wide settings; call before workers start.
void configure(Level level, Format format);
// Where lines go (default: 2, standard error). For tests.
void set_fd(int fd);

bool enabled(Level level);

// The access line of each request (`log.access`, on by default): written at
// info, so it needs that level too.
void set_access(bool on);
bool access_enabled();

// One key=value pair. Numbers are rendered without quotes in JSON.
struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  Field(std::string_view k, int64_t v) : key(k), value(std::to_string(v)), number(true) {}
  Field(std::string_view k, uint64_t v) : key(k), value(std::to_string(v)), number(true) {}
  Field(std::string_view k, int v) : key(k), value(std::to_string(v)), number(true) {}
  Field(std::string_view k, unsigned v) : key(k), value(std::to_string(v)), number(true) {}
  Field(std::string_view k, double v) : key(k), value(std::to_string(v)), number(true) {}
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false"), number(true) {}

  std::string_view key;
  std::string value;
  bool number = false;
};

void emit(Level level, std::string_view component, std::string_view event,
          std::initializer_list<Field> fields);

inline void error(std::string_view component, std::string_view event,
                  std::initializer_list<Field> fields = {}) {
  emit(Level::kError, component, event, fields);
}
inline void warn(std::string_view component, std::string_view event,
                 std::initializer_list<Field> fields = {}) {
  emit(Level::kWarn, component, event, fields);
}
inline void info(std::string_view component, std::string_view event,
                 std::initializer_list<Field> fields = {}) {
  emit(Level::kInfo, component, event, fields);
}
inline void debug(std::string_view component, std::string_view event,
                  std::initializer_list<Field> fields = {}) {
  if (enabled(Level::kDebug)) {
    emit(Level::kDebug, component, event, fields);
  }
}

// Lets at most `per_second` lines through in each second of the monotonic
// clock, for lines that a flood of peers could repeat (accept failures).
// One static instance per call site, shared by every thread; the first line
// let through after some were held back reports how many in `suppressed`.
class RateLimit {
 public:
  explicit constexpr RateLimit(uint32_t per_second) : per_second_(per_second) {}

  // True when the caller may log now. *suppressed is set to the number of
  // lines refused since the last one allowed.
  bool allow(uint64_t* suppressed);

  // For tests: the same decision at a given second.
  bool allow_at(int64_t second, uint64_t* suppressed);

 private:
  const uint32_t per_second_;
  std::atomic<int64_t> window_{-1};
  std::atomic<uint32_t> used_{0};
  std::atomic<uint64_t> refused_{0};
};

// Caps an untrusted string at max_bytes and replaces control and non-ASCII
// bytes with '?', so it cannot forge a line or a field.
std::string untrusted(std::string_view text, size_t max_bytes = 256);

}  // namespace wif::log
