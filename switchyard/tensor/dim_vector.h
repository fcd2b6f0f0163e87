// DimVector: sizes or strides of a tensor. Holds up to kInlineDims values
// without allocating, which covers almost every tensor; more spill to the heap.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>

#include "switchyard/tensor/array_ref.h"

namespace sy {

class DimVector {
 public:
  static constexpr size_t kInlineDims = 5;

  DimVector() = default;
  explicit DimVector(IntArrayRef values) { assign(values); }
  DimVector(size_t n, int64_t value) {
    resize(n);
    std::fill(data(), data() + n, value);
  }
  DimVector(const DimVector& o) { assign(o.ref()); }
  DimVector& operator=(const DimVector& o) {
    if (this != &o) assign(o.ref());
    return *this;
  }
  DimVector& operator=(IntArrayRef values) {
    assign(values);
    return *this;
  }

  void assign(IntArrayRef values) {
    resize(values.size());
    if (!values.empty()) std::memmove(data(), values.data(), values.size() * sizeof(int64_t));
  }
  // Sets the size; the values are unspecified afterwards (callers overwrite them).
  void resize(size_t n) {
    if (n > kInlineDims && n > heap_capacity_) {
      heap_.reset(new int64_t[n]);
      heap_capacity_ = n;
    }
    size_ = n;
  }

  // Appends or removes the last value, keeping the others.
  void push_back(int64_t v) {
    resize_keeping(size_ + 1);
    data()[size_ - 1] = v;
  }
  void pop_back() { resize_keeping(size_ - 1); }
  bool empty() const { return size_ == 0; }
  int64_t back() const { return data()[size_ - 1]; }

  int64_t* data() { return size_ > kInlineDims ? heap_.get() : inline_; }
  const int64_t* data() const { return size_ > kInlineDims ? heap_.get() : inline_; }
  size_t size() const { return size_; }
  int64_t& operator[](size_t i) { return data()[i]; }
  int64_t operator[](size_t i) const { return data()[i]; }
  IntArrayRef ref() const { return IntArrayRef(data(), size_); }
  operator IntArrayRef() const { return ref(); }  // NOLINT

 private:
  void resize_keeping(size_t n) {
    const size_t keep = std::min(n, size_);
    if (n > kInlineDims) {
      if (n > heap_capacity_) {
        std::unique_ptr<int64_t[]> grown(new int64_t[std::max<size_t>(n, 2 * heap_capacity_)]);
        std::memcpy(grown.get(), data(), keep * sizeof(int64_t));
        heap_ = std::move(grown);
        heap_capacity_ = std::max<size_t>(n, 2 * heap_capacity_);
      } else if (size_ <= kInlineDims) {
        std::memcpy(heap_.get(), inline_, keep * sizeof(int64_t));
      }
    } else if (size_ > kInlineDims) {
      std::memcpy(inline_, heap_.get(), keep * sizeof(int64_t));
    }
    size_ = n;
  }

  int64_t inline_[kInlineDims] = {};
  size_t size_ = 0;
  size_t heap_capacity_ = 0;
  std::unique_ptr<int64_t[]> heap_;
};

}  // namespace sy
