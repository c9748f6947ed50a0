// TlsReloader: builds a new tls::ServerContext when its files change or on
// SIGHUP, and hands it over only once it loaded whole.
//
// The files are the server certificate and key (and the key's passphrase
// file), the client anchors and intermediates, and the CRLs. Their folders
// are watched (watch::DirectoryWatcher) and re-checked every minute in case
// an event was missed; a change is acted on once the files have been quiet
// for reload_delay, and only when their contents differ from what was last
// applied (a token file written next to them changes nothing). The new set
// is validated by building it (ServerContext::build: key matches the
// certificate, the chain links up, anchors and CRLs load and carry their
// signatures): a set that fails is refused with one log line and the
// context in use keeps serving.
//
// A certificate and key replaced one after the other must never break a
// request, whatever the order and the pause between them. So after a file
// change, a key that does not match its certificate is not an error at
// first: the pair is "waiting" for its other half, which usually comes
// within reload_delay anyway. Only if it still does not match after
// pair_grace_ms is the set refused. SIGHUP asks for the files as they are:
// a mismatch is refused at once.
//
// Handshakes in progress keep the context they started with (each
// connection holds its own reference); apply() decides where the new one
// goes. Control loop only; heap-allocated with its libuv handles (open(),
// close()).
#pragma once

#include <uv.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/tls/server_context.h"
#include "src/watch/directory_watcher.h"

namespace wif::net {

enum class ReloadTrigger { kSignal, kFileChange };
inline constexpr size_t kReloadTriggerCount = 2;
std::string_view reload_trigger_name(ReloadTrigger trigger);  // "signal", "file_change"

enum class ReloadResult {
  kApplied,    // a new context serves new connections
  kUnchanged,  // a file event, but every file holds what was applied
  kWaiting,    // key and certificate are not a pair yet; waiting for the other
  kRejected,   // the set does not load; the old context keeps serving
};
inline constexpr size_t kReloadResultCount = 4;
std::string_view reload_result_name(ReloadResult result);  // "applied", ...

// Reload outcomes by trigger and result, for the metrics layer. Written on
// the control loop, readable from any thread.
class ReloadCounts {
 public:
  void add(ReloadTrigger trigger, ReloadResult result);
  uint64_t get(ReloadTrigger trigger, ReloadResult result) const;

 private:
  std::array<std::array<std::atomic<uint64_t>, kReloadResultCount>, kReloadTriggerCount> counts_{};
};

struct ReloaderOptions {
  tls::ContextOptions context;
  bool watch = true;  // reload_on_change
  uint64_t delay_ms = 1'000;
  uint64_t pair_grace_ms = 30'000;
  uint64_t poll_interval_ms = 60'000;
};

class TlsReloader {
 public:
  // Receives each context built; the old one is still serving when it runs.
  using Apply = std::function<void(std::shared_ptr<const tls::ServerContext>)>;
  // Told every outcome, after the log line and the count.
  using Report = std::function<void(ReloadTrigger, ReloadResult)>;

  // Starts watching (when options.watch) from the files as they are now,
  // taken to be what `current` was built from. Never fails: without
  // inotify the periodic check is all there is, and that is logged.
  static TlsReloader* open(uv_loop_t* loop, ReloaderOptions options, Apply apply, Report report);

  // Builds from the files as they are now (SIGHUP): applied even when
  // nothing changed, since the operator asked; a mismatched pair is
  // refused.
  void reload_now();

  // Stops every watch and timer; the object deletes itself once its handles
  // are closed. No apply or report after this returns.
  void close();

  TlsReloader(const TlsReloader&) = delete;
  TlsReloader& operator=(const TlsReloader&) = delete;

  const ReloadCounts& counts() const { return counts_; }
  // The folders watched now; empty without inotify.
  std::vector<std::string> watched_directories() const;

 private:
  TlsReloader(ReloaderOptions options, Apply apply, Report report);
  ~TlsReloader();

  static void on_settled(uv_timer_t* timer);
  static void on_poll(uv_timer_t* timer);
  static void on_closed(uv_handle_t* handle);

  std::vector<std::string> files() const;
  // A digest of every file's contents ("" for one that cannot be read).
  std::string fingerprint() const;
  void changed();
  void attempt(ReloadTrigger trigger);
  void finish(ReloadTrigger trigger, ReloadResult result);

  const ReloaderOptions options_;
  const Apply apply_;
  const Report report_;
  uv_loop_t* loop_ = nullptr;
  uv_timer_t settle_timer_{};
  uv_timer_t poll_timer_{};
  int open_handles_ = 0;
  bool closing_ = false;
  watch::DirectoryWatcher* watcher_ = nullptr;
  ReloadCounts counts_;

  std::string applied_;                       // fingerprint of the set serving now
  std::string rejected_;                      // of the last set refused, so it is logged once
  std::optional<uint64_t> waiting_since_ms_;  // a mismatched pair, from uv_now
};

}  // namespace wif::net
