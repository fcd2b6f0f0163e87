// Tensors and counted objects moved between threads at random while they are
// used: copied, viewed, boxed, handed to launch(), dropped anywhere, by threads
// that come and go. Every tensor holds one value everywhere, so a tensor freed
// while still referenced (and its memory reused) reads wrong; at the end every
// object must be freed exactly once. Bounded by an operation count and a
// deadline; CI runs it under ThreadSanitizer and AddressSanitizer.
#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "switchyard/core/intrusive_ptr.h"
#include "switchyard/ops/ops.h"
#include "switchyard/parallel/parallel.h"
#include "switchyard/tensor/ivalue.h"
#include "switchyard/tensor/tensor.h"

namespace sy {
namespace {

using namespace std::chrono_literals;

std::atomic<int64_t> g_alive{0};
constexpr uint32_t kMagic = 0x5eedf00d;

struct Tracked : RefCounted {
  explicit Tracked(int64_t v) : value(v) { g_alive.fetch_add(1, std::memory_order_relaxed); }
  ~Tracked() override {
    EXPECT_EQ(magic, kMagic) << "freed twice";
    magic = 0;
    g_alive.fetch_sub(1, std::memory_order_relaxed);
  }
  uint32_t magic = kMagic;
  int64_t value;
};

// One thing a slot holds: a tensor of one value everywhere, and a counted
// object holding the same value.
struct Item {
  Tensor tensor;
  IntrusivePtr<Tracked> object;
  int64_t value = 0;
};

// Checks an item against its value; never throws out of a worker.
bool intact(const Item& it) {
  if (!it.tensor.defined() || !it.object) return false;
  if (it.object->magic != kMagic || it.object->value != it.value) return false;
  const float* p = it.tensor.data_ptr<float>();
  for (int64_t i = 0; i < it.tensor.numel(); ++i) {
    if (p[i] != static_cast<float>(it.value)) return false;
  }
  return true;
}

class Slots {
 public:
  static constexpr size_t kCount = 32;

  // Moves the item out of slot i (leaving it empty).
  Item take(size_t i) {
    std::lock_guard<std::mutex> lock(mu_[i]);
    return std::move(items_[i]);
  }
  // A copy of slot i's item (copies of both handles).
  Item copy(size_t i) {
    std::lock_guard<std::mutex> lock(mu_[i]);
    return items_[i];
  }
  // Puts `it` in slot i; what was there is dropped by the caller, after the lock.
  Item put(size_t i, Item it) {
    std::lock_guard<std::mutex> lock(mu_[i]);
    std::swap(items_[i], it);
    return it;
  }
  void clear() {
    for (size_t i = 0; i < kCount; ++i) take(i);
  }

