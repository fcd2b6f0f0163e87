// Calls on many threads while other threads add and remove libraries: every
// call either runs a kernel or fails with a DispatchError, never crashes, and
// never runs a kernel whose library is gone. Bounded in time; CI runs it under
// ThreadSanitizer.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "switchyard/switchyard.h"

namespace sy {
namespace {

using namespace std::chrono_literals;

TEST(DispatchStress, CallsRunWhileLibrariesComeAndGo) {
  Library def(Library::DEF, "stress");
  def.def("f(Tensor self) -> int");
  Library cpu(Library::IMPL, "stress", DispatchKey::CPU);
  cpu.impl("f", [](const Tensor&) -> int64_t { return 1; });
  auto op = Dispatcher::singleton().find_op("stress::f").typed<int64_t(const Tensor&)>();

  std::atomic<bool> stop{false};
  std::atomic<int64_t> calls{0}, errors{0}, churn{0};
  // A kernel's state that must be alive whenever the kernel runs.
  struct Alive {
    std::atomic<int> magic{42};
    ~Alive() { magic.store(0); }
  };

  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      const Tensor t = make_tensor({1}, kFloat32, kCPU);
      const Tensor meta = make_tensor({1}, kFloat32, kMeta);
      while (!stop.load(std::memory_order_relaxed)) {
        try {
          const int64_t r = op.call(t) + op.call(meta);
          EXPECT_TRUE(r == 2 || r == 1 + 42) << r;
        } catch (const DispatchError&) {
          errors.fetch_add(1, std::memory_order_relaxed);
        }
        calls.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      while (!stop.load(std::memory_order_relaxed)) {
        auto alive = std::make_shared<Alive>();
        // One thread churns the Meta kernel the callers use, the other a key
        // no call reaches (each op takes one kernel a key).
        const DispatchKey key = i == 0 ? DispatchKey::Meta : DispatchKey::PrivateUse1;
        Library lib(Library::IMPL, "stress", key);
        lib.impl("f", [alive](const Tensor&) -> int64_t { return alive->magic.load(); });
        // A fallback on a key no call carries still rebuilds every table.
        Library other(Library::IMPL, "_", i == 0 ? DispatchKey::Batched : DispatchKey::GradWrapper);
        other.fallback(CppFunction::fallthrough());
        churn.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  // Short-lived threads call and exit while the churn goes on: each one joins
  // and leaves the reclaimer's list mid-flight.
  threads.emplace_back([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      std::thread brief([&] {
        const Tensor t = make_tensor({1}, kFloat32, kCPU);
        EXPECT_EQ(op.call(t), 1);
        calls.fetch_add(1, std::memory_order_relaxed);
      });
      brief.join();
    }
  });
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (std::chrono::steady_clock::now() < deadline &&
         (calls.load() < 20000 || churn.load() < 200)) {
    std::this_thread::yield();
  }
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_GT(calls.load(), 0);
  EXPECT_GT(churn.load(), 0);
  // Calls on the meta tensor fail while no Meta kernel is registered.
  EXPECT_LE(errors.load(), calls.load());
}

}  // namespace
}  // namespace sy
