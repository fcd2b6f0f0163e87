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

// Note [Large block cache]
// A large block comes from glibc, which hands blocks of 128 KiB and more
// straight from mmap and gives them back to the kernel on free (or trims its
// heap's top once more than twice that is free). The next tensor of that size
// then faults in every page again: on a virtual machine where a page fault
// costs several microseconds, `x.abs().log()` over 1M floats took 20x as long
// as its arithmetic, in this library and in libtorch alike, depending only on
// what the process had allocated before. Smaller blocks take glibc's aligned
// path (split chunks, consolidation), which was ~6% of a small MLP training
// step. So each thread also keeps up to kKeepLarge freed blocks of kMinLarge
// bytes or more, kLargeBudget bytes in all, and serves a request from the
// smallest kept block that holds it with at most an eighth to spare. The scan is
// linear: over a full list it added about 25 ns to making a 4 KiB tensor (bench_ops
// Empty4K: 68-69 ns with 32 blocks kept, 44 ns with one; libtorch 273-302 ns). A block that
// does not fit pushes out the oldest ones; one larger than the budget goes back
// to glibc. The block's capacity travels in its DataPtr's context, so a block
// freed on another thread joins that thread's cache with the right size (a
// thread's cache begins with its first tensor; a thread that has made none
// gives blocks back to glibc). Blocks kept by a thread go back to glibc when it
// exits.
constexpr size_t kMinLarge = size_t{4} << 10;
constexpr size_t kKeepLarge = 32;
constexpr size_t kLargeBudget = size_t{64} << 20;

struct LargeBlock {
  void* data;
  size_t bytes;
};

struct BlockCache {
  std::array<std::array<void*, kKeepPerClass>, kClasses> blocks{};
  std::array<size_t, kClasses> count{};
  // Oldest first.
  std::array<LargeBlock, kKeepLarge> large{};
  size_t large_count = 0;
  size_t large_bytes = 0;

  // A kept block of at least `bytes` and at most an eighth more, removed from
  // the cache, or {nullptr, 0}.
  LargeBlock take_large(size_t bytes) {
    size_t best = large_count;
    for (size_t i = 0; i < large_count; ++i) {
      const size_t have = large[i].bytes;
      if (have >= bytes && have - bytes <= bytes / 8 &&
          (best == large_count || have < large[best].bytes)) {
        best = i;
      }
    }
    if (best == large_count) return {nullptr, 0};
    const LargeBlock b = large[best];
    for (size_t i = best + 1; i < large_count; ++i) large[i - 1] = large[i];
    --large_count;
    large_bytes -= b.bytes;
    return b;
  }
  // Keeps `b`, giving the oldest kept blocks back to glibc to make room.
  void keep_large(LargeBlock b) {
    if (b.bytes > kLargeBudget) {
      std::free(b.data);
      return;
    }
    size_t drop = 0;
    while (large_count - drop == kKeepLarge || large_bytes + b.bytes > kLargeBudget) {
      std::free(large[drop].data);
      large_bytes -= large[drop].bytes;
      ++drop;
    }
    for (size_t i = drop; i < large_count; ++i) large[i - drop] = large[i];
    large_count -= drop;
    large[large_count++] = b;
    large_bytes += b.bytes;
  }

  ~BlockCache() {
    for (size_t c = 0; c < kClasses; ++c) {
      for (size_t i = 0; i < count[c]; ++i) std::free(blocks[c][i]);
    }
    for (size_t i = 0; i < large_count; ++i) std::free(large[i].data);
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

// The deleter of blocks of kMinLarge bytes or more; `capacity` is the block's size.
void free_cached_large(void* data, void* capacity) {
  BlockCache* cache = tls_cache;
  if (kUseCacheForFree && cache != nullptr) {
    cache->keep_large({data, reinterpret_cast<size_t>(capacity)});
    return;
  }
  std::free(data);
}

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
    if (rounded < kMinLarge) {
      return {checked(std::aligned_alloc(kAlignment, rounded), nbytes), &free_large, nullptr};
    }
    // Note [Large block cache]
    BlockCache* cache = kUseCache ? block_cache() : nullptr;
    if (cache != nullptr) {
      const LargeBlock b = cache->take_large(rounded);
      if (b.data != nullptr) return {b.data, &free_cached_large, reinterpret_cast<void*>(b.bytes)};
    }
    return {checked(std::aligned_alloc(kAlignment, rounded), nbytes), &free_cached_large,
            reinterpret_cast<void*>(rounded)};
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
