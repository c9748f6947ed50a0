// Builds CertificateSummary and CrlSummary values from OpenSSL objects.
// Internal to src/tls/; any thread.
#pragma once

#include <string>

#include "src/tls/certificate_summary.h"
#include "src/tls/openssl_helpers.h"

namespace wif::tls {

CertificateSummary summary_of(X509* certificate);
CrlSummary summary_of(const X509_CRL* crl, const std::string& file);

}  // namespace wif::tls
