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

// Note [A wrapped object's count]: a marked object reports each crossing of
// one, whichever thread copies or drops the reference.
struct Wrapped : RefCounted {
  Wrapped() { g_alive.fetch_add(1); }
  ~Wrapped() override { g_alive.fetch_sub(1); }
  uint32_t mark() const { return mark_wrapped(); }
  void unmark() const { unmark_wrapped(); }
  bool unmark_and_free_if_last() const { return unmark_wrapped_and_free_if_last(); }
  void wrapped_count_edge(bool hold) const override { (hold ? ups : downs).fetch_add(1); }
  mutable std::atomic<int> ups{0};
  mutable std::atomic<int> downs{0};
};
using WrappedPtr = IntrusivePtr<Wrapped>;

TEST_F(BiasedCounts, AMarkedObjectReportsEachCrossingOfOne) {
  WrappedPtr p = WrappedPtr::make();
  ASSERT_EQ(p->mark(), 1u);  // made here: marking unbiases it
  {
    WrappedPtr q = p;  // 1 -> 2
    WrappedPtr r = p;  // 2 -> 3: no crossing
    EXPECT_EQ(p->ups.load(), 1);
    EXPECT_EQ(p->use_count(), 3u);
  }  // 3 -> 2 -> 1
  EXPECT_EQ(p->downs.load(), 1);
  on_other_thread([&] {
    WrappedPtr q = p;  // 1 -> 2 on another thread
  });                  // and back
  EXPECT_EQ(p->ups.load(), 2);
  EXPECT_EQ(p->downs.load(), 2);
  // Handed to another thread and dropped there after the wrapper's reference.
  WrappedPtr away = p;
  EXPECT_EQ(p->ups.load(), 3);
  p->unmark();
  p.reset();
  on_other_thread([&] { away.reset(); });
  EXPECT_EQ(alive(), 0);
}

// Note [Marking and freeing without a locked instruction]: the only reference,
// on its owner, is marked by plain stores, and the object ends up as merged and
// marked as through the RMWs.
TEST_F(BiasedCounts, MarkingTheOnlyReferenceMergesAndMarksIt) {
  WrappedPtr p = WrappedPtr::make();
  ASSERT_EQ(p->mark(), 1u);
  EXPECT_EQ(p->use_count(), 1u);
  on_other_thread([&] {
    WrappedPtr q = p;  // counted in the shared word: 1 -> 2 and back
  });
  EXPECT_EQ(p->ups.load(), 1);
  EXPECT_EQ(p->downs.load(), 1);
  {
    WrappedPtr q = p;  // and on the thread that made it, too
  }
  EXPECT_EQ(p->ups.load(), 2);
  EXPECT_EQ(p->downs.load(), 2);
  p->unmark();
  p.reset();
  EXPECT_EQ(alive(), 0);
}

TEST_F(BiasedCounts, MarkingWithOtherReferencesReportsTheirCount) {
  WrappedPtr p = WrappedPtr::make();
  WrappedPtr q = p;  // a second reference on the owner: the RMW path
  EXPECT_EQ(p->mark(), 2u);
  WrappedPtr r = WrappedPtr::make();
  WrappedPtr away = r;
  on_other_thread([&] { WrappedPtr keep = std::move(away); });  // dropped elsewhere: queued
  EXPECT_EQ(r->mark(), 1u);  // the queue is settled first, then marked by RMW
  q.reset();
  p->unmark();
  p.reset();
  r->unmark();
  r.reset();
  EXPECT_EQ(alive(), 0);
}

TEST_F(BiasedCounts, TheLastReferenceOfAMarkedObjectIsFreedWithoutADrop) {
  WrappedPtr p = WrappedPtr::make();
  ASSERT_EQ(p->mark(), 1u);
  EXPECT_TRUE(p->unmark_and_free_if_last());
  (void)p.release();  // freed: forget the handle
  EXPECT_EQ(alive(), 0);
}

TEST_F(BiasedCounts, AMarkedObjectWithOtherReferencesIsOnlyUnmarked) {
  WrappedPtr p = WrappedPtr::make();
  ASSERT_EQ(p->mark(), 1u);
  WrappedPtr other = p;  // 1 -> 2
  EXPECT_EQ(p->ups.load(), 1);
  EXPECT_FALSE(p->unmark_and_free_if_last());
  p.reset();  // 2 -> 1, unmarked: no crossing reported
  EXPECT_EQ(p.get(), nullptr);
  EXPECT_EQ(other->downs.load(), 0);
  EXPECT_EQ(alive(), 1);
  on_other_thread([&] { other.reset(); });  // merged: freed wherever dropped
  EXPECT_EQ(alive(), 0);
}

TEST_F(BiasedCounts, AnObjectBiasedToAnotherLiveThreadIsNotMarked) {
  WrappedPtr made;
  std::atomic<bool> release{false};
  std::atomic<bool> ready{false};
  std::thread owner([&] {
    made = WrappedPtr::make();
    ready.store(true);
    while (!release.load()) std::this_thread::yield();
  });
  while (!ready.load()) std::this_thread::yield();
  EXPECT_EQ(made->mark(), 0u);
  WrappedPtr q = made;  // counted, and no crossing reported
  EXPECT_EQ(made->ups.load(), 0);
  q.reset();
  made.reset();
  release.store(true);
  owner.join();
  EXPECT_EQ(alive(), 0);
}

TEST_F(BiasedCounts, CrossingsFromManyThreadsPairUp) {
  WrappedPtr p = WrappedPtr::make();  // p plays the wrapper's reference
  ASSERT_EQ(p->mark(), 1u);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&p] {
      for (int i = 0; i < 2000; ++i) {
        WrappedPtr q = p;
        WrappedPtr r = q;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  // Every rise above one came back down: as many ups as downs, at least one.
  EXPECT_GE(p->ups.load(), 1);
  EXPECT_EQ(p->ups.load(), p->downs.load());
  EXPECT_EQ(p->use_count(), 1u);
  p->unmark();
  p.reset();
  EXPECT_EQ(alive(), 0);
}

}  // namespace
}  // namespace sy
