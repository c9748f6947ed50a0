#include "src/net/tls_reloader.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>

#include "src/log/log.h"
#include "src/tls/certificate_summary.h"

namespace wif::net {
namespace {

using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

// Files larger than this are not certificates, keys or CRLs a daemon loads;
// they are hashed only up to here (build() then says what is wrong).
constexpr size_t kMaxHashedBytes = 16 * 1024 * 1024;

// Feeds the file's bytes to the digest; false when it cannot be read. The
// buffer may hold key material or the passphrase, so it is wiped.
bool hash_file(EVP_MD_CTX* md, const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    return false;
  }
  char buffer[16 * 1024];
  size_t total = 0;
  bool ok = true;
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      ok = n == 0;
      break;
    }
    total += static_cast<size_t>(n);
    if (EVP_DigestUpdate(md, buffer, static_cast<size_t>(n)) != 1 || total > kMaxHashedBytes) {
      break;
    }
  }
  OPENSSL_cleanse(buffer, sizeof buffer);
  ::close(fd);
  return ok;
}

}  // namespace

std::string_view reload_trigger_name(ReloadTrigger trigger) {
  switch (trigger) {
    case ReloadTrigger::kSignal:
      return "signal";
    case ReloadTrigger::kFileChange:
      return "file_change";
  }
  return "signal";
}

std::string_view reload_result_name(ReloadResult result) {
  switch (result) {
    case ReloadResult::kApplied:
      return "applied";
    case ReloadResult::kUnchanged:
      return "unchanged";
    case ReloadResult::kWaiting:
      return "waiting";
    case ReloadResult::kRejected:
      return "rejected";
  }
  return "rejected";
}

void ReloadCounts::add(ReloadTrigger trigger, ReloadResult result) {
  counts_[static_cast<size_t>(trigger)][static_cast<size_t>(result)].fetch_add(
      1, std::memory_order_relaxed);
}

uint64_t ReloadCounts::get(ReloadTrigger trigger, ReloadResult result) const {
  return counts_[static_cast<size_t>(trigger)][static_cast<size_t>(result)].load(
      std::memory_order_relaxed);
}

TlsReloader::TlsReloader(ReloaderOptions options, Apply apply, Report report)
    : options_(std::move(options)), apply_(std::move(apply)), report_(std::move(report)) {}

TlsReloader::~TlsReloader() {
  // Only on_closed() deletes: the timers live inside this object.
  assert(closing_ && open_handles_ == 0);
}

TlsReloader* TlsReloader::open(uv_loop_t* loop, ReloaderOptions options, Apply apply,
                               Report report) {
  auto* reloader = new TlsReloader(std::move(options), std::move(apply), std::move(report));
  reloader->loop_ = loop;
  for (uv_timer_t* timer : {&reloader->settle_timer_, &reloader->poll_timer_}) {
    uv_timer_init(loop, timer);  // cannot fail on Linux
    timer->data = reloader;
    ++reloader->open_handles_;
  }
  reloader->applied_ = reloader->fingerprint();
  if (!reloader->options_.watch) {
    return reloader;
  }

  std::string error;
  reloader->watcher_ = watch::DirectoryWatcher::open(
      loop, reloader->files(), [reloader] { reloader->changed(); }, error);
  if (reloader->watcher_ == nullptr) {
    log::warn("tls", "tls_watch_unavailable",
              {{"error", error},
               {"poll_interval_ms", static_cast<uint64_t>(reloader->options_.poll_interval_ms)}});
  } else {
    log::info(
        "tls", "tls_watch",
        {{"directories", static_cast<uint64_t>(reloader->watcher_->watched_directories().size())},
         {"delay_ms", static_cast<uint64_t>(reloader->options_.delay_ms)}});
  }
  uv_timer_start(&reloader->poll_timer_, on_poll, reloader->options_.poll_interval_ms,
                 reloader->options_.poll_interval_ms);
  return reloader;
}

void TlsReloader::close() {
  if (closing_) {
    return;
  }
  closing_ = true;
  if (watcher_ != nullptr) {
    watcher_->close();
    watcher_ = nullptr;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&settle_timer_), on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_timer_), on_closed);
}

void TlsReloader::on_closed(uv_handle_t* handle) {
  auto* self = static_cast<TlsReloader*>(handle->data);
  if (--self->open_handles_ == 0) {
    delete self;
  }
}

std::vector<std::string> TlsReloader::watched_directories() const {
  return watcher_ != nullptr ? watcher_->watched_directories() : std::vector<std::string>{};
}

