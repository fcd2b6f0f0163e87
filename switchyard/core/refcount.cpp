// The slow paths of biased reference counts (intrusive_ptr.h).
//
// Note [Biased reference counts]
// A locked read-modify-write costs as much as the rest of an operator call on
// some machines, and nearly every handle is copied and dropped on the thread
// that made its object. So each object is biased to the thread that made it:
//
//   owner_id_  the owner's id (0: no owner, every thread counts atomically)
//   local_     the owner's references; only the owner changes it, with plain
//              loads and stores (std::atomic only so that readers are no race)
//   shared_    other threads' references, as count * kOne plus three flags:
//              kMerged (local_ was added in for good), kQueued (one
//              reference waits on the owner's queue) and kWrapped (only on
//              merged objects: Note [A wrapped object's count])
//
// The references alive are local_ + count, but only the sum is meaningful:
// a handle copied on the owner and dropped elsewhere adds to local_ and
// subtracts from the count, which can go below zero.
//
// Copy: the owner adds to local_; anyone else adds kOne to shared_ (relaxed).
// Drop on the owner: local_ - 1; when it reaches 0, the owner reads shared_
// (acquire). A zero word means no reference is left (below): free, with no
// locked instruction. Otherwise it merges: owner_id_ = 0, then sets kMerged
// (acq_rel), which makes the count exact from then on; it frees if the count
// was 0.
// Drop elsewhere (acq_rel): with kMerged, subtract kOne and free at zero.
// Without it, subtract kOne while the result stays >= 0 or kQueued is set;
// a drop that would take the count below zero instead sets kQueued, leaving
// the count alone, and pushes the object on its owner's queue: the queue now
// holds that reference. The owner settles its queue when it frees an object
// it owns, makes a tensor, or ends: for each object it merges local_ in (or,
// if it had merged already, just drops the queued reference), clears kQueued,
// and frees the object if the count reaches zero. Objects are queued at most
// once (kQueued is set once and only before kMerged), so the queue links
// through the object itself.
//
// Why a zero word on the owner's last drop means no reference is left. Let R
// be that read. Every drop on another thread is a release RMW on shared_, so
// R (an acquire reading the last value of a release sequence) happens after
// every drop it counts; copies it counts only add. A zero word means no flag
// and count 0, so the references created before R by operations R sees,
// minus those dropped, sum to 0 with local_ == 0: each is dropped. A
// reference R does not see was copied from one alive at that time; follow
// such copies back to the first reference, which R sees. The first copy in
// that chain that R does not see was made from a reference R sees as dropped,
// before its drop (a handle is used before it is dropped, and handles cross
// threads only through synchronisation), so that copy happens before R:
// contradiction. Hence nothing is alive, and no other thread can touch the
// object again.
//
// Ending threads. When a thread ends (or stops biasing, as pool workers do),
// it swaps its queue head for kEnded and settles what it took. A thread that
// then finds kEnded when queueing settles the object itself: the owner's
// last writes to local_ happened before the swap (release), which it read
// (acquire), and kQueued makes it the only one doing so. The RefOwner record
// lives while its thread does or an unmerged object names it (`owned`); ids
// are never reused, so a stale owner_id_ never matches a live thread. An
// object destroyed while its owner still counts it (a derived constructor
// threw) takes itself off `owned` in ~RefCounted, so the record still goes.
//
// Note [Marking and freeing without a locked instruction]
// A tensor made for Python is marked once (mark_wrapped) and, most often, freed
// when its wrapper dies with no other reference left. Both can skip the
// read-modify-write when the caller's reference is provably the only one:
//   mark: on the owner, local_ == 1 and an acquire load of shared_ reads 0:
//     plain stores make it merged and marked with count one (owner_id_ = 0,
//     shared_ = kMerged|kWrapped|kOne, the owner's `owned` - 1).
//   free: an acquire load of shared_ reads kMerged|kWrapped|kOne: delete.
// Why no other thread can be racing. In both cases the load is R of Note
// [Biased reference counts]' argument, and the word R reads says that the
// references R sees, minus those dropped, are exactly one: the caller's (for
// the mark, local_ == 1 is the owner's own count, and a zero word has no
// queued reference and count 0; for the free, kMerged makes the count exact).
// So every other reference R sees was dropped before R, and each drop on
// another thread, a release RMW, happens before R: those threads are done with
// the object. A reference R does not see was copied, following copies back,
// from one R sees; the first such copy was made either from a reference R sees
// as dropped, which places the copy before R (contradiction, as in that
// Note), or from the caller's own reference. No other thread can copy that
// one: mark_wrapped's caller passes its own handle (wrap() takes the tensor by
// value), and the wrapper's handle is read only through the wrapper, which is
// being deallocated: nobody holds a Python reference to it, and C++ code that
// borrows a wrapper's tensor holds a Python reference while it does. So no
// other thread holds, or can make, a reference: the plain stores race with no
// access, and the delete is the last one. (A drop elsewhere that took a marked
// count from two to one still touches the object in wrapped_count_edge() after
// its RMW; the hook drops the wrapper's Python reference under the GIL, and
// the wrapper is deallocated only after that, so the hook is done by then.) A thread that later
// gets the object gets it through whatever synchronisation hands over a handle, which orders the
// stores before its reads. When the load reads anything else, both fall back to the RMW paths
// (unbias + CAS, unmark + decref).
#include "switchyard/core/intrusive_ptr.h"

