// Safe reclamation for lock-free readers. Calls read an op's dispatch table
// without a lock while registration on other threads replaces it; the old table
// (and the kernels only it still holds) must not be freed while a call might be
// using it. Writers hand such objects to retire(); they are freed once every
// thread that was inside a call at that moment has left it.
//
// Readers pay almost nothing: a CallScope writes two thread-local counters, with
// no locked instruction and no fence. The writer side supplies the ordering with
// the membarrier system call (See Note [Membarrier reclamation]). Where the
// kernel lacks membarrier, retired objects are never freed: leaking is the safe
// side.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "switchyard/core/export.h"

namespace sy::detail {

struct CallTracking {
  uint32_t depth;             // nesting of calls on this thread, private to it
  bool registered;            // whether the retire machinery knows this thread
  std::atomic<uint64_t> seq;  // odd while inside an outermost call; read by writers
};
SY_API extern constinit thread_local CallTracking tls_call_tracking SY_TLS_MODEL;

SY_API void register_calling_thread();

// Marks the calling thread as inside a call for the scope's lifetime; reentrant.
class CallScope {
 public:
  SY_ALWAYS_INLINE CallScope() {
    CallTracking& t = tls_call_tracking;
    if (SY_UNLIKELY(!t.registered)) register_calling_thread();
    if (t.depth++ == 0) {
      t.seq.store(t.seq.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }
    std::atomic_signal_fence(std::memory_order_seq_cst);
  }
  SY_ALWAYS_INLINE ~CallScope() {
    std::atomic_signal_fence(std::memory_order_seq_cst);
    CallTracking& t = tls_call_tracking;
    if (--t.depth == 0) {
      t.seq.store(t.seq.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }
  }
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;
};

// Queues `deleter`'s object to be freed once no call that might have seen it
// is running. The caller must already have unpublished it (no new call can
// reach it). Nothing is freed here, so it is safe under any lock.
SY_API void retire(std::function<void()> deleter);

// Frees whatever retired objects are now safe and returns how many remain
// pending. Runs deleters on the calling thread: call it holding no lock.
SY_API size_t collect_retired();
// collect_retired() once a batch of retirements has built up (one membarrier a batch).
SY_API void collect_retired_if_full();

}  // namespace sy::detail
