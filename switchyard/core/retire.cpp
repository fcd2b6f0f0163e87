#include "switchyard/core/retire.h"

#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <vector>

namespace sy::detail {

// Note [Membarrier reclamation]
// A call stores its thread's seq (odd: inside) and then loads the table pointer,
// with only a compiler barrier between them. A writer stores the new table
// pointer, then calls membarrier(PRIVATE_EXPEDITED), which runs a full memory
// barrier on every CPU currently running a thread of this process. After it, any
// call that loaded the old pointer has its odd seq visible to the writer, and any
// call that starts later loads the new pointer. So the old table is safe to free
// once each thread seen odd has moved its seq on (left that outermost call).

constinit thread_local CallTracking tls_call_tracking SY_TLS_MODEL = {0, false, {0}};

namespace {

bool membarrier_available() {
  static const bool available = [] {
    const long cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0);
    if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) return false;
    return syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0) == 0;
  }();
  return available;
}

struct Waiter {
  CallTracking* thread;
  uint64_t seq;
};

struct Retired {
  std::function<void()> deleter;
  std::vector<Waiter> waiting_on;
};

class Reclaimer {
 public:
  void add_thread(CallTracking* t) {
    std::lock_guard<std::mutex> lock(mu_);
    threads_.push_back(t);
  }

  void remove_thread(CallTracking* t) {
    std::vector<std::function<void()>> ready;
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::erase(threads_, t);
      // An exiting thread is in no call, so nothing can wait on it any more.
      for (Retired& r : waiting_) {
        std::erase_if(r.waiting_on, [t](const Waiter& w) { return w.thread == t; });
      }
      take_ready(ready);
    }
    for (auto& d : ready) d();
  }

  // Only queues: the caller may hold locks that a deleter (a Python callable's,
  // say) must not run under. Collection happens in collect().
  void retire(std::function<void()> deleter) {
    std::lock_guard<std::mutex> lock(mu_);
    unpublished_.push_back(std::move(deleter));
  }

  // Batches retirements so that a burst of registrations (a library of a thousand
  // ops at start-up) pays for one membarrier per batch, not one per table.
  void collect_if_full() {
    bool full;
    {
      std::lock_guard<std::mutex> lock(mu_);
      full = unpublished_.size() >= kBatch;
    }
    if (full) collect();
  }

  size_t collect() {
    std::vector<std::function<void()>> ready;
    size_t remaining;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // Without a successful membarrier the ordering is not there: keep the
      // batch (a leak, never a use-after-free).
      if (!unpublished_.empty() && membarrier_available() &&
          syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) == 0) {
        std::vector<Waiter> busy;
        for (CallTracking* t : threads_) {
          const uint64_t seq = t->seq.load(std::memory_order_acquire);
          if (seq & 1) busy.push_back({t, seq});
        }
        for (auto& d : unpublished_) waiting_.push_back({std::move(d), busy});
        unpublished_.clear();
      }
      take_ready(ready);
      remaining = waiting_.size() + unpublished_.size();
    }
    for (auto& d : ready) d();
    return remaining;
  }

 private:
  // Moves out the deleters whose waited-on threads have all left their calls.
  void take_ready(std::vector<std::function<void()>>& ready) {
    for (Retired& r : waiting_) {
      std::erase_if(r.waiting_on, [](const Waiter& w) {
        return w.thread->seq.load(std::memory_order_acquire) != w.seq;
      });
    }
    auto it = std::stable_partition(waiting_.begin(), waiting_.end(),
                                    [](const Retired& r) { return !r.waiting_on.empty(); });
    for (auto r = it; r != waiting_.end(); ++r) ready.push_back(std::move(r->deleter));
    waiting_.erase(it, waiting_.end());
  }

  static constexpr size_t kBatch = 64;
  std::mutex mu_;
  std::vector<CallTracking*> threads_;
  std::vector<std::function<void()>> unpublished_;
  std::vector<Retired> waiting_;
};

// Never destroyed: threads and static destructors may retire until the very end.
Reclaimer& reclaimer() {
  static Reclaimer* r = new Reclaimer;
  return *r;
}

// Note [Unregistering at thread exit]
// A thread leaves the reclaimer's list from a pthread key destructor, which
// glibc runs after every C++ thread_local destructor; an op called from one of
// those is still tracked. A call made later still (from another key's
// destructor) registers the thread again, and glibc repeats key destructors.
// The main thread is never removed: its TLS outlives static destructors.
pthread_key_t g_exit_key;

void on_thread_exit(void* tracking) {
  tls_call_tracking.registered = false;
  reclaimer().remove_thread(static_cast<CallTracking*>(tracking));
}

}  // namespace

void register_calling_thread() {
  static const bool key_made = pthread_key_create(&g_exit_key, &on_thread_exit) == 0;
  tls_call_tracking.registered = true;
  reclaimer().add_thread(&tls_call_tracking);
  if (key_made) pthread_setspecific(g_exit_key, &tls_call_tracking);
}

void retire(std::function<void()> deleter) { reclaimer().retire(std::move(deleter)); }

void collect_retired_if_full() { reclaimer().collect_if_full(); }

size_t collect_retired() { return reclaimer().collect(); }

}  // namespace sy::detail