#include <cstdint>

namespace sy {
namespace detail {

constinit thread_local RefThread tls_ref_thread SY_TLS_MODEL = {kRefUnregistered, nullptr};

namespace {

// The queue head of an owner that has ended.
const RefCounted* ended_mark() { return reinterpret_cast<const RefCounted*>(uintptr_t{1}); }

std::atomic<uint32_t> g_next_owner_id{1};

uint32_t next_owner_id() {
  uint32_t id = g_next_owner_id.load(std::memory_order_relaxed);
  do {
    if (id >= kRefUnbiased) return kRefUnbiased;  // ran out: no more biasing
  } while (!g_next_owner_id.compare_exchange_weak(id, id + 1, std::memory_order_relaxed));
  return id;
}

void end_ref_thread();

struct RefThreadEnd {
  ~RefThreadEnd() { end_ref_thread(); }
};

}  // namespace

struct RefSettler {
  static void drop_owned(RefOwner* o) {
    if (o->owned.fetch_sub(1, std::memory_order_acq_rel) == 1) delete o;
  }

  // Settles `p`, whose queued reference its owner `o` took off its queue, or
  // that a thread found no queue for (o has ended). The caller is o's thread,
  // or o has ended.
  static void settle(const RefCounted* p, RefOwner* o) {
    if (p->owner_id_.load(std::memory_order_relaxed) == o->id) {
      // Still biased: merge the owner's references in and drop the queued one.
      const uint32_t local = p->local_.load(std::memory_order_relaxed);
      p->owner_id_.store(0, std::memory_order_relaxed);
      const int64_t old =
          p->shared_.fetch_add(int64_t{local} * RefCounted::kOne - RefCounted::kOne -
                                   RefCounted::kQueued + RefCounted::kMerged,
                               std::memory_order_acq_rel);
      drop_owned(o);
      if ((old >> RefCounted::kCountShift) + local - 1 == 0) delete p;
    } else {
      // The owner merged it already: drop the queued reference.
      const int64_t old =
          p->shared_.fetch_sub(RefCounted::kOne + RefCounted::kQueued, std::memory_order_acq_rel);
      if ((old >> RefCounted::kCountShift) == 1) delete p;
    }
  }

  // Settles every object on `o`'s queue, leaving `head_after` there.
  static void settle_queue(RefOwner* o, const RefCounted* head_after) {
    const RefCounted* p =
        o->deferred.exchange(const_cast<RefCounted*>(head_after), std::memory_order_acq_rel);
    while (p != nullptr) {
      const RefCounted* next = p->link_.next;
      settle(p, o);
      p = next;
    }
  }

