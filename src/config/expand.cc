#include "src/config/expand.h"

#include <algorithm>

namespace wif::config {
namespace {

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }

bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

}  // namespace

Expansion expand_variables(std::string_view text, const Environment& env) {
  Expansion out;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c != '$' || i + 1 == text.size() || (text[i + 1] != '$' && text[i + 1] != '{')) {
      out.value += c;
      ++i;
      continue;
    }
    if (text[i + 1] == '$') {
      out.value += '$';
      i += 2;
      continue;
    }

    // A reference: "${", a name, then "}" or ":-default}".
    size_t end = i + 2;
    if (end == text.size() || !is_name_start(text[end])) {
      out.malformed = true;
      return out;
    }
    while (end < text.size() && is_name_char(text[end])) {
      ++end;
    }
    const std::string_view name = text.substr(i + 2, end - (i + 2));
    const size_t close = text.find('}', end);
    if (close == std::string_view::npos) {
      out.malformed = true;
      return out;
    }
    const std::string_view rest = text.substr(end, close - end);
    // The default is plain text: "${A:-${B}}" would end at the first "}".
    if (!rest.empty() && (rest.substr(0, 2) != ":-" || rest.find("${") != std::string_view::npos)) {
      out.malformed = true;
      return out;
    }

    const std::optional<std::string> value = env(name);
    if (!rest.empty()) {
      out.value += (value && !value->empty()) ? *value : std::string(rest.substr(2));
    } else if (value) {
      out.value += *value;
    } else if (std::find(out.unset.begin(), out.unset.end(), name) == out.unset.end()) {
      out.unset.emplace_back(name);
    }
    i = close + 1;
  }
  return out;
}

}  // namespace wif::config
