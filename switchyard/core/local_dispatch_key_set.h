// The calling thread's included and excluded dispatch keys.
//
// Every call adds the thread's included keys to the keys of its tensors and then
// removes the thread's excluded keys: exclusion wins over inclusion. Both sets
// start empty on every thread with no set-up at all (See Note [Zero-initialised
// thread state]), so a fresh thread costs nothing and behaves as the defaults say.
//
// Prefer the guards to the setters: a guard restores exactly the set it found
// when it goes out of scope, also when an exception passes through.
#pragma once

#include <exception>

#include "switchyard/core/dispatch_key_set.h"
#include "switchyard/core/export.h"

namespace sy {

// Note [Zero-initialised thread state]
// Per-thread state is a constinit thread_local POD whose all-zero value means
// "nothing included, nothing excluded". It needs no constructor, so reading it
// is a single TLS load with no init-guard check, and a thread that never touches
// switchyard pays nothing. The variable uses the initial-exec TLS model: the
// library's static TLS block is small enough for glibc's reserve even when the
// library is loaded by dlopen (the Python module).
struct LocalDispatchKeySet {
  DispatchKeySet included;
  DispatchKeySet excluded;
};

namespace detail {
struct RawLocalDispatchKeySet {
  uint64_t included;
  uint64_t excluded;
};
SY_API extern constinit thread_local RawLocalDispatchKeySet tls_local_dispatch_key_set SY_TLS_MODEL;

// How many guards of per-thread state are live on this thread: See Note
// [Guards end in order]. Not part of the dispatch state a snapshot carries.
//
// Note [Guard count apart from the key sets]
// The count is its own variable, not a third field beside `included` and
// `excluded`. When it sat right after `excluded`, GCC merged a guard's two
// closing stores (the count and the restored set) into one 16-byte store, and
// the next call's 8-byte load of the set could not be forwarded from it: the
// load waited for the store to reach the cache, about 4 ns on an Intel Xeon,
// more than the rest of an ExcludeDispatchKeyGuard. Apart, each store is
// 8 bytes and forwards to the load that follows.
SY_API extern constinit thread_local uint64_t tls_guard_depth SY_TLS_MODEL;
}  // namespace detail

// Note [Guards end in order]
// Every guard of per-thread state (the key-set guards below,
// ThreadLocalStateGuard, the grad and inference mode guards) restores the state
// it found, which is right only if guards end in the reverse order they began,
// on the thread they began on. C++ scopes ensure that; guards kept on the heap,
// or Python modes, can break it, and the thread would be left changed with no
// error. So each guard takes a ticket when it begins (its thread's guard count
// and the count's address, which names the thread) and, when it ends, checks
// that it is the innermost live guard of the calling thread. If not, it changes
// nothing and throws sy::Error saying what happened; while another exception
// is unwinding it writes the message to stderr instead (a second exception
// would end the program). The cost is an increment, a compare and a decrement.
namespace detail {
[[noreturn]] SY_API void throw_guard_out_of_order(const char* guard, bool other_thread,
                                                  uint64_t depth, uint64_t innermost);
SY_API void report_guard_out_of_order(const char* guard, bool other_thread, uint64_t depth,
                                      uint64_t innermost);

class GuardTicket {
 public:
  GuardTicket() : counter_(&tls_guard_depth), depth_(++*counter_) {}
  GuardTicket(const GuardTicket&) = delete;
  GuardTicket& operator=(const GuardTicket&) = delete;

  // Whether the guard is the innermost live guard of the calling thread.
  bool is_innermost() const { return counter_ == &tls_guard_depth && *counter_ == depth_; }
  // Ends the ticket. True when in order (the guard then restores); otherwise
  // throws, or, during unwinding, reports and returns false (the guard restores nothing).
  bool end(const char* guard) noexcept(false) {
    if (SY_LIKELY(is_innermost())) {
      --*counter_;
      return true;
    }
    const bool other_thread = counter_ != &tls_guard_depth;
    const uint64_t innermost = tls_guard_depth;
    if (std::uncaught_exceptions() == 0) {
      throw_guard_out_of_order(guard, other_thread, depth_, innermost);
    }
    report_guard_out_of_order(guard, other_thread, depth_, innermost);
    return false;
  }