  // Pushes `p` (whose kQueued this thread just set) on its owner's queue.
  static void queue_on_owner(const RefCounted* p) {
    RefOwner* o = p->link_.owner;
    RefCounted* head = o->deferred.load(std::memory_order_acquire);
    for (;;) {
      if (head == ended_mark()) {
        settle(p, o);
        return;
      }
      p->link_.next = head;
      if (o->deferred.compare_exchange_weak(head, const_cast<RefCounted*>(p),
                                            std::memory_order_release, std::memory_order_acquire)) {
        return;
      }
    }
  }
};

namespace {

void end_ref_thread() {
  RefThread& t = tls_ref_thread;
  RefOwner* me = t.owner;
  // From here on this thread counts like any other, and makes unbiased objects.
  t.id = kRefUnbiased;
  t.owner = nullptr;
  if (me == nullptr) return;
  RefSettler::settle_queue(me, ended_mark());
  RefSettler::drop_owned(me);
}

}  // namespace

uint32_t register_ref_thread() {
  RefThread& t = tls_ref_thread;
  if (t.id != kRefUnregistered) return t.id;
  const uint32_t id = next_owner_id();
  if (id == kRefUnbiased) {
    t.id = kRefUnbiased;
    return id;
  }
  auto* o = new RefOwner;
  o->id = id;
  t.owner = o;
  t.id = id;
  thread_local RefThreadEnd end_at_exit;  // constructed here, once: runs end_ref_thread
  (void)end_at_exit;
  return id;
}

void stop_biasing_this_thread() {
  RefThread& t = tls_ref_thread;
  if (t.id == kRefUnregistered) {
    t.id = kRefUnbiased;
  } else if (t.owner != nullptr) {
    end_ref_thread();
  }
}

void settle_deferred_releases() {
  if (RefOwner* me = tls_ref_thread.owner) RefSettler::settle_queue(me, nullptr);
}

}  // namespace detail

uint32_t RefCounted::use_count() const {
  const int64_t word = shared_.load(std::memory_order_relaxed);
  int64_t n = word >> RefCounted::kCountShift;
  if (word & kQueued) n -= 1;  // the queued reference was dropped
  if (!(word & kMerged)) n += local_.load(std::memory_order_relaxed);
  return n < 0 ? 0 : static_cast<uint32_t>(n);
}

void RefCounted::unbias() const {
  if (owner_id_.load(std::memory_order_relaxed) != detail::tls_ref_thread.id) return;
  detail::RefOwner* me = detail::tls_ref_thread.owner;
  const uint32_t local = local_.load(std::memory_order_relaxed);
  owner_id_.store(0, std::memory_order_relaxed);
  // The caller holds a reference, so the count stays above zero.
  shared_.fetch_add(int64_t{local} * kOne + kMerged, std::memory_order_acq_rel);
  me->owned.store(me->owned.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

uint32_t RefCounted::mark_wrapped() const {
  detail::RefThread& t = detail::tls_ref_thread;
  if (owner_id_.load(std::memory_order_relaxed) == t.id &&
      local_.load(std::memory_order_relaxed) == 1 && shared_.load(std::memory_order_acquire) == 0) {
    // The caller's reference is the only one: no other thread can reach the
    // object (Note [Marking and freeing without a locked instruction]).
    owner_id_.store(0, std::memory_order_relaxed);
    shared_.store(kMerged | kWrapped | kOne, std::memory_order_relaxed);
    t.owner->owned.store(t.owner->owned.load(std::memory_order_relaxed) - 1,
                         std::memory_order_relaxed);
    return 1;
  }
  unbias();
  // A reference this thread dropped may wait on its own queue (not on another
  // thread's: then the object was biased to that thread).
  detail::settle_deferred_releases_if_any();
  int64_t word = shared_.load(std::memory_order_relaxed);
  do {
    if (!(word & kMerged) || (word & kQueued)) return 0;
  } while (!shared_.compare_exchange_weak(word, word | kWrapped, std::memory_order_acq_rel,
                                          std::memory_order_relaxed));
  return static_cast<uint32_t>(word >> kCountShift);
}

bool RefCounted::unmark_wrapped_and_free_if_last() const {
  if (shared_.load(std::memory_order_acquire) == (kMerged | kWrapped | kOne)) {
    // Only the wrapper's reference is left, and nobody can copy it any more
    // (Note [Marking and freeing without a locked instruction]).
    delete this;
    return true;
  }
  unmark_wrapped();
  return false;
}

void RefCounted::owner_count_reached_zero() const {
  detail::RefOwner* me = detail::tls_ref_thread.owner;
  const int64_t word = shared_.load(std::memory_order_acquire);
  me->owned.store(me->owned.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  if (word == 0) {
    delete this;  // nothing else refers to it (Note [Biased reference counts])
  } else {
    owner_id_.store(0, std::memory_order_relaxed);
    const int64_t old = shared_.fetch_add(kMerged, std::memory_order_acq_rel);
    // A queued reference keeps the count above zero until it is settled.
    if ((old >> RefCounted::kCountShift) == 0) delete this;
  }
  detail::settle_deferred_releases_if_any();
}

void RefCounted::forget_owner() const {
  detail::RefOwner* o = link_.owner;  // never queued: no reference was dropped
  if (o == detail::tls_ref_thread.owner) {
    o->owned.store(o->owned.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  } else {
    detail::RefSettler::drop_owned(o);  // its thread has ended
  }
}

void RefCounted::decref_unmerged(int64_t seen) const {
  int64_t word = seen;
  for (;;) {
    if (word & kMerged) {
      decref_merged();
      return;
    }
    if ((word >> RefCounted::kCountShift) > 0 || (word & kQueued)) {
      if (shared_.compare_exchange_weak(word, word - kOne, std::memory_order_acq_rel,
                                        std::memory_order_relaxed)) {
        return;
      }
      continue;
    }
    // The owner still counts references this drop would take below zero:
    // hand ours to the owner's queue instead.
    if (shared_.compare_exchange_weak(word, word | kQueued, std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
      detail::RefSettler::queue_on_owner(this);
      return;
    }
  }
}

}  // namespace sy
