// What `wif-tokend check` says about the TLS material: every certificate
// with its subject, issuer, validity and usages, whether the key matches and
// the served chain verifies, every CRL, and a warning for whatever expires
// within 30 days or already has. Main thread; part of the executable.
#pragma once

#include <cstdint>
#include <cstdio>

#include "src/tls/server_context.h"

namespace wif::daemon {

// Prints the report to `out`; returns how many warnings it printed.
int print_tls_report(const tls::ServerContext& context, int64_t now_unix, std::FILE* out);

}  // namespace wif::daemon
