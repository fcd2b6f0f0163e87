#include "switchyard/core/thread_local_state.h"

#include <mutex>
#include <utility>
#include <vector>

#include "switchyard/core/error.h"

namespace sy {

namespace detail {
constinit thread_local AutogradState tls_autograd_state SY_TLS_MODEL = {};
constinit thread_local RawSlots tls_slots SY_TLS_MODEL = {{}, 0};
}  // namespace detail

namespace {

std::mutex g_slot_names_mu;
std::vector<std::string>& slot_names() {
  static auto* names = new std::vector<std::string>;
  return *names;
}

void check_slot(SlotId slot) {
  SY_CHECK(slot.index >= 0 && slot.index < kMaxThreadLocalSlots, ValueError,
           "thread-local slot {} was not registered: get one from register_thread_local_slot()",
           slot.index);
}

// Frees the thread's slot objects when it exits. Made on the first set, so a
// thread that never sets a slot never pays for it.
struct SlotsAtThreadExit {
  ~SlotsAtThreadExit() {
    auto& raw = detail::tls_slots;
    for (auto*& s : raw.slots) {
      delete s;
      s = nullptr;
    }
    raw.set_mask = 0;
  }
};

void ensure_cleanup_at_exit() {
  thread_local SlotsAtThreadExit cleanup;
  (void)cleanup;
}

// Replaces the calling thread's object in slot i (deleting the old one).
void replace_slot(int i, std::unique_ptr<ThreadLocalSlot> value) {
  auto& raw = detail::tls_slots;
  if (value) ensure_cleanup_at_exit();
  delete std::exchange(raw.slots[i], value.release());
  const uint32_t bit = uint32_t{1} << i;
  raw.set_mask = raw.slots[i] ? (raw.set_mask | bit) : (raw.set_mask & ~bit);
}

template <typename F>
void for_each_set_slot(F f) {
  const auto& raw = detail::tls_slots;
  for (uint32_t m = raw.set_mask; m != 0; m &= m - 1) f(*raw.slots[std::countr_zero(m)]);
}

}  // namespace

SlotId register_thread_local_slot(std::string name) {
  std::lock_guard<std::mutex> lock(g_slot_names_mu);
  auto& names = slot_names();
  SY_CHECK(static_cast<int>(names.size()) < kMaxThreadLocalSlots, Error,
           "register_thread_local_slot(\"{}\"): all {} slots are taken", name,
           kMaxThreadLocalSlots);
  names.push_back(std::move(name));
  return SlotId{static_cast<int>(names.size()) - 1};
}

std::unique_ptr<ThreadLocalSlot> get_slot_copy(SlotId slot) {
  check_slot(slot);
  const ThreadLocalSlot* s = detail::tls_slots.slots[slot.index];
  return s ? s->deepcopy() : nullptr;
}

void set_slot(SlotId slot, const ThreadLocalSlot* state) {
  check_slot(slot);
  replace_slot(slot.index, state ? state->deepcopy() : nullptr);
}

ThreadLocalSlot* slot_accessor(SlotId slot) {
  check_slot(slot);
  return detail::tls_slots.slots[slot.index];
}

void check_slots_support_inplace_requires_grad() {
  for_each_set_slot([](const ThreadLocalSlot& s) { s.check_supports_inplace_requires_grad(); });
}
void check_slots_support_retain_grad() {
  for_each_set_slot([](const ThreadLocalSlot& s) { s.check_supports_retain_grad(); });
}
void check_slots_support_cpp_autograd_function() {
  for_each_set_slot([](const ThreadLocalSlot& s) { s.check_supports_cpp_autograd_function(); });
}
int64_t check_slots_support_single_level_autograd_function() {
  int64_t level = 0;
  for_each_set_slot([&](const ThreadLocalSlot& s) {
    level = std::max(level, s.check_supports_single_level_autograd_function());
  });
  return level;
}

// ---- ThreadLocalState ---------------------------------------------------------------

ThreadLocalState::ThreadLocalState()
    : keys_(tls_local_dispatch_key_set()),
      autograd_(detail::tls_autograd_state),
      slot_mask_(detail::tls_slots.set_mask) {
  if (SY_UNLIKELY(slot_mask_ != 0)) {
    auto copies = std::make_shared<SlotCopies>();
    for (uint32_t m = slot_mask_; m != 0; m &= m - 1) {
      const int i = std::countr_zero(m);
      copies->slots[i] = detail::tls_slots.slots[i]->deepcopy();
    }
    slots_ = std::move(copies);
  }
}

const ThreadLocalSlot* ThreadLocalState::slot(SlotId slot) const {
  check_slot(slot);
  return slots_ ? slots_->slots[slot.index].get() : nullptr;
}

ThreadLocalState::FreshCopies ThreadLocalState::fresh_slot_copies() const {
  FreshCopies copies;
  for (uint32_t m = slot_mask_; m != 0; m &= m - 1) {
    const int i = std::countr_zero(m);
    copies[i] = slots_->slots[i]->deepcopy();
  }
  return copies;
}

void ThreadLocalState::set_thread_local_state(const ThreadLocalState& state) {
  // Copy first, so a deepcopy that throws leaves the thread as it was.
  FreshCopies copies = state.fresh_slot_copies();
  tls_set_local_dispatch_key_set(state.keys_);
  detail::tls_autograd_state = state.autograd_;
  if (state.slot_mask_ != 0 || detail::tls_slots.set_mask != 0) {
    for (int i = 0; i < kMaxThreadLocalSlots; ++i) replace_slot(i, std::move(copies[i]));
  }
}

// ---- ThreadLocalStateGuard ------------------------------------------------------------

ThreadLocalStateGuard::ThreadLocalStateGuard(const ThreadLocalState& state)
    : saved_keys_(tls_local_dispatch_key_set()),
      saved_autograd_(detail::tls_autograd_state),
      saved_slots_(detail::tls_slots) {
  if (SY_UNLIKELY(state.slot_mask_ != 0 || saved_slots_.set_mask != 0)) {
    ThreadLocalState::FreshCopies copies = state.fresh_slot_copies();
    // The thread's own objects move into the guard; the copies take their place.
    auto& raw = detail::tls_slots;
    if (state.slot_mask_ != 0) ensure_cleanup_at_exit();
    for (int i = 0; i < kMaxThreadLocalSlots; ++i) raw.slots[i] = copies[i].release();
    raw.set_mask = state.slot_mask_;
    slots_swapped_ = true;
  }
  tls_set_local_dispatch_key_set(state.keys_);
  detail::tls_autograd_state = state.autograd_;
}

ThreadLocalStateGuard::~ThreadLocalStateGuard() noexcept(false) {
  if (!ticket_.end("ThreadLocalStateGuard")) return;
  tls_set_local_dispatch_key_set(saved_keys_);
  detail::tls_autograd_state = saved_autograd_;
  // Without a swap the thread had no slots when the guard began, so any set now
  // were set under it and do not outlive it.
  auto& raw = detail::tls_slots;
  if (slots_swapped_ || raw.set_mask != 0) {
    for (auto* s : raw.slots) delete s;
    raw = saved_slots_;
  }
}

}  // namespace sy
