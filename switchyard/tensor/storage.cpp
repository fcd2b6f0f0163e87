#include "switchyard/tensor/storage.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

#include "switchyard/core/error.h"
#include "switchyard/tensor/small_block.h"
#include "switchyard/tensor/tensor_impl.h"

namespace sy {
namespace {

constexpr size_t kAlignment = 64;

// Note [Small block cache]
// Small tensors are made and dropped at a high rate (scalars, shapes, loop
// temporaries), and aligned_alloc is slow for them: glibc serves aligned
// requests outside its fast per-thread bins and splits chunks that later need
// consolidating. So blocks of up to kMaxCached bytes, in 64-byte size classes,
// are kept on a per-thread free list when freed and handed out again by the
// same thread: no lock, no atomic. A block freed on another thread joins that
// thread's list; lists are bounded, and a thread frees its list when it exits.
constexpr size_t kMaxCached = 1024;
constexpr size_t kClasses = kMaxCached / kAlignment;
constexpr size_t kKeepPerClass = 64;

struct BlockCache {
  std::array<std::array<void*, kKeepPerClass>, kClasses> blocks{};
  std::array<size_t, kClasses> count{};
  ~BlockCache() {
    for (size_t c = 0; c < kClasses; ++c) {
      for (size_t i = 0; i < count[c]; ++i) std::free(blocks[c][i]);
    }
  }
};

constinit thread_local BlockCache* tls_cache SY_TLS_MODEL = nullptr;
constinit thread_local bool tls_cache_gone SY_TLS_MODEL = false;

// Owns the calling thread's cache. The cache itself is on the heap: 8 KiB of
// thread_local data would not fit the static TLS space a library loaded with
// dlopen (as from Python) may use.
struct BlockCacheOwner {
  BlockCache* cache = nullptr;
  ~BlockCacheOwner() {
    tls_cache = nullptr;
    tls_cache_gone = true;
    delete cache;
  }
};

// The calling thread's cache, or null once its thread_locals are being destroyed.
BlockCache* block_cache() {
  if (tls_cache != nullptr || tls_cache_gone) return tls_cache;
  thread_local BlockCacheOwner owner;
  owner.cache = new BlockCache;
  tls_cache = owner.cache;
  return tls_cache;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kUseCacheForFree = false;
#else
constexpr bool kUseCacheForFree = true;
#endif

void free_block(void* data, void* size_class) {
  const auto c = reinterpret_cast<uintptr_t>(size_class);
  BlockCache* cache = tls_cache;
  if (kUseCacheForFree && cache != nullptr && cache->count[c] < kKeepPerClass) {
    cache->blocks[c][cache->count[c]++] = data;
    return;
  }
  std::free(data);
}

void free_large(void* data, void*) { std::free(data); }

#if defined(__SANITIZE_ADDRESS__)
// Under AddressSanitizer every block is a fresh allocation, so a use after free
// is caught rather than served from the cache.
constexpr bool kUseCache = false;
#else
constexpr bool kUseCache = true;
#endif

// A block of the cache's size class for `bytes` (<= kMaxCached).
void* cached_alloc(size_t bytes) {
  const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  const size_t c = rounded / kAlignment - 1;
  BlockCache* cache = kUseCache ? block_cache() : nullptr;
  if (cache != nullptr && cache->count[c] > 0) return cache->blocks[c][--cache->count[c]];
  void* p = std::aligned_alloc(kAlignment, rounded);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void cached_free(void* p, size_t bytes) {
  const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (kUseCache) {
    free_block(p, reinterpret_cast<void*>(static_cast<uintptr_t>(rounded / kAlignment - 1)));
  } else {
    std::free(p);
  }
}

class CpuAllocator final : public Allocator {
 public:
  DataPtr allocate(size_t nbytes) override {
    if (nbytes == 0) return {};
    const size_t rounded = (nbytes + kAlignment - 1) / kAlignment * kAlignment;
    if (rounded <= kMaxCached) {
      const size_t c = rounded / kAlignment - 1;
      void* context = reinterpret_cast<void*>(static_cast<uintptr_t>(c));
      BlockCache* cache = kUseCache ? block_cache() : nullptr;
      if (cache != nullptr && cache->count[c] > 0) {
        return {cache->blocks[c][--cache->count[c]], &free_block, context};
      }
      return {checked(std::aligned_alloc(kAlignment, rounded), nbytes), &free_block, context};
    }
    return {checked(std::aligned_alloc(kAlignment, rounded), nbytes), &free_large, nullptr};
  }

 private:
  static void* checked(void* p, size_t nbytes) {
    SY_CHECK(p != nullptr, Error, "cpu allocator: out of memory allocating {} bytes", nbytes);
    return p;
  }
};

CpuAllocator g_cpu_allocator;

std::array<std::atomic<Allocator*>, kNumDeviceTypes> g_allocators{&g_cpu_allocator, nullptr,
                                                                  nullptr, nullptr};

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

// Tensors and storages come and go with every op result; they use the same
// per-thread cache as small data blocks (Note [Small block cache]).
static_assert(sizeof(StorageImpl) <= kMaxCached && sizeof(TensorImpl) <= kMaxCached);
static_assert(detail::kMaxSmallBlock == kMaxCached);
void* detail::small_block_alloc(size_t bytes) { return cached_alloc(bytes); }
void detail::small_block_free(void* p, size_t bytes) { cached_free(p, bytes); }
void* StorageImpl::operator new(size_t bytes) { return cached_alloc(bytes); }
void StorageImpl::operator delete(void* p, size_t bytes) { cached_free(p, bytes); }
void* TensorImpl::operator new(size_t bytes) { return cached_alloc(bytes); }
void TensorImpl::operator delete(void* p, size_t bytes) { cached_free(p, bytes); }

StorageImpl::StorageImpl(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  if (device.type() == DeviceType::Meta) return;
  Allocator& a = get_allocator(device.type());
  // Most storages come from the default cpu allocator: called directly (it is final).
  data_ = &a == &g_cpu_allocator ? g_cpu_allocator.allocate(nbytes) : a.allocate(nbytes);
}

StorageImpl::StorageImpl(DataPtr data, size_t nbytes, Device device)
    : data_(data), nbytes_(nbytes), device_(device) {}

StorageImpl::~StorageImpl() {
  if (data_.deleter) data_.deleter(data_.data, data_.context);
}

}  // namespace sy