 private:
  std::array<std::mutex, kCount> mu_;
  std::array<Item, kCount> items_;
};

Item make_item(int64_t value, int64_t n) {
  Item it;
  it.value = value;
  it.tensor = full({n}, Scalar(static_cast<double>(value)));
  it.object = IntrusivePtr<Tracked>::make(value);
  return it;
}

// Uses `it` the ways ops do: handle copies, views (sharing the storage),
// boxing into IValues and lists. Returns whether everything read right.
bool use(const Item& it) {
  if (!it.tensor.defined()) return true;  // an empty slot
  if (!intact(it)) return false;
  Tensor copy = it.tensor;
  Tensor view = it.tensor.view({-1});
  IValue boxed(copy);
  IValue list(std::vector<Tensor>{view, copy, it.tensor});
  IValue again = list;
  const auto& tensors = again.to_tensor_list();
  if (tensors.size() != 3 || !tensors[0].is_same(view)) return false;
  IntrusivePtr<Tracked> o = it.object;
  return o->value == it.value && boxed.to_tensor_ref().is_same(it.tensor) && intact(it);
}

TEST(RefcountStress, TensorsMovedBetweenThreadsAtRandomStayIntactAndAreFreedOnce) {
  const int64_t alive_before = g_alive.load();
  Slots slots;
  std::atomic<int> failures{0};
  std::atomic<int64_t> next_value{1};
  const auto deadline = std::chrono::steady_clock::now() + 4s;
  constexpr int kThreads = 4;
  constexpr int kOpsPerThread = 20000;

  auto worker = [&](unsigned seed, int ops) {
    std::mt19937 rng(seed);
    // Joined and waited for at the end, so that they may outlive the op that started them.
    std::vector<std::thread> started;
    std::vector<Future<void>> launched;
    auto pick = [&] { return std::uniform_int_distribution<size_t>(0, Slots::kCount - 1)(rng); };
    for (int op = 0; op < ops && std::chrono::steady_clock::now() < deadline; ++op) {
      switch (std::uniform_int_distribution<int>(0, 9)(rng)) {
        case 0:
        case 1: {  // make a new item and leave it in a slot
          Item old =
              slots.put(pick(), make_item(next_value++, 1 + static_cast<int64_t>(rng() % 40)));
          if (!use(old)) ++failures;
          break;
        }
        case 2:
        case 3: {  // take one, use it, move it to another slot
          Item it = slots.take(pick());
          if (!use(it)) ++failures;
          Item old = slots.put(pick(), std::move(it));
          if (!use(old)) ++failures;
          break;
        }
        case 4:
        case 5: {  // copy one and use the copy
          Item it = slots.copy(pick());
          if (!use(it)) ++failures;
          break;
        }
        case 6: {  // take one and drop it here
          Item it = slots.take(pick());
          if (!use(it)) ++failures;
          break;
        }
        case 7: {  // hand one to a launched task, which moves it to a slot
          Item it = slots.copy(pick());
          const size_t to = pick();
          auto done = launch([&slots, &failures, it = std::move(it), to]() mutable {
            if (!use(it)) ++failures;
            Item old = slots.put(to, std::move(it));
            if (!use(old)) ++failures;
          });
          if (rng() % 2) {
            done.wait();
          } else {
            launched.push_back(std::move(done));
          }
          break;
        }
        case 8: {  // a short-lived thread takes one, makes one, leaves both behind
          Item it = slots.take(pick());
          const size_t a = pick(), b = pick();
          std::thread t([&, it = std::move(it), a, b]() mutable {
            if (!use(it)) ++failures;
            Item made = make_item(next_value++, 8);
            Item copy_of_made = made;
            Item old1 = slots.put(a, std::move(made));
            Item old2 = slots.put(b, std::move(it));
            if (!use(old1) || !use(old2) || !use(copy_of_made)) ++failures;
          });
          if (rng() % 2) {
            t.join();
          } else {
            started.push_back(std::move(t));  // may still run while others drop what it made
          }
          break;
        }
        default: {  // give up the bias on one, then keep using it
          Item it = slots.copy(pick());
          if (it.tensor.defined()) it.tensor.impl()->unbias_with_storage();
          if (it.object) it.object->unbias();
          if (!use(it)) ++failures;
          break;
        }
      }
    }
    for (auto& f : launched) f.wait();
    for (auto& t : started) t.join();
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, 1234u + t, kOpsPerThread);
  worker(99u, kOpsPerThread);  // this thread too: it lives on, so it settles its queue
  for (auto& t : threads) t.join();
  slots.clear();
  // Drops queued on this thread (the only owner still alive) wait for it to settle them.
  detail::settle_deferred_releases();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(g_alive.load(), alive_before) << "objects leaked (or freed twice)";
}

// ---- the wrapper rule, without Python --------------------------------------------------
// Note [One wrapper per tensor] (python/tensor.cpp) modelled with a mutex for
// the GIL: a Wrapper owns one reference to its object and counts its holders
// (Python references); the object holds its wrapper while anything else
// holds the object (its count crosses one: wrapped_count_edge). Marking a new
// object takes the plain-store path (Note [Marking and freeing without a
// locked instruction]) and a dying wrapper frees its object directly when it
// is the last holder, while other threads copy and drop C++ references.

std::mutex g_gil;
struct Wrapper;

struct Wrappable : RefCounted {
  explicit Wrappable(int64_t v) : value(v) { g_alive.fetch_add(1, std::memory_order_relaxed); }
  ~Wrappable() override {
    EXPECT_EQ(magic, kMagic) << "freed twice";
    magic = 0;
    g_alive.fetch_sub(1, std::memory_order_relaxed);
  }
  uint32_t mark() const { return mark_wrapped(); }
  bool release() const { return unmark_wrapped_and_free_if_last(); }
  void wrapped_count_edge(bool hold) const override;

  uint32_t magic = kMagic;
  int64_t value;
  Wrapper* wrapper = nullptr;  // under g_gil, as TensorImpl::python_wrapper
};
using WrappablePtr = IntrusivePtr<Wrappable>;

struct Wrapper {
  WrappablePtr ref;
  int holders = 1;  // under g_gil
};

// Drops one holder of `w` (under g_gil); the last one deallocates it.
void drop_holder(Wrapper* w) {
  if (--w->holders > 0) return;
  if (w->ref->wrapper == w) {
    w->ref->wrapper = nullptr;
    if (w->ref->release()) (void)w->ref.release();  // freed: forget the handle
  }
  delete w;  // drops its reference unless it was forgotten
}

void Wrappable::wrapped_count_edge(bool hold) const {
  std::lock_guard<std::mutex> gil(g_gil);
  if (hold) {
    ++wrapper->holders;
  } else {
    drop_holder(wrapper);  // may free this object
  }
}

// wrap(): the object's wrapper, or a new one (under g_gil). `p` is the
// caller's own handle, moved in.
Wrapper* wrap(WrappablePtr p) {
  std::lock_guard<std::mutex> gil(g_gil);
  if (Wrapper* w = p->wrapper) {
    ++w->holders;
    return w;
  }
  auto* w = new Wrapper;
  Wrappable* obj = p.get();
  w->ref = std::move(p);
  obj->wrapper = w;
  if (obj->mark() > 1) ++w->holders;  // others hold it: it holds its wrapper
  return w;
}

void drop(Wrapper* w) {
  if (w == nullptr) return;
  std::lock_guard<std::mutex> gil(g_gil);
  drop_holder(w);
}

// Two kinds of slots: holders of wrappers (Python references) and C++ references.
class WrapperSlots {
 public:
  static constexpr size_t kCount = 16;
  Wrapper* take_wrapper(size_t i) {
    std::lock_guard<std::mutex> lock(mu_[i]);
    return std::exchange(wrappers_[i], nullptr);
  }
  void put_wrapper(size_t i, Wrapper* w) {
    Wrapper* old;
    {
      std::lock_guard<std::mutex> lock(mu_[i]);
      old = std::exchange(wrappers_[i], w);
    }
    drop(old);
  }
  WrappablePtr take_ref(size_t i) {
    std::lock_guard<std::mutex> lock(mu_[i]);
    return std::move(refs_[i]);
  }
  void put_ref(size_t i, WrappablePtr p) {
    {
      std::lock_guard<std::mutex> lock(mu_[i]);
      std::swap(refs_[i], p);
    }
    // the old reference drops here, outside the slot's lock
  }
  void clear() {
    for (size_t i = 0; i < kCount; ++i) {
      drop(take_wrapper(i));
      take_ref(i);
    }
  }

