// The two commands of the executable: serve (the default) and check.
// Both run on the main thread; main.cc only parses arguments.
#pragma once

#include <string>

namespace wif {

struct Options {
  std::string config_path;  // --config, else WIF_TOKEND_CONFIG, else none
  bool allow_exec = false;  // --allow-exec or WIF_TOKEND_ALLOW_EXEC=1
};

// Exit codes: 0 success, 1 runtime failure, 2 invalid configuration or files.
int serve(const Options& options);
int check(const Options& options);

}  // namespace wif
