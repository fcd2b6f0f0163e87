// Biased reference counts (Note [Biased reference counts]): each way a
// reference can leave its owner thread, and when the object is freed.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "switchyard/core/intrusive_ptr.h"
#include "switchyard/ops/ops.h"
#include "switchyard/parallel/parallel.h"
#include "switchyard/tensor/tensor.h"

namespace sy {
namespace {

std::atomic<int> g_alive{0};

struct Tracked : RefCounted {
  Tracked() { g_alive.fetch_add(1); }
  ~Tracked() override { g_alive.fetch_sub(1); }
};
using Ptr = IntrusivePtr<Tracked>;

class BiasedCounts : public ::testing::Test {
 protected:
  void SetUp() override {
    detail::settle_deferred_releases();
    base_ = g_alive.load();
  }
  int alive() const { return g_alive.load() - base_; }
  int base_ = 0;
};

// Runs fn on a new thread and waits for it to end.
template <typename F>
void on_other_thread(F fn) {
  std::thread(std::move(fn)).join();
}

TEST_F(BiasedCounts, CountsOnTheOwnerAreExact) {
  Ptr p = Ptr::make();
  {
    Ptr q = p;
    Ptr r = q;
    EXPECT_EQ(p->use_count(), 3u);
  }
  EXPECT_EQ(p->use_count(), 1u);
  p.reset();
  EXPECT_EQ(alive(), 0);
}

TEST_F(BiasedCounts, CopiesOnOtherThreadsAreCounted) {
  Ptr p = Ptr::make();
  std::vector<Ptr> kept;
  on_other_thread([&] {
    kept.push_back(p);
    kept.push_back(p);
  });
  EXPECT_EQ(p->use_count(), 3u);
  kept.clear();  // dropped on the owner: counted against the other thread's copies
  EXPECT_EQ(p->use_count(), 1u);
  p.reset();
  EXPECT_EQ(alive(), 0);
}

TEST_F(BiasedCounts, AHandleDroppedElsewhereIsFreedWhenTheOwnerSettles) {
  Ptr p = Ptr::make();
  on_other_thread([q = std::move(p)]() mutable { q.reset(); });
  // The owner (this thread) still counted that reference: the other thread
  // queued it here.
  EXPECT_EQ(alive(), 1);
  detail::settle_deferred_releases();
  EXPECT_EQ(alive(), 0);
}

TEST_F(BiasedCounts, MakingATensorSettlesTheQueue) {
  Ptr p = Ptr::make();
  on_other_thread([q = std::move(p)]() mutable { q.reset(); });
  EXPECT_EQ(alive(), 1);
  Tensor t = empty({2});
  EXPECT_EQ(alive(), 0);
}

TEST_F(BiasedCounts, TheLastDropElsewhereFreesOnceTheOwnerHasMerged) {
  Ptr p = Ptr::make();
  Ptr elsewhere;
  on_other_thread([&] { elsewhere = p; });  // counted in the shared count
  p.reset();  // the owner's count reaches zero with another reference out: merged
  EXPECT_EQ(alive(), 1);
  on_other_thread([q = std::move(elsewhere)]() mutable { q.reset(); });
  EXPECT_EQ(alive(), 0);
}

TEST_F(BiasedCounts, ObjectsOfAnEndedThreadAreFreedWhereTheyAreDropped) {
  Ptr p;
  on_other_thread([&] { p = Ptr::make(); });
  EXPECT_EQ(alive(), 1);
  Ptr q = p;
  EXPECT_EQ(p->use_count(), 2u);
  p.reset();
  q.reset();
  EXPECT_EQ(alive(), 0);
}

TEST_F(BiasedCounts, AnEndingThreadSettlesItsQueue) {
  std::atomic<int> stage{0};
  std::thread owner([&] {
    Ptr p = Ptr::make();
    std::thread([q = std::move(p)]() mutable { q.reset(); }).join();
    stage = 1;  // queued here; ending settles it
  });
  owner.join();
  EXPECT_EQ(stage.load(), 1);
  EXPECT_EQ(alive(), 0);
}

TEST_F(BiasedCounts, UnbiasedObjectsAreFreedWhereverTheLastDropIs) {
  Ptr p = Ptr::make();
  p->unbias();
  on_other_thread([q = std::move(p)]() mutable { q.reset(); });
  EXPECT_EQ(alive(), 0);
}

TEST_F(BiasedCounts, UnbiasOnAnotherThreadChangesNothing) {
  Ptr p = Ptr::make();
  Ptr q = p;
  on_other_thread([&] { p->unbias(); });
  EXPECT_EQ(p->use_count(), 2u);
  q.reset();
  p.reset();
  EXPECT_EQ(alive(), 0);
}

TEST_F(BiasedCounts, WhatAPoolWorkerMakesIsFreedWhereItIsDropped) {
  Ptr made;
  {
    auto f = launch([] { return Ptr::make(); });
    // Not get() at once: a waiter runs a task no worker has started itself.
    while (!f.ready()) std::this_thread::sleep_for(std::chrono::microseconds(20));
    made = f.get();
  }
  EXPECT_EQ(alive(), 1);
  made.reset();
  EXPECT_EQ(alive(), 0);
}

TEST_F(BiasedCounts, ManyHandlesDroppedElsewhereSettleToZero) {
  std::vector<Ptr> objects;
  for (int i = 0; i < 100; ++i) objects.push_back(Ptr::make());
  std::vector<Ptr> copies = objects;
  on_other_thread([moved = std::move(objects)]() mutable { moved.clear(); });
  EXPECT_EQ(alive(), 100);
  // The other thread's drops were queued here; the owner's own count is 1 each.
  copies.clear();
  EXPECT_EQ(alive(), 100);
  detail::settle_deferred_releases();
  EXPECT_EQ(alive(), 0);
}

}  // namespace
}  // namespace sy
