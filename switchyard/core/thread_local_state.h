// All of a thread's dispatch-relevant state, and the snapshot that carries it
// to other threads.
//
// A thread's state is: its included and excluded dispatch keys, its autograd
// state (grad mode, inference mode), and one extension slot per component that
// registered one (the tracer's state). A ThreadLocalState captures all of it on
// construction; a ThreadLocalStateGuard installs a snapshot on the calling thread
// and restores exactly what was there when it goes out of scope, also when an
// exception passes through. Work handed to another thread (parallel/parallel.h)
// runs under the caller's snapshot.
//
// Extension slots: a component keeps its per-thread state behind a pointer to
// ThreadLocalSlot, a base class with a virtual deepcopy(). Setting a slot always
// deep-copies; a snapshot holds its own copies; installing a snapshot gives the
// thread fresh copies, so changes made under it reach neither the snapshot nor the
// thread that captured it. The owner reads and changes its state in place through
// slot_accessor().
//
// Everything here acts on the calling thread only. The thread-local variables
// are this file's and local_dispatch_key_set.h's own; other code reads and
// writes them through the functions here.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "switchyard/core/export.h"
#include "switchyard/core/local_dispatch_key_set.h"

namespace sy {

// ---- autograd state ---------------------------------------------------------------

// The calling thread's grad and inference modes. All-zero is the default: grad
// enabled, inference mode off (See Note [Zero-initialised thread state]).
struct AutogradState {
  bool grad_disabled = false;
  bool inference_mode = false;
  bool operator==(const AutogradState&) const = default;
};

namespace detail {
SY_API extern constinit thread_local AutogradState tls_autograd_state SY_TLS_MODEL;
}  // namespace detail

// The calling thread's autograd state, and replacing it.
inline AutogradState tls_autograd_state() { return detail::tls_autograd_state; }
inline void tls_set_autograd_state(AutogradState s) { detail::tls_autograd_state = s; }

// ---- extension slots ----------------------------------------------------------------

// The base of a component's per-thread state. deepcopy() gives an independent
// copy (a component whose state must be shared across threads, like a graph
// being traced, copies a handle to it). The check hooks are called by the core
// before actions a component may forbid; each throws to veto (an sy::Error
// naming the component and the action) and does nothing by default.
class SY_API ThreadLocalSlot {
 public:
  virtual ~ThreadLocalSlot() = default;
  virtual std::unique_ptr<ThreadLocalSlot> deepcopy() const = 0;

  // Before a single-level autograd.Function runs; returns the level it runs at.
  virtual int64_t check_supports_single_level_autograd_function() const { return 0; }
  // Before a C++ autograd function runs.
  virtual void check_supports_cpp_autograd_function() const {}
  // Before requires_grad_() changes a tensor in place.
  virtual void check_supports_inplace_requires_grad() const {}
  // Before retain_grad().
  virtual void check_supports_retain_grad() const {}
};

inline constexpr int kMaxThreadLocalSlots = 8;

// A component's slot number, from register_thread_local_slot().
struct SlotId {
  int index = -1;
};

// Reserves a slot for a component named `name` (for messages); call once, at
// start-up. More than kMaxThreadLocalSlots components is an error.
SY_API SlotId register_thread_local_slot(std::string name);

// A deep copy of the calling thread's state in `slot`, or null when unset.
SY_API std::unique_ptr<ThreadLocalSlot> get_slot_copy(SlotId slot);
// Sets the calling thread's state in `slot` to a deep copy of `state` (null clears it).
SY_API void set_slot(SlotId slot, const ThreadLocalSlot* state);
// The calling thread's state in `slot` itself (null when unset), for its owner
// to read and change in place.
SY_API ThreadLocalSlot* slot_accessor(SlotId slot);

// Runs `hook` on every slot the calling thread has set (the core's veto points).
SY_API void check_slots_support_inplace_requires_grad();
SY_API void check_slots_support_retain_grad();
SY_API void check_slots_support_cpp_autograd_function();
// The highest level any slot reports, 0 when none.
SY_API int64_t check_slots_support_single_level_autograd_function();

namespace detail {
// The calling thread's slots as raw pointers, and which are set (bit i: slot i).
struct RawSlots {
  std::array<ThreadLocalSlot*, kMaxThreadLocalSlots> slots;
  uint32_t set_mask;
};
SY_API extern constinit thread_local RawSlots tls_slots SY_TLS_MODEL;
}  // namespace detail

// Whether the calling thread has any slot set: one load, for the veto points on
// hot paths to skip the hooks when no component is active.
inline bool tls_any_slot_set() { return detail::tls_slots.set_mask != 0; }

// ---- the snapshot -----------------------------------------------------------------

// A snapshot of all of the calling thread's state, taken on construction.
// Copyable and immutable; cheap when no slot is set (three words).
class SY_API ThreadLocalState {
 public:
  ThreadLocalState();

  LocalDispatchKeySet dispatch_keys() const { return keys_; }
  AutogradState autograd_state() const { return autograd_; }
  // The snapshot's copy of `slot`, or null.
  const ThreadLocalSlot* slot(SlotId slot) const;

  // Installs `state` on the calling thread, replacing what is there (prefer
  // ThreadLocalStateGuard, which restores).
  static void set_thread_local_state(const ThreadLocalState& state);

 private:
  friend class ThreadLocalStateGuard;
  using FreshCopies = std::array<std::unique_ptr<ThreadLocalSlot>, kMaxThreadLocalSlots>;
  // New deep copies of the snapshot's slots, for installing on a thread.
  FreshCopies fresh_slot_copies() const;
  struct SlotCopies {
    std::array<std::shared_ptr<const ThreadLocalSlot>, kMaxThreadLocalSlots> slots;
  };
  LocalDispatchKeySet keys_;
  AutogradState autograd_;
  uint32_t slot_mask_ = 0;
  std::shared_ptr<const SlotCopies> slots_;  // null when no slot is set
};

// Installs a snapshot on the calling thread for the guard's lifetime, then
// restores exactly the state it found: keys, autograd state, and the very slot
// objects (not copies), also when an exception passes through. Guards end in
// order, on their own thread (Note [Guards end in order]); is_innermost() tells.
class SY_API ThreadLocalStateGuard {
 public:
  explicit ThreadLocalStateGuard(const ThreadLocalState& state);
  ~ThreadLocalStateGuard() noexcept(false);
  ThreadLocalStateGuard(const ThreadLocalStateGuard&) = delete;
  ThreadLocalStateGuard& operator=(const ThreadLocalStateGuard&) = delete;
  bool is_innermost() const { return ticket_.is_innermost(); }

 private:
  LocalDispatchKeySet saved_keys_;
  AutogradState saved_autograd_;
  detail::RawSlots saved_slots_;
  bool slots_swapped_ = false;
  detail::GuardTicket ticket_;
};

}  // namespace sy
