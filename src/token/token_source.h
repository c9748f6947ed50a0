// TokenSource: the plugin interface every token source implements, and the
// registry that builds sources from their config by type name.
//
// A source produces one token and keeps it fresh. It runs entirely on the
// control loop (the main thread's uv loop): it owns its timers, watches and
// child processes, and hands each good value to `publish`. It never sees
// connections, HTTP or TLS. Adding a source type is a folder under sources/
// and one line in sources/register_all.cc.
#pragma once

#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/config/config.h"
#include "src/token/clock.h"
#include "src/token/token.h"

namespace wif::token {

// What a source tells the store, always on the control loop.
class SourceSink {
 public:
  virtual ~SourceSink() = default;
  // A new good value. Replaces the cached one.
  virtual void publish(std::shared_ptr<Token> token) = 0;
  // An attempt failed; the cached value (if any) stays. `reason` is for logs
  // and never holds token bytes or hook output.
  virtual void failed(std::string_view reason, int64_t next_attempt_ms) = 0;
  // The value must no longer be served (file deleted with on_missing: drop).
  virtual void withdraw(std::string_view reason) = 0;
};

class TokenSource {
 public:
  virtual ~TokenSource() = default;

  // Starts watching/refreshing on `loop`; the first attempt happens from
  // the loop, never inside start(). Returns 0 or a negative libuv error.
  virtual int start(uv_loop_t* loop, SourceSink& sink) = 0;
  // Closes every handle and stops child processes; `done` runs on the loop
  // once all handles are closed.
  virtual void stop(std::function<void()> done) = 0;
  // For logs: "file /opt/wif-token-api/wif_token.txt", "exec /usr/bin/mint".
  virtual std::string describe() const = 0;
  // For `wif-tokend check`: what serving would run into at once, such as a
  // token file that does not exist yet, as warnings (serving would still
  // start). Looks without reading the token; empty when nothing is known.
  virtual std::vector<std::string> preflight() const { return {}; }
};

// What a factory gets besides its own config block.
struct SourceContext {
  std::string token_name;
  std::string base_dir;  // relative paths resolve against it
  const Clock* clock = nullptr;
  bool allow_exec = false;  // --allow-exec or WIF_TOKEND_ALLOW_EXEC=1
};

// Validates spec (reporting each problem with its mark into diag) and builds
// the source. Returns null when diag got an error.
using SourceFactory = std::function<std::unique_ptr<TokenSource>(
    const config::SourceSpec& spec, const SourceContext& context, config::Diagnostics& diag)>;

class SourceRegistry {
 public:
  void add(std::string type, SourceFactory factory);
  // Reports an unknown type (naming the known ones) into diag.
  std::unique_ptr<TokenSource> create(const config::SourceSpec& spec, const SourceContext& context,
                                      config::Diagnostics& diag) const;

 private:
  std::map<std::string, SourceFactory, std::less<>> factories_;
};

}  // namespace wif::token
