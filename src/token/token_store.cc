#include "src/token/token_store.h"

#include <cassert>

namespace wif::token {

TokenStore::TokenStore(std::vector<std::string> names) {
  slots_.reserve(names.size());
  for (auto& name : names) {
    auto slot = std::make_unique<Slot>();
    slot->name = std::move(name);
    slots_.push_back(std::move(slot));
  }
}

size_t TokenStore::find(std::string_view name) const {
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i]->name == name) {
      return i;
    }
  }
  return slots_.size();
}

void TokenStore::publish(size_t index, std::shared_ptr<Token> token) {
  assert(index < slots_.size());
  Slot& slot = *slots_[index];
  token->version = ++slot.versions;
  slot.current.store(std::move(token), std::memory_order_release);
  slot.state.store(SlotState::kReady, std::memory_order_release);
}

void TokenStore::withdraw(size_t index, SlotState state) {
  assert(index < slots_.size());
  slots_[index]->current.store(nullptr, std::memory_order_release);
  slots_[index]->state.store(state, std::memory_order_release);
}

void TokenStore::set_state(size_t index, SlotState state) {
  assert(index < slots_.size());
  slots_[index]->state.store(state, std::memory_order_release);
}

void TokenStore::set_next_attempt(size_t index, int64_t at_ms) {
  assert(index < slots_.size());
  slots_[index]->next_attempt_ms.store(at_ms, std::memory_order_relaxed);
}

void TokenStore::set_change_listener(std::function<void()> listener) {
  change_listener_ = std::move(listener);
}

void TokenStore::notify_changed() const {
  if (change_listener_) {
    change_listener_();
  }
}

std::shared_ptr<const Token> TokenStore::current(size_t index) const {
  return slots_[index]->current.load(std::memory_order_acquire);
}

SlotState TokenStore::state(size_t index) const {
  return slots_[index]->state.load(std::memory_order_acquire);
}

int64_t TokenStore::next_attempt_ms(size_t index) const {
  return slots_[index]->next_attempt_ms.load(std::memory_order_relaxed);
}

bool TokenStore::servable(const Token& token, int64_t now_ms, int64_t min_remaining_ms) {
  if (token.serve_until_ms && now_ms >= *token.serve_until_ms) {
    return false;
  }
  if (token.expires_at_ms && now_ms >= *token.expires_at_ms - min_remaining_ms) {
    return false;
  }
  return true;
}

}  // namespace wif::token
