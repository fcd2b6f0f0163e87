// Storage: the bytes behind one or more tensors. Views share one storage and
// differ in sizes, strides and offset. The bytes come from the allocator of the
// storage's device type; meta storages have a size and no bytes.
//
// Thread-safety: an allocator may be called from any thread at once; setting an
// allocator is meant for start-up, before tensors of that device exist.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "switchyard/core/export.h"
#include "switchyard/core/intrusive_ptr.h"
#include "switchyard/tensor/device.h"

namespace sy {

// Memory and the function that frees it.
struct DataPtr {
  void* data = nullptr;
  void (*deleter)(void* data, void* context) = nullptr;
  void* context = nullptr;
};

// Hands out memory for one device type.
class SY_API Allocator {
 public:
  virtual ~Allocator() = default;
  // `nbytes` bytes, aligned to at least 64; nbytes == 0 may return null data.
  virtual DataPtr allocate(size_t nbytes) = 0;
};

// Installs the allocator for `type` (PrivateUse1 has none until one is set).
// The allocator must outlive every storage it allocated.
SY_API void set_allocator(DeviceType type, Allocator* allocator);
// The allocator for `type`; throws sy::Error naming the device when none is set.
SY_API Allocator& get_allocator(DeviceType type);

class SY_API StorageImpl : public RefCounted {
 public:
  // `nbytes` bytes on `device`, from its allocator (none for meta).
  StorageImpl(size_t nbytes, Device device);
  // Wraps memory the caller allocated; `data.deleter` frees it (may be null: not owned).
  StorageImpl(DataPtr data, size_t nbytes, Device device);
  ~StorageImpl() override;

  // Allocated from a per-thread cache of small blocks (storage.cpp).
  static void* operator new(size_t bytes);
  static void operator delete(void* p, size_t bytes);

  void* data() const { return data_.data; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  // The version counter of these bytes: every in-place op on a tensor that
  // views them bumps it (the ADInplaceOrView kernels do), so every view of one
  // storage sees one counter. Autograd compares it with the version a saved
  // tensor had when it was saved. Relaxed: two threads writing one storage at
  // once race on the data anyway; a reader sees some recent count.
  uint32_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() const {
    version_.store(version_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

 private:
  DataPtr data_;
  size_t nbytes_;
  Device device_;
  mutable std::atomic<uint32_t> version_{0};
};

using Storage = IntrusivePtr<StorageImpl>;

}  // namespace sy
