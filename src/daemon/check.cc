// `wif-tokend check`: the same loading and validation as serve, then a
// report of what would run, on standard output.
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>

#include "src/daemon/commands.h"
#include "src/daemon/load.h"
#include "src/daemon/tls_report.h"

namespace wif {

int check(const Options& options) {
  std::optional<daemon::Loaded> loaded = daemon::load_all(options);
  if (!loaded) {
    std::fprintf(stderr, "wif-tokend: check failed\n");
    return 2;
  }
  const config::Config& cfg = loaded->config;
  std::printf("config: %s\n", cfg.file.empty() ? "(built-in defaults)" : cfg.file.c_str());
  std::printf("listen: %s, workers: %u, metrics: %s\n", cfg.listen.c_str(), cfg.workers,
              cfg.metrics.listen.empty() ? "off" : cfg.metrics.listen.c_str());
  if (!cfg.run_as.user.empty()) {
    std::printf("runs as: %s (uid %u, gid %u) once its sockets are bound\n",
                cfg.run_as.user.c_str(), cfg.run_as.uid, cfg.run_as.gid);
  }

  int warnings = daemon::print_tls_report(*loaded->tls, std::time(nullptr), stdout);
  for (const std::string& warning : cfg.warnings) {
    std::printf("warning: %s\n", warning.c_str());
    ++warnings;
  }
  int source_warnings = 0;
  for (size_t i = 0; i < cfg.tokens.size(); ++i) {
    std::printf("token %s: %s, %s\n", cfg.tokens[i].name.c_str(),
                loaded->sources[i]->describe().c_str(),
                loaded->policies[i].describe("allow rule(s)").c_str());
    for (const std::string& warning : loaded->sources[i]->preflight()) {
      std::printf("  warning: %s\n", warning.c_str());
      ++source_warnings;
    }
  }
  std::printf("check passed%s\n", warnings + source_warnings != 0 ? " with warnings" : "");
  return 0;
}

}  // namespace wif
