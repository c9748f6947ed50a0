// Secrets are wiped before their memory is given back (issue #7).
//
// This binary replaces the global operator new and delete, so that each
// heap block can be searched for a known token as it is freed: the only way
// to look at freed memory without reading it after the free. Short values
// live inside the string object, which the tests inspect directly.
#include <gtest/gtest.h>
#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>

#include "src/token/secret.h"
#include "src/token/token.h"

namespace {

// What the free hook looks for, and how often it found it.
std::atomic<bool> g_watching{false};
std::string_view g_marker;
std::atomic<int> g_found{0};

void inspect_before_free(void* block) {
  if (block == nullptr || !g_watching.load(std::memory_order_relaxed)) {
    return;
  }
  const size_t size = malloc_usable_size(block);
  if (memmem(block, size, g_marker.data(), g_marker.size()) != nullptr) {
    g_found.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace

void* operator new(std::size_t size) {
  void* block = std::malloc(size != 0 ? size : 1);
  if (block == nullptr) {
    throw std::bad_alloc();
  }
  return block;
}
void operator delete(void* block) noexcept {
  inspect_before_free(block);
  std::free(block);
}
void operator delete(void* block, std::size_t /*size*/) noexcept {
  inspect_before_free(block);
  std::free(block);
}

namespace wif::token {
namespace {

// Long enough that std::string keeps it on the heap.
constexpr std::string_view kLongToken = "ya29.a-token-that-must-not-outlive-its-holder-0123456789";

// Counts the freed blocks that still hold `marker` while `body` runs.
template <typename Body>
int freed_blocks_holding(std::string_view marker, Body body) {
  g_marker = marker;
  g_found = 0;
  g_watching = true;
  body();
  g_watching = false;
  return g_found;
}

bool object_holds(const void* object, size_t size, std::string_view marker) {
  return memmem(object, size, marker.data(), marker.size()) != nullptr;
}

TEST(WipeHook, SeesAStringFreedWithoutAWipe) {
  // The control: without a wipe the hook does find the bytes.
  EXPECT_EQ(freed_blocks_holding(kLongToken, [] { std::string plain(kLongToken); }), 1);
}

TEST(Secret, WipesAValueBeforeItsMemoryIsFreed) {
  EXPECT_EQ(freed_blocks_holding(kLongToken, [] { Secret secret{std::string(kLongToken)}; }), 0);
}

TEST(Secret, WipesTheOldValueWhenReplaced) {
  EXPECT_EQ(freed_blocks_holding(kLongToken,
                                 [] {
                                   Secret secret{std::string(kLongToken)};
                                   secret = Secret(std::string(64, 'n'));
                                   Secret copy{std::string(kLongToken)};
                                   copy = secret;
                                 }),
            0);
}

TEST(Secret, LeavesNothingInTheObjectAShortValueMovedOutOf) {
  constexpr std::string_view kShort = "short-tok";  // fits the inline buffer
  // A moved-from string clears its first byte only, so look for the rest.
  constexpr std::string_view kTail = kShort.substr(1);
  Secret from{std::string(kShort)};
  ASSERT_TRUE(object_holds(&from, sizeof from, kTail));
  Secret to(std::move(from));
  EXPECT_EQ(to.reveal(), kShort);
  EXPECT_FALSE(object_holds(&from, sizeof from, kTail));

  Secret assigned;
  assigned = std::move(to);
  EXPECT_EQ(assigned.reveal(), kShort);
  EXPECT_FALSE(object_holds(&to, sizeof to, kTail));
}

TEST(Token, WipesTheValueAndItsRenderedAnswersWhenTheLastHolderLetsGo) {
  EXPECT_EQ(freed_blocks_holding(kLongToken,
                                 [] {
                                   auto token = std::make_shared<Token>();
                                   token->value = Secret(std::string(kLongToken));
                                   token->expires_at_ms = 1'000'000;
                                   render_bodies(*token);
                                   std::shared_ptr<const Token> reader = token;
                                   token.reset();
                                   reader.reset();
                                 }),
            0);
}

}  // namespace
}  // namespace wif::token
