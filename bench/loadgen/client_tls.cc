#include "bench/loadgen/client_tls.h"

#include <openssl/err.h>

namespace wif::loadgen {

std::string drain_errors() {
  std::string text;
  char buf[256];
  while (unsigned long code = ERR_get_error()) {
    ERR_error_string_n(code, buf, sizeof buf);
    if (!text.empty()) {
      text += "; ";
    }
    text += buf;
  }
  return text;
}

namespace {

[[noreturn]] void fail(const std::string& what) {
  const std::string reason = drain_errors();
  throw std::runtime_error(reason.empty() ? what : what + ": " + reason);
}

}  // namespace

ClientTls::ClientTls(const Options& options)
    : ctx_(SSL_CTX_new(TLS_client_method())), servername_(options.servername) {
  SSL_CTX* ctx = ctx_.get();
  if (ctx == nullptr) {
    fail("cannot create the TLS client context");
  }
  const int min_version = options.tls13_only ? TLS1_3_VERSION : TLS1_2_VERSION;
  const int max_version = options.tls12_only ? TLS1_2_VERSION : TLS1_3_VERSION;
  if (SSL_CTX_set_min_proto_version(ctx, min_version) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, max_version) != 1) {
    fail("cannot set the TLS versions");
  }
  if (SSL_CTX_load_verify_file(ctx, options.ca_file.c_str()) != 1) {
    fail("cannot load the trust anchors " + options.ca_file);
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1) {
    fail("cannot load the client certificate " + options.cert_file);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    fail("cannot use the client key " + options.key_file);
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  // Ten thousand idle connections should cost the client little memory too.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  // Tickets go to the connection's slot, never into OpenSSL's client cache.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, on_new_session);
}

int ClientTls::on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* sink = static_cast<TicketSink*>(SSL_get_app_data(ssl));
  if (sink == nullptr) {
    return 0;  // OpenSSL keeps its reference and frees the session
  }
  // Returning 1 hands OpenSSL's reference over (SSL_CTX_sess_set_new_cb(3)).
  sink->take_ticket(SslSessionPtr(session));
  return 1;
}

SslPtr ClientTls::new_ssl(TicketSink* sink, SSL_SESSION* resume) const {
  SslPtr ssl(SSL_new(ctx_.get()));
  if (!ssl || SSL_set_tlsext_host_name(ssl.get(), servername_.c_str()) != 1 ||
      SSL_set1_host(ssl.get(), servername_.c_str()) != 1) {
    return nullptr;
  }
  SSL_set_app_data(ssl.get(), sink);
  if (resume != nullptr && SSL_set_session(ssl.get(), resume) != 1) {
    return nullptr;
  }
  SSL_set_connect_state(ssl.get());
  return ssl;
}

}  // namespace wif::loadgen