std::vector<std::string> TlsReloader::files() const {
  const tls::ContextOptions& c = options_.context;
  std::vector<std::string> paths = {c.cert_file, c.key_file, c.client_ca_file};
  for (const std::string* optional : {&c.key_passphrase_file, &c.client_intermediates_file}) {
    if (!optional->empty()) {
      paths.push_back(*optional);
    }
  }
  paths.insert(paths.end(), c.crl_files.begin(), c.crl_files.end());
  return paths;
}

std::string TlsReloader::fingerprint() const {
  MdCtxPtr md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) {
    return "";  // never equal to a real digest: every event rebuilds
  }
  for (const std::string& path : files()) {
    // Each file's name and whether it could be read go in too, so moving
    // bytes from one file to another, or losing a file, changes the digest.
    const bool readable = hash_file(md.get(), path);
    const std::string separator = "\n" + path + (readable ? "\n" : "\n(unreadable)\n");
    EVP_DigestUpdate(md.get(), separator.data(), separator.size());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(md.get(), digest, &len) != 1) {
    return "";
  }
  return std::string(reinterpret_cast<const char*>(digest), len);
}

void TlsReloader::changed() {
  if (closing_) {
    return;
  }
  // Every event pushes the attempt back: a writer replacing several files
  // one after the other is done once they have been quiet for delay_ms.
  uv_timer_start(&settle_timer_, on_settled, options_.delay_ms, 0);
}

void TlsReloader::on_settled(uv_timer_t* timer) {
  static_cast<TlsReloader*>(timer->data)->attempt(ReloadTrigger::kFileChange);
}

void TlsReloader::on_poll(uv_timer_t* timer) {
  auto* self = static_cast<TlsReloader*>(timer->data);
  // A missed event (or no inotify at all) is caught here; an unchanged set
  // costs one read of each file.
  self->changed();
}

void TlsReloader::reload_now() {
  if (closing_) {
    return;
  }
  uv_timer_stop(&settle_timer_);
  attempt(ReloadTrigger::kSignal);
}

void TlsReloader::attempt(ReloadTrigger trigger) {
  const std::string digest = fingerprint();
  const bool by_files = trigger == ReloadTrigger::kFileChange;
  if (by_files && !digest.empty() && (digest == applied_ || digest == rejected_)) {
    if (digest == applied_) {
      waiting_since_ms_.reset();  // a half-replaced pair was put back
    }
    log::debug("tls", "reload_unchanged", {{"trigger", reload_trigger_name(trigger)}});
    finish(trigger, ReloadResult::kUnchanged);
    return;
  }

  try {
    std::shared_ptr<const tls::ServerContext> context = tls::ServerContext::build(options_.context);
    applied_ = digest;
    rejected_.clear();
    waiting_since_ms_.reset();
    // Logged once the context serves, so whoever reads the line (an
    // operator, a test) knows that the next request already meets it.
    const std::shared_ptr<const tls::ServerContext> applied = context;
    apply_(std::move(context));
    const tls::CertificateSummary& cert = applied->server_certificate();
    log::info("tls", "reload_applied",
              {{"trigger", reload_trigger_name(trigger)},
               {"generation", applied->generation()},
               {"cert_subject", log::untrusted(cert.subject)},
               {"cert_not_after", tls::format_utc(cert.not_after_unix)},
               {"client_anchors", static_cast<uint64_t>(applied->anchors().size())},
               {"crls", static_cast<uint64_t>(applied->crls().size())}});
    finish(trigger, ReloadResult::kApplied);
  } catch (const tls::ContextError& e) {
    const uint64_t now = uv_now(loop_);
    if (by_files && e.kind() == tls::ContextError::Kind::kKeyMismatch) {
      if (!waiting_since_ms_) {
        waiting_since_ms_ = now;
      }
      const uint64_t waited = now - *waiting_since_ms_;
      if (waited < options_.pair_grace_ms) {
        log::info("tls", "reload_waiting",
                  {{"reason", log::untrusted(e.what())},
                   {"grace_ms", static_cast<uint64_t>(options_.pair_grace_ms - waited)}});
        // Looked at again when the other half lands, or when the grace is
        // over, whichever comes first.
        uv_timer_start(&settle_timer_, on_settled, options_.pair_grace_ms - waited, 0);
        finish(trigger, ReloadResult::kWaiting);
        return;
      }
    }
    waiting_since_ms_.reset();
    rejected_ = digest;
    log::error("tls", "reload_rejected",
               {{"trigger", reload_trigger_name(trigger)}, {"reason", log::untrusted(e.what())}});
    finish(trigger, ReloadResult::kRejected);
  }
}

void TlsReloader::finish(ReloadTrigger trigger, ReloadResult result) {
  counts_.add(trigger, result);
  if (report_) {
    report_(trigger, result);
  }
}

}  // namespace wif::net