 private:
  uint64_t* counter_;
  uint64_t depth_;
};
}  // namespace detail

// The calling thread's included and excluded sets.
inline LocalDispatchKeySet tls_local_dispatch_key_set() {
  const auto& raw = detail::tls_local_dispatch_key_set;
  return {DispatchKeySet::from_raw(raw.included), DispatchKeySet::from_raw(raw.excluded)};
}
// Replaces both sets of the calling thread.
inline void tls_set_local_dispatch_key_set(LocalDispatchKeySet s) {
  detail::tls_local_dispatch_key_set.included = s.included.raw();
  detail::tls_local_dispatch_key_set.excluded = s.excluded.raw();
}

// Whether the calling thread includes / excludes `k`.
inline bool tls_is_dispatch_key_included(DispatchKey k) {
  return tls_local_dispatch_key_set().included.has(k);
}
inline bool tls_is_dispatch_key_excluded(DispatchKey k) {
  return tls_local_dispatch_key_set().excluded.has(k);
}

// Adds `k` to, or removes it from, the calling thread's included / excluded set.
SY_API void tls_set_dispatch_key_included(DispatchKey k, bool included);
SY_API void tls_set_dispatch_key_excluded(DispatchKey k, bool excluded);

// Adds `keys` to the calling thread's included set until the guard goes out of
// scope, then restores exactly the included set it found. Guards end in order,
// on their own thread (Note [Guards end in order]); is_innermost() tells.
class SY_API IncludeDispatchKeyGuard {
 public:
  explicit IncludeDispatchKeyGuard(DispatchKeySet keys)
      : saved_(detail::tls_local_dispatch_key_set.included) {
    detail::tls_local_dispatch_key_set.included = saved_ | keys.raw();
  }
  explicit IncludeDispatchKeyGuard(DispatchKey k) : IncludeDispatchKeyGuard(DispatchKeySet(k)) {}
  ~IncludeDispatchKeyGuard() noexcept(false) {
    if (ticket_.end("IncludeDispatchKeyGuard"))
      detail::tls_local_dispatch_key_set.included = saved_;
  }
  IncludeDispatchKeyGuard(const IncludeDispatchKeyGuard&) = delete;
  IncludeDispatchKeyGuard& operator=(const IncludeDispatchKeyGuard&) = delete;
  bool is_innermost() const { return ticket_.is_innermost(); }

 private:
  uint64_t saved_;
  detail::GuardTicket ticket_;
};

// Adds `keys` to the calling thread's excluded set until the guard goes out of
// scope, then restores exactly the excluded set it found. Guards end in order,
// on their own thread (Note [Guards end in order]); is_innermost() tells.
class SY_API ExcludeDispatchKeyGuard {
 public:
  explicit ExcludeDispatchKeyGuard(DispatchKeySet keys)
      : saved_(detail::tls_local_dispatch_key_set.excluded) {
    detail::tls_local_dispatch_key_set.excluded = saved_ | keys.raw();
  }
  explicit ExcludeDispatchKeyGuard(DispatchKey k) : ExcludeDispatchKeyGuard(DispatchKeySet(k)) {}
  ~ExcludeDispatchKeyGuard() noexcept(false) {
    if (ticket_.end("ExcludeDispatchKeyGuard"))
      detail::tls_local_dispatch_key_set.excluded = saved_;
  }
  ExcludeDispatchKeyGuard(const ExcludeDispatchKeyGuard&) = delete;
  ExcludeDispatchKeyGuard& operator=(const ExcludeDispatchKeyGuard&) = delete;
  bool is_innermost() const { return ticket_.is_innermost(); }

 private:
  uint64_t saved_;
  detail::GuardTicket ticket_;
};

// Replaces both of the calling thread's sets until the guard goes out of scope,
// then restores both exactly (in order: Note [Guards end in order]).
class SY_API ForceDispatchKeyGuard {
 public:
  explicit ForceDispatchKeyGuard(LocalDispatchKeySet s) : saved_(tls_local_dispatch_key_set()) {
    tls_set_local_dispatch_key_set(s);
  }
  ~ForceDispatchKeyGuard() noexcept(false) {
    if (ticket_.end("ForceDispatchKeyGuard")) tls_set_local_dispatch_key_set(saved_);
  }
  ForceDispatchKeyGuard(const ForceDispatchKeyGuard&) = delete;
  ForceDispatchKeyGuard& operator=(const ForceDispatchKeyGuard&) = delete;
  bool is_innermost() const { return ticket_.is_innermost(); }

 private:
  LocalDispatchKeySet saved_;
  detail::GuardTicket ticket_;
};

}  // namespace sy
