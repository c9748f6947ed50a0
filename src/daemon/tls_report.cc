#include "src/daemon/tls_report.h"

#include <string>
#include <vector>

#include "src/tls/certificate_summary.h"

namespace wif::daemon {
namespace {

constexpr int64_t kSoonSeconds = 30 * 24 * 3600;

std::string joined(const std::vector<std::string>& words) {
  if (words.empty()) {
    return "(none)";
  }
  std::string out;
  for (const std::string& word : words) {
    out += (out.empty() ? "" : ", ") + word;
  }
  return out;
}

// "issuer X; valid A to B; CA; key usage ...; extended key usage ..."
std::string details(const tls::CertificateSummary& c) {
  return "issuer " + c.issuer + "; valid " + tls::format_utc(c.not_before_unix) + " to " +
         tls::format_utc(c.not_after_unix) + (c.is_ca ? "; CA" : "") + "; key usage " +
         joined(c.key_usage) + "; extended key usage " + joined(c.extended_key_usage);
}

class Report {
 public:
  Report(int64_t now, std::FILE* out) : now_(now), out_(out) {}

  void line(const std::string& text) { std::fprintf(out_, "%s\n", text.c_str()); }
  void warn(const std::string& text) {
    std::fprintf(out_, "warning: %s\n", text.c_str());
    ++warnings_;
  }

  // One certificate, and a warning if it is expired or expires soon.
  void certificate(const std::string& role, const tls::CertificateSummary& c) {
    line("  " + role + ": " + c.subject + "; " + details(c));
    if (c.not_after_unix <= now_) {
      warn(role + " " + c.subject + " expired on " + tls::format_utc(c.not_after_unix));
    } else if (c.not_after_unix - now_ < kSoonSeconds) {
      warn(role + " " + c.subject + " expires within 30 days, on " +
           tls::format_utc(c.not_after_unix));
    }
  }

  int warnings() const { return warnings_; }
  int64_t now() const { return now_; }

 private:
  const int64_t now_;
  std::FILE* const out_;
  int warnings_ = 0;
};

}  // namespace

int print_tls_report(const tls::ServerContext& context, int64_t now_unix, std::FILE* out) {
  Report report(now_unix, out);
  const tls::CertificateSummary& leaf = context.server_certificate();
  // build() refused a key that does not match, so by now it does.
  report.line("server certificate: " + leaf.subject + " (issuer " + leaf.issuer +
              "), valid until " + tls::format_utc(leaf.not_after_unix) + "; key matches");
  for (size_t i = 0; i < context.server_chain().size(); ++i) {
    report.certificate(
        i == 0 ? "served certificate 1 (leaf)" : "served certificate " + std::to_string(i + 1),
        context.server_chain()[i]);
  }
  const tls::ChainCheck& chain = context.server_chain_check();
  if (chain.verified) {
    report.line("  served chain: verifies to a root in client_ca or the system trust store");
  } else {
    report.warn("the served chain does not verify against client_ca or the system trust store (" +
                chain.detail + "): clients need its root in their own trust store");
  }

  report.line("client trust anchors (client_ca): " + std::to_string(context.anchors().size()));
  for (const tls::CertificateSummary& anchor : context.anchors()) {
    report.certificate("client trust anchor", anchor);
  }
  if (!context.intermediates().empty()) {
    report.line("client intermediates (untrusted, to build chains): " +
                std::to_string(context.intermediates().size()));
  }
  for (const tls::CertificateSummary& intermediate : context.intermediates()) {
    report.certificate("client intermediate", intermediate);
  }

  report.line(std::string("client checks: crl_check ") +
              (context.crl_check_chain() ? "chain" : "leaf") + ", partial_chain " +
              (context.partial_chain() ? "on" : "off"));
  for (const tls::CrlSummary& crl : context.crls()) {
    const std::string next =
        crl.next_update_unix != 0 ? tls::format_utc(crl.next_update_unix) : "(none given)";
    report.line("  crl " + crl.file + ": issuer " + crl.issuer + "; last update " +
                tls::format_utc(crl.last_update_unix) + "; next update " + next + "; " +
                std::to_string(crl.revoked) + " revoked");
    if (crl.next_update_unix != 0 && crl.next_update_unix <= report.now()) {
      report.warn("crl " + crl.file + " is past its next update (" + next +
                  "): every client it covers is refused until a current one is loaded");
    }
  }
  return report.warnings();
}

}  // namespace wif::daemon
