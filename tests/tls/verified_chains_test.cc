// How long a verified client chain is remembered, and what it is keyed by
// (issue #6). The handshake side (a remembered client still refused after a
// reload) is in reverification_test.cc.
#include "src/tls/verified_chains.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <cstring>
#include <ctime>

#include "tests/support/test_support.h"
#include "tests/tls/test_certificates.h"

namespace wif::tls {
namespace {

using wif::testing::pki;

using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpenSslFree<X509_STORE_CTX_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OpenSslFree<X509_STORE_free>>;

class TlsVerifiedChains : public ::testing::Test {
 protected:
  TlsVerifiedChains()
      : ca_key_(test::load_key(pki("root-ca.key"))),
        ca_(test::load_certificate(pki("root-ca.crt"))) {}

  // A leaf from the test root valid for valid_for_s from now, and the
  // chain a verification would return for it (leaf, root).
  X509Ptr leaf(int64_t valid_for_s, int64_t serial = 4096) {
    test::CertificateRequest request;
    request.subject = {{"CN", "remembered"}};
    request.serial = serial;
    request.valid_from_offset_s = -60;
    request.valid_for_s = 60 + valid_for_s;
    key_ = test::generate_ec_key();
    return test::issue(request, key_.get(), ca_.get(), ca_key_.get());
  }

  X509StackShallowPtr chain_of(X509* certificate) {
    X509StackShallowPtr chain(sk_X509_new_null());
    sk_X509_push(chain.get(), certificate);
    sk_X509_push(chain.get(), ca_.get());
    return chain;
  }

  // The key a handshake would compute for a client sending `sent`.
  VerifiedChains::Key key_for(X509* certificate, std::vector<X509*> sent) {
    X509StackShallowPtr untrusted(sk_X509_new_null());
    for (X509* c : sent) {
      sk_X509_push(untrusted.get(), c);
    }
    X509StoreCtxPtr store_ctx(X509_STORE_CTX_new());
    EXPECT_EQ(X509_STORE_CTX_init(store_ctx.get(), store_.get(), certificate, untrusted.get()), 1);
    std::optional<VerifiedChains::Key> key = chains_.key_of(store_ctx.get());
    EXPECT_TRUE(key.has_value());
    return key.value_or(VerifiedChains::Key{});
  }

  const int64_t now_ = static_cast<int64_t>(std::time(nullptr));
  EvpPkeyPtr ca_key_;
  X509Ptr ca_;
  EvpPkeyPtr key_;
  X509StorePtr store_{X509_STORE_new()};
  VerifiedChains chains_{0};
};

TEST_F(TlsVerifiedChains, RecallsAChainForItsTimeToLive) {
  X509Ptr certificate = leaf(86400);
  const VerifiedChains::Key key = key_for(certificate.get(), {certificate.get()});
  EXPECT_FALSE(chains_.recall(key, now_));

  chains_.remember(key, chain_of(certificate.get()).get(), now_);

  EXPECT_TRUE(chains_.recall(key, now_));
  EXPECT_TRUE(chains_.recall(key, now_ + VerifiedChains::kTtlSeconds - 1));
  EXPECT_FALSE(chains_.recall(key, now_ + VerifiedChains::kTtlSeconds));
}

TEST_F(TlsVerifiedChains, NeverOutlivesTheEarliestNotAfterOfTheChain) {
  X509Ptr certificate = leaf(100);
  const int64_t not_after = unix_seconds(X509_get0_notAfter(certificate.get()));
  const VerifiedChains::Key key = key_for(certificate.get(), {certificate.get()});

  chains_.remember(key, chain_of(certificate.get()).get(), now_);

  EXPECT_TRUE(chains_.recall(key, not_after - 1));
  EXPECT_FALSE(chains_.recall(key, not_after));
}

TEST_F(TlsVerifiedChains, NeverOutlivesTheNextUpdateOfTheCrls) {
  VerifiedChains until_crl(now_ + 60);
  X509Ptr certificate = leaf(86400);
  const VerifiedChains::Key key = key_for(certificate.get(), {certificate.get()});

  until_crl.remember(key, chain_of(certificate.get()).get(), now_);

  EXPECT_TRUE(until_crl.recall(key, now_ + 59));
  EXPECT_FALSE(until_crl.recall(key, now_ + 60));
}

TEST_F(TlsVerifiedChains, RemembersNothingPastALimitThatHasPassed) {
  VerifiedChains stale_crl(now_ - 1);
  X509Ptr certificate = leaf(86400);
  const VerifiedChains::Key key = key_for(certificate.get(), {certificate.get()});

  stale_crl.remember(key, chain_of(certificate.get()).get(), now_);

  EXPECT_EQ(stale_crl.size(), 0u);
  EXPECT_FALSE(stale_crl.recall(key, now_));
}

TEST_F(TlsVerifiedChains, KeysByEveryCertificateTheClientSent) {
  X509Ptr certificate = leaf(86400, 1);
  X509Ptr same_subject_other_key = leaf(86400, 1);
  const VerifiedChains::Key key = key_for(certificate.get(), {certificate.get()});
  chains_.remember(key, chain_of(certificate.get()).get(), now_);

  EXPECT_TRUE(chains_.recall(key_for(certificate.get(), {certificate.get()}), now_));
  EXPECT_FALSE(
      chains_.recall(key_for(same_subject_other_key.get(), {same_subject_other_key.get()}), now_));
  EXPECT_FALSE(chains_.recall(key_for(certificate.get(), {certificate.get(), ca_.get()}), now_));
}

TEST_F(TlsVerifiedChains, ForgetsTheOldestEntryWhenFull) {
  X509Ptr certificate = leaf(86400);
  X509StackShallowPtr chain = chain_of(certificate.get());
  VerifiedChains::Key first{};
  first[0] = 1;
  chains_.remember(first, chain.get(), now_);
  for (size_t i = 1; i <= VerifiedChains::kMaxEntries; ++i) {
    VerifiedChains::Key key{};
    std::memcpy(key.data() + 8, &i, sizeof i);
    chains_.remember(key, chain.get(), now_);
  }

  EXPECT_EQ(chains_.size(), VerifiedChains::kMaxEntries);
  EXPECT_FALSE(chains_.recall(first, now_));
}

}  // namespace
}  // namespace wif::tls
