#include "switchyard/tensor/storage.h"

#include <array>
#include <atomic>
#include <cstdlib>
#include <new>

#include "switchyard/core/error.h"

namespace sy {
namespace {

class CpuAllocator final : public Allocator {
 public:
  DataPtr allocate(size_t nbytes) override {
    if (nbytes == 0) return {};
    constexpr size_t kAlignment = 64;
    void* p = std::aligned_alloc(kAlignment, (nbytes + kAlignment - 1) / kAlignment * kAlignment);
    SY_CHECK(p != nullptr, Error, "cpu allocator: out of memory allocating {} bytes", nbytes);
    return {p, [](void* data, void*) { std::free(data); }, nullptr};
  }
};

CpuAllocator g_cpu_allocator;

std::array<std::atomic<Allocator*>, kNumDeviceTypes> g_allocators{
    &g_cpu_allocator, nullptr, nullptr, nullptr};

}  // namespace

void set_allocator(DeviceType type, Allocator* allocator) {
  g_allocators[static_cast<int>(type)].store(allocator, std::memory_order_release);
}

Allocator& get_allocator(DeviceType type) {
  Allocator* a = g_allocators[static_cast<int>(type)].load(std::memory_order_acquire);
  SY_CHECK(a != nullptr, Error,
           "no allocator for device type '{}': a backend outside the library must call "
           "sy::set_allocator(DeviceType::{}, ...) before tensors are made there.",
           to_string(type), type == DeviceType::PrivateUse1 ? "PrivateUse1" : "...");
  return *a;
}

StorageImpl::StorageImpl(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  if (device.type() != DeviceType::Meta) data_ = get_allocator(device.type()).allocate(nbytes);
}

StorageImpl::StorageImpl(DataPtr data, size_t nbytes, Device device)
    : data_(data), nbytes_(nbytes), device_(device) {}

StorageImpl::~StorageImpl() {
  if (data_.deleter) data_.deleter(data_.data, data_.context);
}

}  // namespace sy
