// Small blocks from the calling thread's cache (See Note [Small block cache] in
// storage.cpp): what tensors, storages and autograd's per-op objects (nodes,
// autograd state) are allocated from, since they come and go with every op.
//
// A block of `bytes` (at most kMaxSmallBlock) is 64-byte aligned; it must be
// freed with the same `bytes`, on any thread.
#pragma once

#include <cstddef>
#include <new>

#include "switchyard/core/export.h"

namespace sy::detail {

inline constexpr size_t kMaxSmallBlock = 1024;

SY_API void* small_block_alloc(size_t bytes);
SY_API void small_block_free(void* p, size_t bytes);

// An allocator for std::allocate_shared and containers: small blocks when they
// fit, the heap otherwise.
template <typename T>
struct SmallBlockAllocator {
  using value_type = T;
  SmallBlockAllocator() = default;
  template <typename U>
  SmallBlockAllocator(const SmallBlockAllocator<U>&) {}  // NOLINT: rebinding
  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes <= kMaxSmallBlock) return static_cast<T*>(small_block_alloc(bytes));
    return static_cast<T*>(::operator new(bytes));
  }
  void deallocate(T* p, size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes <= kMaxSmallBlock) {
      small_block_free(p, bytes);
    } else {
      ::operator delete(p);
    }
  }
  template <typename U>
  bool operator==(const SmallBlockAllocator<U>&) const {
    return true;
  }
};

}  // namespace sy::detail
