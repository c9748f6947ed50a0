// Environment variable references in config values: ${NAME} and
// ${NAME:-default}, as in a POSIX shell and in Docker Compose files.
//
// Used by the loader on every string value before it is interpreted, so
// `workers: ${WIF_WORKERS:-0}` works as well as paths. Pure function of its
// arguments; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "src/config/config.h"

namespace wif::config {

struct Expansion {
  std::string value;               // the text with every reference replaced
  std::vector<std::string> unset;  // names used without a default and not set
  bool malformed = false;          // a "${" that does not start a reference
};

// ${NAME} becomes the variable's value (empty when set but empty);
// ${NAME:-default} becomes the default when the variable is unset or empty;
// the default is plain text up to the first "}", without references.
// NAME is a letter or "_" followed by letters, digits and "_". "$$" stands for
// a literal "$"; a "$" before anything else is kept as it is.
Expansion expand_variables(std::string_view text, const Environment& env);

}  // namespace wif::config
