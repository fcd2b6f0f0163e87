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
SY_API extern constinit thread_local RawLocalDispatchKeySet tls_local_dispatch_key_set
    SY_TLS_MODEL;
}  // namespace detail

// The calling thread's included and excluded sets.
inline LocalDispatchKeySet tls_local_dispatch_key_set() {
  const auto& raw = detail::tls_local_dispatch_key_set;
  return {DispatchKeySet::from_raw(raw.included), DispatchKeySet::from_raw(raw.excluded)};
}
// Replaces both sets of the calling thread.
inline void tls_set_local_dispatch_key_set(LocalDispatchKeySet s) {
  detail::tls_local_dispatch_key_set = {s.included.raw(), s.excluded.raw()};
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
// scope, then restores exactly the included set it found.
class SY_API IncludeDispatchKeyGuard {
 public:
  explicit IncludeDispatchKeyGuard(DispatchKeySet keys)
      : saved_(detail::tls_local_dispatch_key_set.included) {
    detail::tls_local_dispatch_key_set.included = saved_ | keys.raw();
  }
  explicit IncludeDispatchKeyGuard(DispatchKey k) : IncludeDispatchKeyGuard(DispatchKeySet(k)) {}
  ~IncludeDispatchKeyGuard() { detail::tls_local_dispatch_key_set.included = saved_; }
  IncludeDispatchKeyGuard(const IncludeDispatchKeyGuard&) = delete;
  IncludeDispatchKeyGuard& operator=(const IncludeDispatchKeyGuard&) = delete;

 private:
  uint64_t saved_;
};

// Adds `keys` to the calling thread's excluded set until the guard goes out of
// scope, then restores exactly the excluded set it found.
class SY_API ExcludeDispatchKeyGuard {
 public:
  explicit ExcludeDispatchKeyGuard(DispatchKeySet keys)
      : saved_(detail::tls_local_dispatch_key_set.excluded) {
    detail::tls_local_dispatch_key_set.excluded = saved_ | keys.raw();
  }
  explicit ExcludeDispatchKeyGuard(DispatchKey k) : ExcludeDispatchKeyGuard(DispatchKeySet(k)) {}
  ~ExcludeDispatchKeyGuard() { detail::tls_local_dispatch_key_set.excluded = saved_; }
  ExcludeDispatchKeyGuard(const ExcludeDispatchKeyGuard&) = delete;
  ExcludeDispatchKeyGuard& operator=(const ExcludeDispatchKeyGuard&) = delete;

 private:
  uint64_t saved_;
};

// Replaces both of the calling thread's sets until the guard goes out of scope,
// then restores both exactly.
class SY_API ForceDispatchKeyGuard {
 public:
  explicit ForceDispatchKeyGuard(LocalDispatchKeySet s) : saved_(tls_local_dispatch_key_set()) {
    tls_set_local_dispatch_key_set(s);
  }
  ~ForceDispatchKeyGuard() { tls_set_local_dispatch_key_set(saved_); }
  ForceDispatchKeyGuard(const ForceDispatchKeyGuard&) = delete;
  ForceDispatchKeyGuard& operator=(const ForceDispatchKeyGuard&) = delete;

 private:
  LocalDispatchKeySet saved_;
};

}  // namespace sy
