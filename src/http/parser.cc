#include "src/http/parser.h"

#include <llhttp.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>
#include <limits>

namespace wif::http {
namespace {

Method to_method(uint8_t method) {
  switch (method) {
    case HTTP_GET:
      return Method::kGet;
    case HTTP_HEAD:
      return Method::kHead;
    case HTTP_POST:
      return Method::kPost;
    case HTTP_PUT:
      return Method::kPut;
    case HTTP_DELETE:
      return Method::kDelete;
    case HTTP_PATCH:
      return Method::kPatch;
    case HTTP_OPTIONS:
      return Method::kOptions;
    case HTTP_TRACE:
      return Method::kTrace;
    case HTTP_CONNECT:
      return Method::kConnect;
    default:
      return Method::kOther;
  }
}

size_t saturating_add(size_t a, size_t b) {
  return b > std::numeric_limits<size_t>::max() - a ? std::numeric_limits<size_t>::max() : a + b;
}

// Checks the raw bytes of a header section for what llhttp 8.1 accepts even
// in strict mode, or in the loose mode the build compiles it in. llhttp stays
// the parser; this only refuses, and only looks at bytes llhttp consumed
// before the end of the header block. State carries over between pieces.
class HeaderScan {
 public:
  // Returns nullptr, or a static reason for a 400.
  const char* check(const char* data, size_t len) {
    for (size_t i = 0; i < len; ++i) {
      if (const char* reason = step(data[i])) {
        return reason;
      }
    }
    return nullptr;
  }

 private:
  const char* step(char c) {
    if (c == '\0') {
      return "NUL byte in the header section";
    }
    if (c == '\n') {
      // RFC 9112 section 2.2 lets a recipient accept a bare LF; llhttp does
      // at the end of the block. We do not, so that every line ends alike.
      if (!saw_cr_) {
        return "bare LF in the header section";
      }
      if (!request_line_done_ && line_has_content_) {
        request_line_done_ = true;
      }
      saw_cr_ = false;
      line_start_ = true;
      line_has_content_ = false;
      in_field_name_ = false;
      return nullptr;
    }
    saw_cr_ = c == '\r';
    if (saw_cr_) {
      return nullptr;
    }

    const bool blank = c == ' ' || c == '\t';
    if (request_line_done_) {
      // RFC 9112 section 5.2: obs-fold is rejected (400) outside message/http;
      // section 2.2: whitespace before the first field line is too.
      if (line_start_ && blank) {
        return "obsolete line folding in the header section";
      }
      if (line_start_) {
        in_field_name_ = true;
      }
      // RFC 9112 section 5.1: whitespace between field name and colon MUST be
      // rejected with 400.
      if (in_field_name_ && blank) {
        return "whitespace between a field name and its colon";
      }
      if (c == ':') {
        in_field_name_ = false;
      }
    }
    line_start_ = false;
    line_has_content_ = true;
    return nullptr;
  }

  bool saw_cr_ = false;
  bool line_start_ = true;
  bool line_has_content_ = false;
  bool request_line_done_ = false;
  bool in_field_name_ = false;
};

}  // namespace

struct RequestParser::Impl {
  enum class Phase { kHeaders, kBody };
  enum class Pause { kNone, kHeadersComplete, kMessageComplete };

  // Bytes llhttp may see before a limit is crossed.
  size_t budget(const ParserLimits& limits) const {
    if (phase == Phase::kHeaders) {
      return limits.max_header_bytes - header_bytes;
    }
    return saturating_add(limits.max_body_bytes, limits.max_header_bytes) - body_section_bytes;
  }

  // For callbacks: remember why the message is refused; llhttp reports the
  // callback's error code, the status and reason are taken from here.
  int reject(int status, const char* reason) {
    pending_status = status;
    pending_reason = reason;
    return HPE_USER;
  }

  void next_message() {
    phase = Phase::kHeaders;
    header_bytes = 0;
    body_section_bytes = 0;
    body_bytes = 0;
    scan = HeaderScan();
  }

  // The status for an llhttp error: what a callback asked for, 505 for a
  // version llhttp refuses whose major is not 1 (HTTP/3.0; its on_version
  // still ran), and 400 for everything malformed.
  int status_for(llhttp_errno_t err) const {
    if (pending_status != 0) {
      return pending_status;
    }
    const bool other_major = version_len >= 1 && version_text[0] >= '0' && version_text[0] <= '9' &&
                             version_text[0] != '1';
    return err == HPE_INVALID_VERSION && other_major ? 505 : 400;
  }

