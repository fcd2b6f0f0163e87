#include "switchyard/transforms/interpreter.h"

#include <algorithm>
#include <atomic>

#include <fmt/format.h>

#include "switchyard/core/error.h"
#include "switchyard/dispatch/library.h"
#include "switchyard/transforms/batched_tensor.h"
#include "switchyard/transforms/batching.h"

namespace sy::func {
namespace {

SlotId transforms_slot() {
  static const SlotId id = register_thread_local_slot("transforms");
  return id;
}
// Registered at load time, so the slot number is fixed before any thread transforms.
[[maybe_unused]] const SlotId kRegisteredAtLoad = transforms_slot();

std::atomic<uint64_t> next_level_id{1};

bool any_grad_level(const detail::TransformState& s) {
  for (size_t i = 0; i < s.active; ++i) {
    if (s.levels[i].kind == TransformKind::Grad) return true;
  }
  return false;
}

std::string describe(const detail::TransformState* s) {
  if (s == nullptr || s->active == 0) return "no transform";
  std::string out;
  for (size_t i = s->active; i-- > 0;) {
    const Level& l = s->levels[i];
    out += fmt::format("{}{}(level {})", out.empty() ? "" : " > ", to_string(l.kind), l.number);
  }
  return out;
}

}  // namespace

std::string_view to_string(TransformKind k) {
  switch (k) {
    case TransformKind::Vmap: return "vmap";
    case TransformKind::Grad: return "grad";
    case TransformKind::Jvp: return "jvp";
  }
  return "?";
}

std::string_view to_string(Randomness r) {
  switch (r) {
    case Randomness::Error: return "error";
    case Randomness::Same: return "same";
    case Randomness::Different: return "different";
  }
  return "?";
}

Randomness parse_randomness(std::string_view text) {
  if (text == "error") return Randomness::Error;
  if (text == "same") return Randomness::Same;
  if (text == "different") return Randomness::Different;
  SY_THROW(ValueError,
           "vmap: randomness='{}' is not one of 'error' (refuse random ops), 'same' (one draw "
           "for the whole batch) or 'different' (one draw per example)",
           text);
}

// ---- the slot ---------------------------------------------------------------------

namespace detail {

std::unique_ptr<ThreadLocalSlot> TransformState::deepcopy() const {
  auto copy = std::make_unique<TransformState>();
  copy->levels = levels;
  copy->active = active;
  return copy;
}

// Custom functions run under every transform: a call on batched tensors puts its
// node on the physical tensors and runs backward and jvp batched again
// (grad.cpp, BatchedCall), so neither hook refuses them.
int64_t TransformState::check_supports_single_level_autograd_function() const {
  return active == 0 ? 0 : levels[active - 1].number;
}

void TransformState::check_supports_inplace_requires_grad() const {
  SY_CHECK(making_grad_inputs || !any_grad_level(*this), ValueError,
           "requires_grad_() inside {}: a grad transform decides which tensors are "
           "differentiated; pass the tensor as an input and choose it with argnums instead",
           describe(this));
}

void TransformState::check_supports_retain_grad() const {
  SY_CHECK(!any_grad_level(*this), ValueError,
           "retain_grad() inside {}: a grad transform returns gradients of its inputs only; "
           "return the intermediate value as an output (or as aux with has_aux=True) and "
           "differentiate with respect to it instead",
           describe(this));
}

TransformState* transform_state() {
  return static_cast<TransformState*>(slot_accessor(transforms_slot()));
}

PassDown::PassDown()
    : state_(transform_state()),
      saved_included_(tls_is_dispatch_key_included(DispatchKey::DynamicLayerFrontMode)) {
  if (state_ != nullptr && state_->active > 0) {
    --state_->active;
    if (state_->active == 0)
      tls_set_dispatch_key_included(DispatchKey::DynamicLayerFrontMode, false);
  } else {
    state_ = nullptr;
  }
}

PassDown::~PassDown() {
  if (state_ == nullptr) return;
  ++state_->active;
  tls_set_dispatch_key_included(DispatchKey::DynamicLayerFrontMode, saved_included_);
}

ShowLevels::ShowLevels(size_t n)
    : state_(transform_state()),
      saved_included_(tls_is_dispatch_key_included(DispatchKey::DynamicLayerFrontMode)) {
  if (state_ == nullptr) return;
  saved_active_ = state_->active;
  state_->active = std::min(n, state_->active);
  tls_set_dispatch_key_included(DispatchKey::DynamicLayerFrontMode, state_->active > 0);
}

ShowLevels::~ShowLevels() {
  if (state_ != nullptr) state_->active = saved_active_;
  tls_set_dispatch_key_included(DispatchKey::DynamicLayerFrontMode, saved_included_);
}

}  // namespace detail

std::vector<Level> transform_stack() {
  const detail::TransformState* s = detail::transform_state();
  if (s == nullptr) return {};
  return {s->levels.begin(), s->levels.begin() + static_cast<ptrdiff_t>(s->active)};
}

std::string describe_transform_stack() { return describe(detail::transform_state()); }

const Level* find_visible_level(uint64_t id) {
  const detail::TransformState* s = detail::transform_state();
  if (s == nullptr) return nullptr;
  for (size_t i = 0; i < s->active; ++i) {
    if (s->levels[i].id == id) return &s->levels[i];
  }
  return nullptr;
}

// ---- LevelGuard -------------------------------------------------------------------

LevelGuard::LevelGuard(TransformKind kind, int64_t batch_size, Randomness randomness)
    : saved_included_(tls_is_dispatch_key_included(DispatchKey::DynamicLayerFrontMode)) {
  detail::TransformState* s = detail::transform_state();
  if (s == nullptr) {
    const detail::TransformState empty;
    set_slot(transforms_slot(), &empty);
    s = detail::transform_state();
  } else {
    had_state_ = true;
    saved_active_ = s->active;
    // Levels hidden from the caller (it runs one level down) are not its outer
    // levels: set aside until the guard ends (rare; nothing to copy otherwise).
    if (s->levels.size() > s->active) {
      saved_levels_.assign(s->levels.begin() + static_cast<ptrdiff_t>(s->active), s->levels.end());
      s->levels.resize(s->active);
    }
  }
  level_.kind = kind;
  level_.number = static_cast<int64_t>(s->active) + 1;
  level_.id = next_level_id.fetch_add(1, std::memory_order_relaxed);
  level_.batch_size = batch_size;
  level_.randomness = randomness;
  s->levels.push_back(level_);
  s->active = s->levels.size();
  tls_set_dispatch_key_included(DispatchKey::DynamicLayerFrontMode, true);
}

LevelGuard::~LevelGuard() {
  detail::TransformState* s = detail::transform_state();
  if (s != nullptr) {
    if (had_state_) {
      // Nested guards restored theirs, so levels[0, saved_active_) are as found.
      s->levels.resize(saved_active_);
      s->levels.insert(s->levels.end(), saved_levels_.begin(), saved_levels_.end());
      s->active = saved_active_;
    } else {
      set_slot(transforms_slot(), nullptr);
    }
  }
  tls_set_dispatch_key_included(DispatchKey::DynamicLayerFrontMode, saved_included_);
}

// ---- routing ----------------------------------------------------------------------

namespace {

// Whether an argument of the call (the top `n` entries of `stack`) is batched at `id`.
bool has_arg_at_level(const Stack& stack, size_t n, uint64_t id) {
  for (size_t i = stack.size() - n; i < stack.size(); ++i) {
    const IValue& a = stack[i];
    if (a.is_tensor()) {
      const BatchedTensorImpl* b = maybe_batched(a.to_tensor_ref());
      if (b != nullptr && b->level_id() == id) return true;
    } else if (a.is_tensor_list()) {
      for (const Tensor& t : a.to_tensor_list()) {
        const BatchedTensorImpl* b = maybe_batched(t);
        if (b != nullptr && b->level_id() == id) return true;
      }
    }
  }
  return false;
}

// DynamicLayerFrontMode's kernel for every op: the interpreter. See docs/transforms.md.
void front_kernel(const OperatorHandle& op, DispatchKeySet keys, Stack* stack) {
  detail::TransformState* s = detail::transform_state();
  const DispatchKeySet below = keys.remove(DispatchKey::DynamicLayerFrontMode);
  if (s == nullptr || s->active == 0) {
    op.redispatch_boxed(below, *stack);
    return;
  }
  const detail::OpInfo& info = detail::op_info(op);
  const bool random = info.tags.has(Tag::random);
  // Plain tensors only: no level has anything to do.
  if (!keys.has(DispatchKey::Batched) && !random) {
    op.redispatch_boxed(below, *stack);
    return;
  }
  const Level level = s->levels[s->active - 1];
  if (level.kind == TransformKind::Vmap) {
    if (keys.has(DispatchKey::Batched) && has_arg_at_level(*stack, info.num_arguments, level.id)) {
      detail::run_batched(op, info, level, stack);
      return;
    }
    if (random && detail::run_random_unbatched(op, info, level, stack)) return;
  }
  detail::PassDown down;
  op.call_boxed(*stack);
}

// Batched's kernel for every op: reached only by a batched tensor whose level
// is not visible (the front key hands the others to their level first).
void escaped_kernel(const OperatorHandle& op, DispatchKeySet, Stack* stack) {
  const size_t n = detail::op_info(op).num_arguments;
  for (size_t i = stack->size() - n; i < stack->size(); ++i) {
    const IValue& a = (*stack)[i];
    const BatchedTensorImpl* b = a.is_tensor() ? maybe_batched(a.to_tensor_ref()) : nullptr;
    if (b == nullptr) continue;
    SY_THROW(DispatchError,
             "{}: argument {} is a batched tensor of vmap(level {}), which is not active on "
             "this thread ({}): a tensor made inside a vmap escaped it (stored outside the "
             "function, or handed to a thread without the caller's state). Return it from the "
             "function instead",
             op.name(), i - (stack->size() - n), b->level_number(), describe_transform_stack());
  }
  SY_THROW(DispatchError,
           "{}: a batched tensor reached the Batched key outside its vmap ({}); return batched "
           "values from the function instead of storing them",
           op.name(), describe_transform_stack());
}

SY_LIBRARY_IMPL(_, DynamicLayerFrontMode, m) { m.fallback(CppFunction::boxed(front_kernel)); }
SY_LIBRARY_IMPL(_, Batched, m) { m.fallback(CppFunction::boxed(escaped_kernel)); }

}  // namespace
}  // namespace sy::func
