// SmallVector: a vector that keeps up to N elements inline and spills to the
// heap beyond that. Autograd nodes hold a few edges and input descriptions
// each; keeping them inline saves two allocations a recorded op.
//
// Only what the autograd layer needs: push_back/emplace_back, resize, clear,
// indexing and iteration. Not thread-safe, like std::vector.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace sy::autograd::detail {

template <typename T, size_t N>
class SmallVector {
 public:
  SmallVector() = default;
  SmallVector(const SmallVector& o) {
    for (const T& v : o) push_back(v);
  }
  SmallVector(SmallVector&& o) noexcept {
    for (T& v : o) emplace_back(std::move(v));
    o.clear();
  }
  SmallVector& operator=(const SmallVector& o) {
    if (this != &o) {
      clear();
      for (const T& v : o) push_back(v);
    }
    return *this;
  }
  SmallVector& operator=(SmallVector&& o) noexcept {
    if (this != &o) {
      clear();
      for (T& v : o) emplace_back(std::move(v));
      o.clear();
    }
    return *this;
  }
  ~SmallVector() { clear(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* data() { return heap_ ? heap_->data() : inline_data(); }
  const T* data() const { return heap_ ? heap_->data() : inline_data(); }
  T& operator[](size_t i) { return data()[i]; }
  const T& operator[](size_t i) const { return data()[i]; }
  T* begin() { return data(); }
  T* end() { return data() + size_; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }
  T& back() { return data()[size_ - 1]; }
  T& front() { return data()[0]; }
  const T& front() const { return data()[0]; }
  using value_type = T;
  using reference = T&;
  using const_reference = const T&;
  using size_type = size_t;

  template <typename... A>
  T& emplace_back(A&&... args) {
    if (heap_) {
      heap_->emplace_back(std::forward<A>(args)...);
    } else if (size_ < N) {
      new (inline_data() + size_) T(std::forward<A>(args)...);
    } else {
      spill();
      heap_->emplace_back(std::forward<A>(args)...);
    }
    ++size_;
    return back();
  }
  void push_back(const T& v) { emplace_back(v); }
  void push_back(T&& v) { emplace_back(std::move(v)); }

  // Grows with default-constructed elements or shrinks to `n`.
  void resize(size_t n) {
    while (size_ > n) pop_back();
    while (size_ < n) emplace_back();
  }
  void reserve(size_t n) {
    if (n > N && !heap_) spill(n);
  }
  void pop_back() {
    if (heap_) {
      heap_->pop_back();
    } else {
      inline_data()[size_ - 1].~T();
    }
    --size_;
  }
  void clear() {
    if (heap_) {
      heap_.reset();
    } else {
      for (size_t i = 0; i < size_; ++i) inline_data()[i].~T();
    }
    size_ = 0;
  }

 private:
  T* inline_data() { return std::launder(reinterpret_cast<T*>(storage_)); }
  const T* inline_data() const { return std::launder(reinterpret_cast<const T*>(storage_)); }
  void spill(size_t capacity = 2 * N) {
    auto heap = std::make_unique<std::vector<T>>();
    heap->reserve(capacity > N ? capacity : 2 * N);
    for (size_t i = 0; i < size_; ++i) {
      heap->emplace_back(std::move(inline_data()[i]));
      inline_data()[i].~T();
    }
    heap_ = std::move(heap);
  }

  alignas(T) unsigned char storage_[N * sizeof(T)];
  size_t size_ = 0;
  std::unique_ptr<std::vector<T>> heap_;
};

}  // namespace sy::autograd::detail
