// Reference counting kept inside the object (tensors, storages, boxed payloads).
// A counted object starts with one reference that the first IntrusivePtr adopts;
// copies add a reference, destruction drops one, and the last reference deletes
// the object through its virtual destructor. Safe to copy and destroy from any
// thread.
//
// The counts are biased (Note [Biased reference counts] in refcount.cpp, and
// docs/tensor.md): the thread that made an object counts its own references
// with plain loads and stores, other threads count theirs in a second, atomic
// count, and the two are merged once the owner's count drops to zero. So
// copying and dropping a handle on the thread that made it has no locked
// instruction.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

#include "switchyard/core/export.h"

namespace sy {

class RefCounted;

namespace detail {
struct RefSettler;  // refcount.cpp

// A thread that owns counted objects: the queue other threads leave the
// references they drop on, and how many objects still count on it. Lives until
// its thread has ended and no object names it any more.
struct RefOwner {
  std::atomic<RefCounted*> deferred{nullptr};  // a stack, linked through the objects
  // Objects biased to this thread that are not yet merged, plus one while the
  // thread lives. Only the owner changes it (plain stores) until the thread ends.
  std::atomic<int64_t> owned{1};
  uint32_t id = 0;
};

// The calling thread's identity for biased counts.
struct RefThread {
  uint32_t id;  // kRefUnregistered, kRefUnbiased, or an owner id (never 0)
  RefOwner* owner;
};
SY_API extern constinit thread_local RefThread tls_ref_thread SY_TLS_MODEL;

// Thread ids: 0 marks an object no thread owns; these two mark threads that
// own nothing (so no object's owner id ever equals them).
inline constexpr uint32_t kRefUnbiased = 0xFFFFFFFEu;
inline constexpr uint32_t kRefUnregistered = 0xFFFFFFFFu;

// Registers the calling thread as an owner; returns its id, or kRefUnbiased if
// it must not own objects (it is ending, or ids ran out).
SY_API uint32_t register_ref_thread();
// From now on objects made on the calling thread are not biased, and objects
// it owned are settled as for an ended thread. For pool workers, whose objects
// usually die elsewhere while they sleep.
SY_API void stop_biasing_this_thread();
// Settles the references other threads dropped on objects the calling thread
// owns (freeing those that reach zero). Runs by itself when the thread frees
// an object it owns, makes a tensor (TensorImpl's constructor) or ends.
SY_API void settle_deferred_releases();
// settle_deferred_releases() if anything waits: one load when nothing does.
inline void settle_deferred_releases_if_any() {
  const RefOwner* o = tls_ref_thread.owner;
  if (SY_UNLIKELY(o != nullptr && o->deferred.load(std::memory_order_relaxed) != nullptr)) {
    settle_deferred_releases();
  }
}

}  // namespace detail

class RefCounted {
 public:
  RefCounted() {
    detail::RefThread& t = detail::tls_ref_thread;
    uint32_t id = t.id;
    if (SY_UNLIKELY(id >= detail::kRefUnbiased)) {
      if (id == detail::kRefUnregistered) id = detail::register_ref_thread();
      if (id == detail::kRefUnbiased) {
        shared_.store(kOne | kMerged, std::memory_order_relaxed);
        return;
      }
    }
    detail::RefOwner* o = t.owner;
    owner_id_.store(id, std::memory_order_relaxed);
    local_.store(1, std::memory_order_relaxed);
    link_.owner = o;
    o->owned.store(o->owned.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  RefCounted(const RefCounted&) = delete;
  RefCounted& operator=(const RefCounted&) = delete;
  virtual ~RefCounted() {
    // Still counted by its owner: a derived constructor threw, or the object
    // was never handed to a handle. Its owner must stop counting it.
    if (SY_UNLIKELY(local_.load(std::memory_order_relaxed) != 0 &&
                    owner_id_.load(std::memory_order_relaxed) != 0)) {
      forget_owner();
    }
  }

  // The number of references; exact only when no other thread is copying or
  // dropping one.
  SY_API uint32_t use_count() const;

  void incref() const {
    if (owner_id_.load(std::memory_order_relaxed) == detail::tls_ref_thread.id) {
      local_.store(local_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    } else if (SY_UNLIKELY(shared_.fetch_add(kOne, std::memory_order_relaxed) ==
                           (kMerged | kWrapped | kOne))) {
      wrapped_count_edge(true);
    }
  }
  // Drops one reference and deletes the object when it was the last.
  void decref() const {
    if (owner_id_.load(std::memory_order_relaxed) == detail::tls_ref_thread.id) {
      const uint32_t n = local_.load(std::memory_order_relaxed) - 1;
      local_.store(n, std::memory_order_relaxed);
      if (n == 0) owner_count_reached_zero();
    } else {
      decref_shared();
    }
  }

  // Gives up the bias: from now on every thread counts this object atomically,
  // and the last reference frees it wherever it is dropped. Only the owner can
  // give it up; on other threads (and for unbiased objects) this does nothing.
  // For objects about to live on another thread for good.
  SY_API void unbias() const;

 protected:
  // Note [A wrapped object's count]
  // An object with a foreign wrapper that owns one of its references (a
  // tensor's Python object) is marked; then the count reports each crossing
  // of one: wrapped_count_edge(true) when it goes from one to two (something
  // besides the wrapper holds the object now) and wrapped_count_edge(false)
  // when it goes back to one. The owner uses it to hold its wrapper exactly
  // while others hold the object (python/tensor.cpp). A biased count has no
  // single word to watch, so marking first unbiases the object: a marked
  // object is always merged, every thread counts it in shared_, and the check
  // is one compare of the value the atomic operation returns anyway; an
  // unmarked object never takes the branch. The mark is the kWrapped flag.

  // Unbiases and marks the object; returns its count at that moment, or 0 if
  // it cannot be marked: it is still biased to another thread (one that lives,
  // or one that ended before merging it), or a reference dropped elsewhere
  // waits on its owner's queue. The caller holds a reference that no other
  // thread reads meanwhile (its own handle), so a marked object's count is at
  // least one. When that reference is the only one and the calling thread
  // owns the object, marking is plain stores (Note [Marking and freeing
  // without a locked instruction] in refcount.cpp).
  SY_API uint32_t mark_wrapped() const;
  void unmark_wrapped() const { shared_.fetch_and(~kWrapped, std::memory_order_acq_rel); }
  // The wrapper's end: unmarks the object and drops the wrapper's reference,
  // whose handle no one else can read any more. Returns true when that was the
  // last reference and the object is freed (then without a locked
  // instruction): the caller forgets its handle without dropping it. Returns
  // false when other references remain; the caller then drops its own.
  SY_API bool unmark_wrapped_and_free_if_last() const;
  // The count of a marked object crossed one (Note [A wrapped object's count]).
  virtual void wrapped_count_edge(bool /*hold*/) const {}

 private:
  friend struct detail::RefSettler;

  // The shared count in the bits above the three flags.
  static constexpr int64_t kMerged = 1;   // the owner's count was added in; owner_id_ is 0
  static constexpr int64_t kQueued = 2;   // a reference waits on the owner's queue
  static constexpr int64_t kWrapped = 4;  // marked (Note [A wrapped object's count])
  static constexpr int kCountShift = 3;
  static constexpr int64_t kOne = int64_t{1} << kCountShift;

  SY_API void owner_count_reached_zero() const;
  SY_API void forget_owner() const;
  void decref_shared() const;
  SY_API void decref_unmerged(int64_t seen) const;
  // Drops a reference of a merged object (shared_ counts every reference).
  void decref_merged() const;

  // Written only by the owner thread while it lives (and once by whoever
  // settles the object after it ended); read by every thread.
  mutable std::atomic<uint32_t> owner_id_{0};
  mutable std::atomic<uint32_t> local_{0};  // the owner's references
  mutable std::atomic<int64_t> shared_{0};  // other threads' references, and the flags
  // The owner (for the thread that queues a dropped reference), then, once
  // queued, the next object on the owner's queue.
  union Link {
    detail::RefOwner* owner;
    const RefCounted* next;
  };
  mutable Link link_{nullptr};
};

inline void RefCounted::decref_merged() const {
  const int64_t before = shared_.fetch_sub(kOne, std::memory_order_acq_rel);
  if (before < 2 * kOne) {
    delete this;
  } else if (SY_UNLIKELY(before == (kMerged | kWrapped | 2 * kOne))) {
    wrapped_count_edge(false);  // may free the object: nothing touches it after
  }
}

inline void RefCounted::decref_shared() const {
  const int64_t seen = shared_.load(std::memory_order_relaxed);
  if (SY_LIKELY(seen & kMerged)) {  // kMerged is never cleared: the count is exact
    decref_merged();
    return;
  }
  decref_unmerged(seen);
}

template <typename T>
class IntrusivePtr {
 public:
  constexpr IntrusivePtr() = default;
  constexpr IntrusivePtr(std::nullptr_t) {}

  // Takes over the reference `p` was created with (or one the caller added).
  static IntrusivePtr adopt(T* p) { return IntrusivePtr(p); }
  // Makes a new object; the pointer owns its first reference.
  template <typename... Args>
  static IntrusivePtr make(Args&&... args) {
    return IntrusivePtr(new T(std::forward<Args>(args)...));
  }
  // A new reference to an object some other pointer keeps alive.
  static IntrusivePtr share(T* p) {
    if (p) p->incref();
    return IntrusivePtr(p);
  }

  IntrusivePtr(const IntrusivePtr& o) : p_(o.p_) {
    if (p_) p_->incref();
  }
  IntrusivePtr(IntrusivePtr&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  template <typename U>
  IntrusivePtr(IntrusivePtr<U>&& o) noexcept : p_(o.release()) {}
  IntrusivePtr& operator=(const IntrusivePtr& o) {
    IntrusivePtr(o).swap(*this);
    return *this;
  }
  IntrusivePtr& operator=(IntrusivePtr&& o) noexcept {
    IntrusivePtr(std::move(o)).swap(*this);
    return *this;
  }
  ~IntrusivePtr() {
    if (p_) p_->decref();
  }

  T* get() const { return p_; }
  T* operator->() const { return p_; }
  T& operator*() const { return *p_; }
  explicit operator bool() const { return p_ != nullptr; }
  bool operator==(const IntrusivePtr& o) const { return p_ == o.p_; }

  // Gives up ownership without dropping the reference.
  [[nodiscard]] T* release() { return std::exchange(p_, nullptr); }
  void reset() { IntrusivePtr().swap(*this); }
  void swap(IntrusivePtr& o) noexcept { std::swap(p_, o.p_); }

 private:
  explicit IntrusivePtr(T* p) : p_(p) {}
  T* p_ = nullptr;
};

}  // namespace sy
