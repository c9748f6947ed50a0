#include "src/log/log.h"

#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>

namespace wif::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::atomic<Format> g_format{Format::kText};
std::atomic<int> g_fd{2};
std::atomic<bool> g_access{true};

void append_time(std::string& out) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char buf[32];
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
                              utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                              utc.tm_min, utc.tm_sec, ts.tv_nsec / 1'000'000);
  out.append(buf, static_cast<size_t>(n));
}

// A text value needs quotes when it is empty or holds a space, quote, '=' or
// a backslash; inside quotes, quote and backslash are escaped.
void append_text_value(std::string& out, std::string_view v) {
  bool quote = v.empty();
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\') {
      quote = true;
      break;
    }
  }
  if (!quote) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  out.push_back('"');
}

void append_json_string(std::string& out, std::string_view v) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out.append("\\u00");
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

void write_line(const std::string& line) {
  const int fd = g_fd.load(std::memory_order_relaxed);
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;  // Nowhere left to report a logging failure.
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace

bool parse_level(std::string_view text, Level* level) {
  static constexpr std::pair<std::string_view, Level> kLevels[] = {
      {"trace", Level::kTrace}, {"debug", Level::kDebug}, {"info", Level::kInfo},
      {"warn", Level::kWarn},   {"error", Level::kError},
  };
  for (const auto& [name, value] : kLevels) {
    if (name == text) {
      *level = value;
      return true;
    }
  }
  return false;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kTrace:
      return "trace";
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

void configure(Level level, Format format) {
  g_level.store(level, std::memory_order_relaxed);
  g_format.store(format, std::memory_order_relaxed);
}

void set_fd(int fd) { g_fd.store(fd, std::memory_order_relaxed); }

bool enabled(Level level) { return level >= g_level.load(std::memory_order_relaxed); }

void set_access(bool on) { g_access.store(on, std::memory_order_relaxed); }

bool access_enabled() { return g_access.load(std::memory_order_relaxed) && enabled(Level::kInfo); }

void emit(Level level, std::string_view component, std::string_view event,
          std::initializer_list<Field> fields) {
  if (!enabled(level)) {
    return;
  }
  std::string line;
  line.reserve(256);
  if (g_format.load(std::memory_order_relaxed) == Format::kJson) {
    line.append(R"({"time":")");
    append_time(line);
    line.append(R"(","level":")").append(level_name(level));
    line.append(R"(","component":)");
    append_json_string(line, component);
    line.append(R"(,"event":)");
    append_json_string(line, event);
    for (const Field& f : fields) {
      line.push_back(',');
      append_json_string(line, f.key);
      line.push_back(':');
      if (f.number) {
        line.append(f.value);
      } else {
        append_json_string(line, f.value);
      }
    }
    line.append("}\n");
  } else {
    line.append("time=");
    append_time(line);
    line.append(" level=").append(level_name(level));
    line.append(" component=").append(component);
    line.append(" event=").append(event);
    for (const Field& f : fields) {
      line.push_back(' ');
      line.append(f.key);
      line.push_back('=');
      append_text_value(line, f.value);
    }
    line.push_back('\n');
  }
  write_line(line);
}

bool RateLimit::allow(uint64_t* suppressed) {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return allow_at(ts.tv_sec, suppressed);
}

bool RateLimit::allow_at(int64_t second, uint64_t* suppressed) {
  int64_t window = window_.load(std::memory_order_relaxed);
  if (window != second && window_.compare_exchange_strong(window, second)) {
    used_.store(0, std::memory_order_relaxed);  // one thread opens each new second
  }
  if (used_.fetch_add(1, std::memory_order_relaxed) < per_second_) {
    *suppressed = refused_.exchange(0, std::memory_order_relaxed);
    return true;
  }
  refused_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

std::string untrusted(std::string_view text, size_t max_bytes) {
  std::string out;
  const size_t n = text.size() < max_bytes ? text.size() : max_bytes;
  out.reserve(n + 3);
  for (size_t i = 0; i < n; ++i) {
    const auto u = static_cast<unsigned char>(text[i]);
    out.push_back(u < 0x20 || u >= 0x7f ? '?' : text[i]);
  }
  if (text.size() > max_bytes) {
    out.append("...");
  }
  return out;
}

}  // namespace wif::log
