// ExecSourceOptions: an exec hook's `source:` block, validated, with the
// command resolved to an executable file and the child's environment built.
//
// Read at config load on the main thread (read_exec_source_options), then
// owned by its ExecSource. The environment may hold values passed through
// from the daemon's own (pass_env), so nothing here is ever logged whole.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sources/common/freshness.h"
#include "sources/common/payload.h"
#include "src/config/config.h"
#include "src/token/token_source.h"

namespace wif::sources {

// The PATH every command gets, and where a command given without a slash is
// looked up (Debian's default for a login shell of root).
inline constexpr std::string_view kHookPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct ExecSourceOptions {
  std::string token_name;
  std::vector<std::string> argv;  // argv[0]: the absolute path of the program
  std::string working_dir;        // the config file's folder
  int64_t timeout_ms = 30'000;
  int64_t reexec_interval_ms = 5 * 60'000;  // when a token has no expiry
  int64_t refresh_ahead_ms = kDefaultRefreshAheadMs;
  std::string output_file;  // "" when unset; else absolute
  PayloadOptions payload;
  // The whole environment of every run but WIF_TOKEND_REASON, which says
  // why that run happens: "NAME=value" strings.
  std::vector<std::string> env;
};

// The exec source's validation: every field of the block, reported into
// `diag` in one pass (the refusal when exec is not allowed included).
// `environ_lookup` reads the daemon's environment for pass_env. nullopt when
// `diag` got an error.
std::optional<ExecSourceOptions> read_exec_source_options(
    const config::SourceSpec& spec, const token::SourceContext& context, config::Diagnostics& diag,
    const config::Environment& environ_lookup);

// Splits a command given as one string on spaces and tabs, without quoting,
// as Google's executable-sourced credentials do.
std::vector<std::string> split_command(std::string_view command);

}  // namespace wif::sources