  // llhttp's reasons are string literals in llhttp.c; a callback's error
  // leaves a stale or null one there, so ours is used instead.
  const char* error_reason() const {
    if (pending_status != 0) {
      return pending_reason;
    }
    return llhttp_get_error_reason(&parser);
  }

  llhttp_t parser;
  Phase phase = Phase::kHeaders;
  Pause pause = Pause::kNone;
  size_t header_bytes = 0;        // this message's bytes up to the end of its header block
  size_t body_section_bytes = 0;  // bytes after the header block: framing, data, trailers
  size_t body_bytes = 0;          // body data announced so far
  HeaderScan scan;
  std::array<char, 4> version_text{};  // "1.1"; only the first bytes matter
  size_t version_len = 0;
  int pending_status = 0;
  const char* pending_reason = nullptr;
};

// The llhttp trampolines. Each recovers the RequestParser from the parser's
// user pointer and calls a member; no exception may cross into llhttp's C
// code, so one that escapes refuses the message with a 500.
struct RequestParser::Callbacks {
  template <typename Fn>
  static int guard(llhttp_t* parser, Fn&& fn) noexcept {
    RequestParser& self = *static_cast<RequestParser*>(parser->data);
    try {
      return fn(self);
    } catch (...) {
      return self.impl_->reject(500, "exception in an llhttp callback");
    }
  }

  static int on_message_begin(llhttp_t* parser) {
    return guard(parser, [](RequestParser& self) { return self.on_message_begin(); });
  }
  static int on_url(llhttp_t* parser, const char* at, size_t len) {
    return guard(parser, [=](RequestParser& self) { return self.on_url(at, len); });
  }
  static int on_version(llhttp_t* parser, const char* at, size_t len) {
    return guard(parser, [=](RequestParser& self) { return self.on_version(at, len); });
  }
  static int on_version_complete(llhttp_t* parser) {
    return guard(parser, [](RequestParser& self) { return self.on_version_complete(); });
  }
  static int on_headers_complete(llhttp_t* parser) {
    return guard(parser, [](RequestParser& self) { return self.on_headers_complete(); });
  }
  static int on_chunk_header(llhttp_t* parser) {
    return guard(parser, [](RequestParser& self) { return self.on_chunk_header(); });
  }
  static int on_message_complete(llhttp_t* parser) {
    return guard(parser, [](RequestParser& self) { return self.on_message_complete(); });
  }

