// Reading the PEM files a ServerContext is built from: certificates, CRLs
// and the private key, with the passphrase of an encrypted key taken from
// its file and never from a terminal. Internal to src/tls/.
//
// Every function throws ContextError with a message naming the file and what
// is wrong, never key material or a passphrase, and leaves the thread's
// OpenSSL error queue empty. Safe on any thread (each call touches only its
// own objects).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "src/tls/context_options.h"
#include "src/tls/openssl_helpers.h"

namespace wif::tls {

// Throws ContextError(message), dropping whatever OpenSSL queued.
[[noreturn]] void fail(const std::string& message);
// Throws ContextError with OpenSSL's queued reasons appended, which name no
// key bytes and no passphrase.
[[noreturn]] void fail_with_reason(const std::string& message);

// Opens a file for an OpenSSL reader; `what` names it in messages
// ("certificate", "crl", "client_ca").
BioPtr open_file(const std::string& path, std::string_view what);

// A pem_password_cb(3) that refuses: installed wherever OpenSSL may ask for
// a passphrase and none is expected, so it never prompts on the terminal.
int refuse_passphrase(char* buf, int size, int rwflag, void* userdata);

EvpPkeyPtr load_private_key(const ContextOptions& options);
// Every PEM certificate of a file; at least one.
std::vector<X509Ptr> load_certificates(const std::string& path, std::string_view what);
// Every PEM CRL of a file; at least one.
std::vector<X509CrlPtr> load_crls(const std::string& path);

}  // namespace wif::tls
