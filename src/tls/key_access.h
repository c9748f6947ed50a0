// The check that a private key (and the file holding its passphrase) is not
// readable by more users than the configuration allows. Internal to
// src/tls/: ServerContext::build() runs it first, so start-up, `check` and
// every reload refuse the same files. Any thread; it only stats files.
#pragma once

#include "src/tls/context_options.h"

namespace wif::tls {

// Throws ContextError naming the file, its mode and the setting that would
// allow it, when options.key_file or options.key_passphrase_file grants read
// access beyond options.key_readable_by. A file that cannot be stat()ed is
// left to the loader, which names the system's reason.
void check_key_access(const ContextOptions& options);

}  // namespace wif::tls
