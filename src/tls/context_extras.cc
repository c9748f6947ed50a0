#include "src/tls/context_extras.h"

#include <openssl/ssl.h>

#include "src/tls/pem_files.h"

namespace wif::tls {
namespace {

void free_extras(void* /*parent*/, void* extras, CRYPTO_EX_DATA* /*data*/, int /*index*/,
                 long /*argl*/, void* /*argp*/) {
  delete static_cast<ContextExtras*>(extras);
}

int extras_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_extras);
  return index;
}

}  // namespace

ContextExtras& attach_extras(SSL_CTX* ctx, std::unique_ptr<ContextExtras> extras) {
  const int index = extras_index();
  if (index < 0 || SSL_CTX_set_ex_data(ctx, index, extras.get()) != 1) {
    fail_with_reason("cannot attach the verification settings to the TLS context");
  }
  return *extras.release();  // now freed with ctx
}

const ContextExtras* extras_of(const SSL_CTX* ctx) {
  const int index = extras_index();
  if (index < 0) {
    return nullptr;
  }
  return static_cast<const ContextExtras*>(SSL_CTX_get_ex_data(ctx, index));
}

}  // namespace wif::tls
