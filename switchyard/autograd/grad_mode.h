// Grad mode and inference mode, per thread.
//
// Grad mode (on by default) says whether ops record for autograd;
// NoGradGuard / AutoGradMode switch it for a scope. InferenceMode goes further:
// it turns grad mode off and excludes the autograd and ADInplaceOrView keys, so
// calls skip autograd's kernels entirely, and tensors made inside it are
// inference tensors (Tensor::is_inference()). Every guard restores exactly the
// state it found, also when an exception passes through; all act on the
// calling thread only, and parallel/ carries them to the work a thread hands off.
#pragma once

#include "switchyard/core/export.h"
#include "switchyard/core/thread_local_state.h"

namespace sy {

class SY_API GradMode {
 public:
  // Whether grad mode is on for the calling thread.
  static bool is_enabled() { return !tls_autograd_state().grad_disabled; }
  static void set_enabled(bool enabled) {
    AutogradState s = tls_autograd_state();
    s.grad_disabled = !enabled;
    tls_set_autograd_state(s);
  }
};

// Sets grad mode to `enabled` for the guard's lifetime, then restores it. Guards
// end in order, on their own thread (Note [Guards end in order]).
class SY_API AutoGradMode {
 public:
  explicit AutoGradMode(bool enabled) : saved_(GradMode::is_enabled()) {
    GradMode::set_enabled(enabled);
  }
  ~AutoGradMode() noexcept(false) {
    if (ticket_.end("AutoGradMode")) GradMode::set_enabled(saved_);
  }
  AutoGradMode(const AutoGradMode&) = delete;
  AutoGradMode& operator=(const AutoGradMode&) = delete;
  bool is_innermost() const { return ticket_.is_innermost(); }

 private:
  bool saved_;
  detail::GuardTicket ticket_;
};

// Turns grad mode off for the guard's lifetime.
class SY_API NoGradGuard : public AutoGradMode {
 public:
  NoGradGuard() : AutoGradMode(false) {}
};

// Whether the calling thread is in inference mode.
inline bool is_inference_mode_enabled() { return tls_autograd_state().inference_mode; }

// Inference mode for the guard's lifetime (or, with `enabled` false, out of
// it): grad mode off, the autograd keys and ADInplaceOrView excluded, tensors
// made inside marked as inference tensors. Restores the autograd state and the
// excluded keys it found (in order: Note [Guards end in order]).
class SY_API InferenceMode {
 public:
  explicit InferenceMode(bool enabled = true)
      : saved_state_(tls_autograd_state()), saved_keys_(tls_local_dispatch_key_set()) {
    constexpr DispatchKeySet keys = kAutogradKeys | DispatchKeySet(DispatchKey::ADInplaceOrView);
    // As in PyTorch, leaving inference mode (enabled false) turns grad mode back on.
    tls_set_autograd_state({enabled, enabled});
    tls_set_local_dispatch_key_set({saved_keys_.included, enabled ? saved_keys_.excluded | keys
                                                                  : saved_keys_.excluded - keys});
  }
  ~InferenceMode() noexcept(false) {
    if (!ticket_.end("InferenceMode")) return;
    tls_set_autograd_state(saved_state_);
    LocalDispatchKeySet now = tls_local_dispatch_key_set();
    now.excluded = saved_keys_.excluded;
    tls_set_local_dispatch_key_set(now);
  }
  InferenceMode(const InferenceMode&) = delete;
  InferenceMode& operator=(const InferenceMode&) = delete;
  bool is_innermost() const { return ticket_.is_innermost(); }

 private:
  AutogradState saved_state_;
  LocalDispatchKeySet saved_keys_;
  detail::GuardTicket ticket_;
};

// Excludes the autograd keys and ADInplaceOrView for the guard's lifetime: what
// an autograd kernel uses to call the op below itself.
class SY_API AutoDispatchBelowADInplaceOrView {
 public:
  AutoDispatchBelowADInplaceOrView() = default;

 private:
  ExcludeDispatchKeyGuard guard_{kAutogradKeys | DispatchKeySet(DispatchKey::ADInplaceOrView)};
};

}  // namespace sy
