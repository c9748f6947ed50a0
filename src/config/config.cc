#include "src/config/config.h"

#include <cstdlib>
#include <utility>

namespace wif::config {
namespace {

std::string location(const Mark& mark) {
  if (mark.line > 0) {
    return mark.file + ":" + std::to_string(mark.line) + ":" + std::to_string(mark.column);
  }
  if (!mark.file.empty()) {
    return mark.file;
  }
  return "(built-in default)";
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string joined;
  for (const std::string& line : lines) {
    if (!joined.empty()) {
      joined += '\n';
    }
    joined += line;
  }
  return joined;
}

}  // namespace

void Diagnostics::error(const Mark& mark, std::string_view field, std::string_view message) {
  std::string text = location(mark);
  text += ": ";
  if (!field.empty()) {
    text += field;
    text += ": ";
  }
  text += message;
  messages_.push_back(std::move(text));
}

ConfigError::ConfigError(std::vector<std::string> messages)
    : std::runtime_error(join_lines(messages)), messages_(std::move(messages)) {}

Environment process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    // getenv is safe here: the config is loaded on the main thread, and
    // nothing in the daemon calls setenv.
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  };
}

}  // namespace wif::config
