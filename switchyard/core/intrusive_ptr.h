// Reference counting kept inside the object (tensors, storages, boxed payloads).
// A counted object starts with one reference that the first IntrusivePtr adopts,
// so making one costs no atomic operation; copies increment, destruction
// decrements, and the last reference deletes the object through its virtual
// destructor. Safe to copy and destroy from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

#include "switchyard/core/export.h"

namespace sy {

class RefCounted {
 public:
  RefCounted() = default;
  RefCounted(const RefCounted&) = delete;
  RefCounted& operator=(const RefCounted&) = delete;
  virtual ~RefCounted() = default;

  // The number of references; exact only when no other thread is copying.
  uint32_t use_count() const { return refcount_.load(std::memory_order_relaxed) & kCountMask; }

  void incref() const {
    if (SY_UNLIKELY(refcount_.fetch_add(1, std::memory_order_relaxed) == (kWrapped | 1))) {
      wrapped_count_edge(true);
    }
  }
  // Drops one reference and deletes the object when it was the last.
  void decref() const {
    const uint32_t before = refcount_.fetch_sub(1, std::memory_order_acq_rel);
    if (before == 1) {
      delete this;
    } else if (SY_UNLIKELY(before == (kWrapped | 2))) {
      wrapped_count_edge(false);  // may free the object: nothing touches it after
    }
  }

 protected:
  // Note [A wrapped object's count]
  // An object with a foreign wrapper that owns one of its references (a
  // tensor's Python object) is marked; then the count reports each crossing
  // of one: wrapped_count_edge(true) when it goes from one to two (something
  // besides the wrapper holds the object now) and wrapped_count_edge(false)
  // when it goes back to one. The owner uses it to hold its wrapper exactly
  // while others hold the object (python/tensor.cpp). The check is one compare
  // of the value the atomic operation returns anyway; an unmarked object never
  // takes the branch. The mark lives in the count's top bit.

  // Marks the object; returns its count at that moment.
  uint32_t mark_wrapped() const {
    return refcount_.fetch_or(kWrapped, std::memory_order_acq_rel) & kCountMask;
  }
  void unmark_wrapped() const { refcount_.fetch_and(kCountMask, std::memory_order_acq_rel); }
  // The count of a marked object crossed one (Note [A wrapped object's count]).
  virtual void wrapped_count_edge(bool /*hold*/) const {}

 private:
  static constexpr uint32_t kWrapped = 1u << 31;
  static constexpr uint32_t kCountMask = kWrapped - 1;
  mutable std::atomic<uint32_t> refcount_{1};
};

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
