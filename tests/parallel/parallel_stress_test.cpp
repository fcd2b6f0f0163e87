// Many tasks from several threads at once (launch, then, parallel_for,
// parallel_reduce, mixed), each submitted under random state and checking that
// it sees exactly that state, then scribbling over its worker's state. Bounded
// by a task count and a deadline; CI runs it under ThreadSanitizer.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "switchyard/autograd/grad_mode.h"
#include "switchyard/parallel/parallel.h"

namespace sy {
namespace {

using namespace std::chrono_literals;
using K = DispatchKey;

struct StressSlot : ThreadLocalSlot {
  explicit StressSlot(int v) : value(v) {}
  std::unique_ptr<ThreadLocalSlot> deepcopy() const override {
    return std::make_unique<StressSlot>(*this);
  }
  int value;
};

const SlotId kStressSlot = register_thread_local_slot("parallel_stress_test.value");

// The state a task was submitted under: one included key, grad mode, and a
// slot value (-1: slot unset).
struct Want {
  DispatchKey key;
  bool grad;
  int slot;
};

std::string describe_here() {
  const auto* s = dynamic_cast<const StressSlot*>(slot_accessor(kStressSlot));
  std::ostringstream os;
  os << "included " << to_string(tls_local_dispatch_key_set().included) << ", excluded "
     << to_string(tls_local_dispatch_key_set().excluded) << ", grad " << GradMode::is_enabled()
     << ", inference " << is_inference_mode_enabled() << ", slot " << (s ? s->value : -1);
  return os.str();
}

bool sees_exactly(const Want& w) {
  const auto* s = dynamic_cast<const StressSlot*>(slot_accessor(kStressSlot));
  const LocalDispatchKeySet keys = tls_local_dispatch_key_set();
  return keys.included == DispatchKeySet(w.key) && keys.excluded.empty() &&
         GradMode::is_enabled() == w.grad && !is_inference_mode_enabled() &&
         (s ? s->value : -1) == w.slot;
}

bool sees_defaults() {
  const LocalDispatchKeySet keys = tls_local_dispatch_key_set();
  return keys.included.empty() && keys.excluded.empty() && GradMode::is_enabled() &&
         !is_inference_mode_enabled() && slot_accessor(kStressSlot) == nullptr;
}

class Failures {
 public:
  void add(const std::string& what) {
    count_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(mu_);
    if (first_.empty()) first_ = what;
  }
  int count() const { return count_.load(); }
  std::string first() {
    std::lock_guard<std::mutex> lock(mu_);
    return first_;
  }

 private:
  std::atomic<int> count_{0};
  std::mutex mu_;
  std::string first_;
};

TEST(ParallelStress, EveryTaskSeesExactlyItsOwnState) {
  constexpr int kMaxTasks = 2000;
  constexpr int kSubmitters = 3;
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  const DispatchKey keys[] = {K::Tracer, K::Batched, K::GradWrapper, K::Python};

  std::atomic<int> submitted{0}, checked{0};
  Failures task_failures, caller_failures;

  // The check every piece of work runs, then the mess it leaves behind: a
  // worker must not carry any of it into its next task.
  auto check = [&](const Want& w, int kind) {
    if (!sees_exactly(w)) {
      task_failures.add("a task of kind " + std::to_string(kind) + " submitted under {" +
                        to_string(DispatchKeySet(w.key)) + ", grad " + std::to_string(w.grad) +
                        ", slot " + std::to_string(w.slot) + "}, saw {" + describe_here() + "}");
    }
    checked.fetch_add(1, std::memory_order_relaxed);
  };
  auto check_and_scribble = [&](const Want& w, int kind, uint32_t noise) {
    check(w, kind);
    GradMode::set_enabled(noise & 1);
    tls_set_dispatch_key_included(keys[(noise >> 1) % 4], true);
    tls_set_dispatch_key_excluded(K::AutogradCPU, (noise >> 4) & 1);
    if ((noise >> 5) & 1) {
      const StressSlot other(static_cast<int>(noise % 1000) + 5000);
      set_slot(kStressSlot, &other);
    } else if (auto* s = dynamic_cast<StressSlot*>(slot_accessor(kStressSlot))) {
      s->value = -7;
    }
  };

  // Chunks must run under a guard on the pool, not inline on the caller.
  const int threads = get_num_threads();
  if (threads < 2) set_num_threads(2);

  std::vector<std::thread> submitters;
  for (int t = 0; t < kSubmitters; ++t) {
    submitters.emplace_back([&, t] {
      std::mt19937 rng(1234u + static_cast<unsigned>(t));
      std::vector<Future<int>> pending;
      auto drain = [&] {
        for (auto& f : pending) {
          try {
            f.get();
          } catch (const std::exception& e) {
            task_failures.add(std::string("task threw: ") + e.what());
          }
        }
        pending.clear();
      };
      while (submitted.fetch_add(1) < kMaxTasks && std::chrono::steady_clock::now() < deadline) {
        const Want w{keys[rng() % 4], rng() % 2 == 0, rng() % 4 == 0 ? -1 : int(rng() % 1000)};
        const uint32_t noise = rng();
        const int kind = static_cast<int>(rng() % 5);
        {
          IncludeDispatchKeyGuard inc(w.key);
          AutoGradMode grad(w.grad);
          if (w.slot >= 0) {
            const StressSlot s(w.slot);
            set_slot(kStressSlot, &s);
          }
          switch (kind) {
            case 0:
              pending.push_back(launch([=] {
                check_and_scribble(w, kind, noise);
                return 0;
              }));
              break;
            case 1:
              pending.push_back(launch([] { return 0; }).then([=](int) {
                check_and_scribble(w, kind, noise);
                return 0;
              }));
              break;
            case 2:
              parallel_for(0, 8, 1, [&](int64_t b, int64_t) {
                check_and_scribble(w, kind, noise + static_cast<uint32_t>(b));
              });
              break;
            case 3: {
              const int64_t n = parallel_reduce(
                  0, 8, 1, int64_t{0},
                  [&](int64_t b, int64_t e, int64_t acc) {
                    // Only checks: a chunk of a reduce may run several pieces
                    // under one guard (see ParallelReduce.EachPieceStartsFromTheCallersState).
                    check(w, kind);
                    return acc + (e - b);
                  },
                  [](int64_t a, int64_t b) { return a + b; });
              if (n != 8) task_failures.add("parallel_reduce counted " + std::to_string(n));
              break;
            }
            case 4:
              // A task that runs a nested parallel_for inline.
              pending.push_back(launch([=] {
                parallel_for(0, 4, 1,
                             [&](int64_t, int64_t) { check_and_scribble(w, kind, noise); });
                return 0;
              }));
              break;
          }
          if (!sees_exactly(w)) {
            caller_failures.add("after a task of kind " + std::to_string(kind) +
                                ", the submitting thread has {" + describe_here() + "}");
          }
          set_slot(kStressSlot, nullptr);
        }
        if (!sees_defaults()) {
          tls_set_local_dispatch_key_set({});
          tls_set_autograd_state({});
          set_slot(kStressSlot, nullptr);
        }
        if (pending.size() >= 32) drain();
      }
      drain();
    });
  }
  for (auto& s : submitters) s.join();
  if (threads < 2) set_num_threads(threads);

  EXPECT_EQ(task_failures.count(), 0) << "first: " << task_failures.first();
  EXPECT_EQ(caller_failures.count(), 0) << "first: " << caller_failures.first();
  EXPECT_GT(checked.load(), 100) << "too little work ran to mean anything";
  EXPECT_TRUE(sees_defaults());
}

}  // namespace
}  // namespace sy