  // Header fields and the body are not stored: nothing wif-tokend answers
  // depends on them, and llhttp checks their syntax without callbacks.
  static constexpr llhttp_settings_t kSettings = {
      .on_message_begin = &on_message_begin,
      .on_url = &on_url,
      .on_version = &on_version,
      .on_headers_complete = &on_headers_complete,
      .on_message_complete = &on_message_complete,
      .on_version_complete = &on_version_complete,
      .on_chunk_header = &on_chunk_header,
  };
};

RequestParser::RequestParser(const ParserLimits& limits)
    : impl_(std::make_unique<Impl>()), limits_(limits) {
  llhttp_init(&impl_->parser, HTTP_REQUEST, &Callbacks::kSettings);
  impl_->parser.data = this;
}

RequestParser::~RequestParser() = default;

RequestParser::Result RequestParser::feed(const char* data, size_t len, size_t* consumed) {
  *consumed = 0;
  if (error_status_ != 0) {
    return Result::kError;
  }
  Impl& impl = *impl_;
  llhttp_t* parser = &impl.parser;
  if (paused_) {
    llhttp_resume(parser);
    paused_ = false;
  }

  size_t offset = 0;
  // After the pause at the end of a header block llhttp must run once more,
  // even with no bytes left, to complete a message that has no body.
  bool run_without_bytes = false;
  while (offset < len || run_without_bytes) {
    run_without_bytes = false;

    // Hand llhttp no more than the current limit allows, so an oversized
    // header block fails at the first byte over, however the bytes arrive.
    const size_t remaining = len - offset;
    const size_t n = std::min(remaining, impl.budget(limits_));
    if (remaining > 0 && n == 0) {
      *consumed = offset;
      if (impl.phase == Impl::Phase::kHeaders) {
        return fail(431, "request header section exceeds max_header_bytes");
      }
      return fail(413, "request body section exceeds its limit");
    }

    const char* chunk = data + offset;
    impl.pause = Impl::Pause::kNone;
    const llhttp_errno_t err = llhttp_execute(parser, chunk, n);

    // After a pause or an error llhttp_get_error_pos() is the first byte not
    // parsed: where to resume, or the offending byte.
    const char* stop = err == HPE_OK ? chunk + n : llhttp_get_error_pos(parser);
    assert(stop != nullptr && stop >= chunk && stop <= chunk + n);
    const size_t used = static_cast<size_t>(stop - chunk);
    if (impl.phase == Impl::Phase::kHeaders) {
      // Before llhttp's verdict, so a malformed header section is a 400 even
      // when llhttp or a callback stopped at a limit further on.
      if (const char* reason = impl.scan.check(chunk, used)) {
        *consumed = offset;
        return fail(400, reason);
      }
      impl.header_bytes += used;
    } else {
      impl.body_section_bytes += used;
    }
    offset += used;
    if (err == HPE_OK) {
      continue;
    }
    if (err != HPE_PAUSED) {
      *consumed = offset;
      return fail(impl.status_for(err), impl.error_reason());
    }

    assert(impl.pause != Impl::Pause::kNone);
    if (impl.pause == Impl::Pause::kHeadersComplete) {
      request_.header_bytes = impl.header_bytes;
      impl.phase = Impl::Phase::kBody;
      llhttp_resume(parser);
      run_without_bytes = true;
      continue;
    }
    paused_ = true;
    impl.next_message();
    *consumed = offset;
    return Result::kRequest;
  }

  *consumed = len;
  return Result::kNeedMore;
}

RequestParser::Result RequestParser::fail(int status, const char* reason) {
  error_status_ = status;
  error_reason_ = reason != nullptr ? reason : "unknown parser error";
  return Result::kError;
}

int RequestParser::on_message_begin() {
  in_message_ = true;
  request_.clear();
  impl_->version_len = 0;
  return 0;
}

int RequestParser::on_url(const char* at, size_t len) {
  // Bounded by max_header_bytes: llhttp never sees more of a header section.
  request_.target.append(at, len);
  return 0;
}

int RequestParser::on_version(const char* at, size_t len) {
  Impl& impl = *impl_;
  for (size_t i = 0; i < len && impl.version_len < impl.version_text.size(); ++i) {
    impl.version_text[impl.version_len++] = at[i];
  }
  return 0;
}

int RequestParser::on_version_complete() {
  llhttp_t* parser = &impl_->parser;
  request_.version_major = llhttp_get_http_major(parser);
  request_.version_minor = llhttp_get_http_minor(parser);

  // llhttp accepts 0.9 and 2.0 here (2.0 for the h2 preface); RFC 9110
  // section 15.6.6: refuse the major version with 505.
  if (request_.version_major != 1) {
    return impl_->reject(505, "HTTP major version is not 1");
  }
  return 0;
}

int RequestParser::on_headers_complete() {
  llhttp_t* parser = &impl_->parser;
  request_.method = to_method(llhttp_get_method(parser));

  // TODO: an HTTP/1.1 request without a Host field, or with two, is accepted,
  // where RFC 9112 section 3.2 asks for a 400; harmless while nothing reads
  // Host, but not conforming. Fix: match the field name "host" across
  // on_header_field pieces, count it on on_header_field_complete and check
  // the count here.

  // llhttp has already refused Content-Length with Transfer-Encoding, and a
  // second Content-Length, so the length here is the only one.
  if ((parser->flags & F_CONTENT_LENGTH) != 0 && parser->content_length > limits_.max_body_bytes) {
    return impl_->reject(413, "Content-Length exceeds max_body_bytes");
  }

  // Pause so that feed() learns where the header block ends.
  impl_->pause = Impl::Pause::kHeadersComplete;
  return HPE_PAUSED;
}

int RequestParser::on_chunk_header() {
  // llhttp.h: the chunk's size is in content_length during this callback.
  Impl& impl = *impl_;
  const uint64_t size = impl.parser.content_length;
  if (size > limits_.max_body_bytes - impl.body_bytes) {
    return impl.reject(413, "chunked body exceeds max_body_bytes");
  }
  impl.body_bytes += static_cast<size_t>(size);
  return 0;
}

int RequestParser::on_message_complete() {
  llhttp_t* parser = &impl_->parser;
  // After CONNECT or an Upgrade request llhttp parses nothing more on this
  // connection (it returns HPE_PAUSED_UPGRADE), and we do not switch
  // protocols (RFC 9110 section 7.8 lets a server ignore Upgrade), so the
  // connection ends after this answer.
  request_.keep_alive = llhttp_should_keep_alive(parser) != 0 && llhttp_get_upgrade(parser) == 0;
  in_message_ = false;
  impl_->pause = Impl::Pause::kMessageComplete;
  return HPE_PAUSED;
}

}  // namespace wif::http
