// wif-tokend: hands short-lived tokens to clients that prove who they are
// with a certificate. This file parses the command line and nothing else.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "src/daemon/commands.h"
#include "src/version.h"

namespace {

constexpr std::string_view kUsage =
    "usage: wif-tokend [serve] [--config FILE] [--allow-exec]\n"
    "       wif-tokend check [--config FILE] [--allow-exec]\n"
    "       wif-tokend --version\n"
    "\n"
    "  serve         serve tokens over mutual TLS (the default)\n"
    "  check         validate the config, files and certificates, then exit\n"
    "  --config FILE the YAML config (default: $WIF_TOKEND_CONFIG, else built-in\n"
    "                defaults matching the original Flask app)\n"
    "  --allow-exec  allow exec token sources (or WIF_TOKEND_ALLOW_EXEC=1)\n"
    "\n"
    "Signals: SIGHUP reloads certificates, CRLs and config; SIGTERM/SIGINT drain and stop.\n";

int usage_error(std::string_view message) {
  std::fprintf(stderr, "wif-tokend: %.*s\n%.*s", static_cast<int>(message.size()), message.data(),
               static_cast<int>(kUsage.size()), kUsage.data());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  wif::Options options;
  std::string_view command = "serve";
  bool command_seen = false;

  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--version") {
      std::printf("wif-tokend %s\n", WIF_TOKEND_VERSION);
      return 0;
    }
    if (arg == "-h" || arg == "--help") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      return 0;
    }
    if (arg == "--config" || arg == "-c") {
      if (i + 1 >= argc) {
        return usage_error("--config needs a file name");
      }
      options.config_path = argv[++i];
    } else if (arg.starts_with("--config=")) {
      options.config_path = std::string(arg.substr(9));
    } else if (arg == "--allow-exec") {
      options.allow_exec = true;
    } else if (!command_seen && (arg == "serve" || arg == "check")) {
      command = arg;
      command_seen = true;
    } else {
      return usage_error("unknown argument \"" + std::string(arg) + "\"");
    }
  }

  if (options.config_path.empty()) {
    if (const char* env = std::getenv("WIF_TOKEND_CONFIG"); env != nullptr && *env != '\0') {
      options.config_path = env;
    }
  }
  if (const char* env = std::getenv("WIF_TOKEND_ALLOW_EXEC"); env != nullptr) {
    options.allow_exec = options.allow_exec || std::strcmp(env, "1") == 0;
  }
  return command == "check" ? wif::check(options) : wif::serve(options);
}
