// The cpu allocator's per-thread cache of large blocks (Note [Large block cache]
// in tensor/storage.cpp): a block freed on a thread serves that thread's next
// request of about its size, also one dropped on another thread (which hands it
// back to its owner); a request with more than an eighth to spare does not take
// it; blocks never serve two live tensors at once, under random sizes on several
// threads (run under ThreadSanitizer too). AddressSanitizer builds keep no blocks, so that a use
// after free is caught: there the reuse tests are skipped.
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "switchyard/ops/ops.h"
#include "switchyard/tensor/tensor.h"

namespace sy {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCacheOn = false;
#else
constexpr bool kCacheOn = true;
#endif

constexpr int64_t kLargeFloats = int64_t{1} << 20;  // 4 MiB, well above the cache's floor

const void* data_of(const Tensor& t) { return t.data_ptr<float>(); }

TEST(LargeBlockCache, AFreedBlockServesTheNextTensorOfItsSize) {
  if (!kCacheOn) GTEST_SKIP() << "AddressSanitizer builds keep no blocks";
  const void* first = nullptr;
  {
    Tensor t = empty({kLargeFloats});
    first = data_of(t);
  }
  Tensor again = empty({kLargeFloats});
  EXPECT_EQ(data_of(again), first);
  // A little smaller still fits the kept block (at most an eighth to spare).
  const void* second = data_of(again);
  again = Tensor();
  Tensor smaller = empty({kLargeFloats - kLargeFloats / 16});
  EXPECT_EQ(data_of(smaller), second);
}

TEST(LargeBlockCache, ARequestFarSmallerThanTheBlockLeavesItKept) {
  if (!kCacheOn) GTEST_SKIP() << "AddressSanitizer builds keep no blocks";
  const void* big = nullptr;
  {
    Tensor t = empty({kLargeFloats});
    big = data_of(t);
  }
  // Half the size: the kept block would waste half of itself, so a new one is made
  // (and the kept block, still held by the cache, cannot be the new one).
  Tensor half = empty({kLargeFloats / 2});
  EXPECT_NE(data_of(half), big);
  // The kept block is still there for a request of its size.
  Tensor full = empty({kLargeFloats});
  EXPECT_EQ(data_of(full), big);
}

TEST(LargeBlockCache, ABlockDroppedOnAnotherThreadReturnsToItsOwner) {
  if (!kCacheOn) GTEST_SKIP() << "AddressSanitizer builds keep no blocks";
  // The storage's last reference is dropped on the other thread, which queues it to
  // its owner (docs/tensor.md, biased counts); the owner frees it when it next makes
  // a tensor, and the block joins the owner's cache.
  Tensor t = empty({kLargeFloats});
  const void* block = data_of(t);
  std::thread other([t = std::move(t)]() mutable { t = Tensor(); });
  other.join();
  Tensor small = empty({1});  // settles this thread's queue
  Tensor again = empty({kLargeFloats});
  EXPECT_EQ(data_of(again), block);
}

TEST(LargeBlockCache, LiveTensorsNeverShareABlock) {
  // Each thread keeps up to 12 tensors of random large sizes alive, each filled with
  // its own value, replacing one at random each step; every tensor must still hold its
  // value when it is replaced, whichever thread's cache its block came from.
  constexpr int kThreads = 3;
  constexpr int kSteps = 300;
  std::vector<std::vector<Tensor>> handoff(kThreads);
  std::vector<std::thread> threads;
  std::vector<int> bad(kThreads, 0);
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([w, &bad, &handoff] {
      std::mt19937 rng(1234 + w);
      std::uniform_int_distribution<int64_t> size(1 << 10, 400 << 10);  // 4 KiB .. 1.6 MiB
      std::vector<Tensor> live(12);
      std::vector<float> value(12, 0.0f);
      for (int step = 0; step < kSteps; ++step) {
        const size_t slot = rng() % live.size();
        if (live[slot].defined()) {
          const float* p = live[slot].data_ptr<float>();
          const int64_t n = live[slot].numel();
          for (int64_t i = 0; i < n; i += 997) bad[w] += p[i] != value[slot];
          if (p[n - 1] != value[slot]) ++bad[w];
        }
        live[slot] = empty({size(rng)});
        value[slot] = static_cast<float>(w * kSteps + step);
        live[slot].fill_(value[slot]);
      }
      // Leave the rest to be dropped by the main thread (blocks cross threads).
      handoff[w] = std::move(live);
    });
  }
  for (auto& t : threads) t.join();
  for (int w = 0; w < kThreads; ++w) EXPECT_EQ(bad[w], 0) << "thread " << w;
  handoff.clear();
}

}  // namespace
}  // namespace sy