 private:
  std::array<std::mutex, kCount> mu_;
  std::array<Wrapper*, kCount> wrappers_{};
  std::array<WrappablePtr, kCount> refs_;
};

bool intact(const Wrappable* p, int64_t value = -1) {
  return p != nullptr && p->magic == kMagic && (value < 0 || p->value == value);
}

TEST(RefcountStress, WrappedObjectsUsedFromManyThreadsAreFreedOnce) {
  const int64_t alive_before = g_alive.load();
  WrapperSlots slots;
  std::atomic<int> failures{0};
  std::atomic<int64_t> next_value{1};
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  constexpr int kThreads = 4;
  constexpr int kOpsPerThread = 30000;

  auto worker = [&](unsigned seed, int ops) {
    std::mt19937 rng(seed);
    std::vector<std::thread> started;
    auto pick = [&] {
      return std::uniform_int_distribution<size_t>(0, WrapperSlots::kCount - 1)(rng);
    };
    for (int op = 0; op < ops && std::chrono::steady_clock::now() < deadline; ++op) {
      switch (std::uniform_int_distribution<int>(0, 7)(rng)) {
        case 0:
        case 1: {  // a new result, wrapped at once (marked by plain stores)
          const int64_t v = next_value++;
          Wrapper* w = wrap(WrappablePtr::make(v));
          if (!intact(w->ref.get(), v)) ++failures;
          slots.put_wrapper(pick(), w);
          break;
        }
        case 2: {  // C++ takes a reference from a wrapper it was handed (a stash)
          Wrapper* w = slots.take_wrapper(pick());
          if (w == nullptr) break;
          WrappablePtr copy = w->ref;  // the caller holds the wrapper meanwhile
          if (!intact(copy.get())) ++failures;
          slots.put_ref(pick(), std::move(copy));
          if (rng() % 2) {
            drop(w);
          } else {
            slots.put_wrapper(pick(), w);
          }
          break;
        }
        case 3: {  // a C++ reference comes back to Python (its wrapper, or a new one)
          WrappablePtr p = slots.take_ref(pick());
          if (!p) break;
          if (!intact(p.get())) ++failures;
          slots.put_wrapper(pick(), wrap(std::move(p)));
          break;
        }
        case 4: {  // another Python reference to a wrapper
          Wrapper* w = slots.take_wrapper(pick());
          if (w == nullptr) break;
          {
            std::lock_guard<std::mutex> gil(g_gil);
            ++w->holders;
          }
          slots.put_wrapper(pick(), w);
          slots.put_wrapper(pick(), w);
          break;
        }
        case 5: {  // a Python reference dies
          drop(slots.take_wrapper(pick()));
          break;
        }
        case 6: {  // a C++ reference is copied, used and dropped elsewhere
          WrappablePtr p = slots.take_ref(pick());
          if (!p) break;
          WrappablePtr again = p;
          std::thread t([p = std::move(p), &failures]() mutable {
            if (!intact(p.get())) ++failures;
            WrappablePtr q = p;
          });
          if (rng() % 2) {
            t.join();
          } else {
            started.push_back(std::move(t));
          }
          slots.put_ref(pick(), std::move(again));
          break;
        }
        default: {  // a C++ reference is dropped here
          WrappablePtr p = slots.take_ref(pick());
          if (p && !intact(p.get())) ++failures;
          break;
        }
      }
    }
    for (auto& t : started) t.join();
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, 4321u + t, kOpsPerThread);
  worker(77u, kOpsPerThread);
  for (auto& t : threads) t.join();
  slots.clear();
  detail::settle_deferred_releases();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(g_alive.load(), alive_before) << "objects leaked (or freed twice)";
}

}  // namespace
}  // namespace sy
