// sy::aot::Model from many threads (run under ThreadSanitizer too, label tsan):
// eight threads with their own inputs, each result checked; weight swaps under
// load with every result from one snapshot or the other; an instance pool that
// never hands out more instances than it has; states of finished threads reused.
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <optional>
#include <thread>

#include "switchyard/aot/compiled_model.h"
#include "switchyard/switchyard.h"
#include "test_tensors.h"

namespace sy::aot {
namespace {

using testing_tensors::random_uniform;
using testing_tensors::same_bits;

struct Weights {
  Tensor w1, b1, w2, b2;
  static Weights make(uint32_t seed) {
    return {random_uniform({16, 32}, seed), random_uniform({32}, seed + 1),
            random_uniform({32, 4}, seed + 2), random_uniform({4}, seed + 3)};
  }
  // In the order the trace meets them (see model_test.cpp).
  std::vector<Tensor> list() const { return {w1, b1, b2, w2}; }
  Tensor eager(const Tensor& x) const { return addmm(b2, relu(add(mm(x, w1), b1)), w2); }
};

Model mlp(const Weights& w) {
  return Model::compile(
      trace([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{w.eager(in[0])}; },
            {random_uniform({8, 16}, 100)}));
}

constexpr int kThreads = 8;

TEST(AotThreads, EightThreadsWithTheirOwnInputsGetTheirOwnResults) {
  const Weights w = Weights::make(1);
  const Model model = mlp(w);
  std::vector<std::vector<Tensor>> inputs(kThreads), expected(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < 4; ++i) {
      // Batches of different sizes: each thread plans several shapes.
      inputs[t].push_back(random_uniform({1 + (t + i) % 5, 16}, 1000 * t + i));
      expected[t].push_back(w.eager(inputs[t].back()));
    }
  }
  std::atomic<int> wrong{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int round = 0; round < 30; ++round) {
        const int i = round % 4;
        const std::vector<Tensor> in = {inputs[t][i]};
        switch (round % 3) {
          case 0:
            if (!same_bits(model.run(in)[0], expected[t][i])) ++wrong;
            break;
          case 1:
            if (!same_bits(model.run_borrowed(in)[0], expected[t][i])) ++wrong;
            break;
          case 2: {
            const Tensor out = empty(expected[t][i].sizes());
            model.run_into(in, {out});
            if (!same_bits(out, expected[t][i])) ++wrong;
            break;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(AotThreads, EveryResultUnderSwapsComesFromOneSnapshot) {
  const Weights a = Weights::make(10), b = Weights::make(20);
  const Model model = mlp(a);
  std::vector<Tensor> inputs, from_a, from_b;
  for (int t = 0; t < kThreads; ++t) {
    inputs.push_back(random_uniform({8, 16}, 200 + t));
    from_a.push_back(a.eager(inputs.back()));
    from_b.push_back(b.eager(inputs.back()));
  }
  std::atomic<bool> stop{false};
  std::atomic<int> mixed{0}, seen_a{0}, seen_b{0}, total{0};
  std::latch start(kThreads + 1);
  std::vector<std::thread> readers;
  for (int t = 0; t < kThreads; ++t) {
    readers.emplace_back([&, t] {
      start.arrive_and_wait();
      int runs = 0;
      while (!stop.load(std::memory_order_relaxed) || runs < 5) {
        const BorrowedOutputs out = model.run_borrowed({inputs[t]});
        if (same_bits(out[0], from_a[t])) {
          ++seen_a;
        } else if (same_bits(out[0], from_b[t])) {
          ++seen_b;
        } else {
          ++mixed;
        }
        ++runs;
        ++total;
      }
    });
  }
  start.arrive_and_wait();
  for (int i = 0; i < 20; ++i) {
    // Swap while the readers run: wait for runs to complete between swaps.
    const int before = total.load();
    model.swap_weights((i % 2 == 0 ? b : a).list());
    while (total.load() < before + kThreads) std::this_thread::yield();
  }
  model.swap_weights(b.list());
  stop = true;
  for (auto& th : readers) th.join();
  EXPECT_EQ(mixed.load(), 0) << "a run mixed the weights of two snapshots";
  EXPECT_GT(seen_a.load() + seen_b.load(), 0);
  // Runs after the last swap see it.
  EXPECT_TRUE(same_bits(model.run({inputs[0]})[0], from_b[0]));
}

TEST(AotThreads, APoolNeverLendsMoreInstancesThanItHas) {
  const Weights w = Weights::make(30);
  InstancePool pool(mlp(w), 2);
  std::atomic<int> inside{0}, most{0}, wrong{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const Tensor x = random_uniform({4, 16}, 300 + t);
      const Tensor expected = w.eager(x);
      start.arrive_and_wait();
      for (int i = 0; i < 20; ++i) {
        InstancePool::Lease lease = pool.acquire();
        const int now = ++inside;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        if (!same_bits(lease.run_borrowed({x})[0], expected)) ++wrong;
        --inside;
      }
      if (!same_bits(pool.run({x})[0], expected)) ++wrong;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_LE(most.load(), 2);
}

TEST(AotThreads, StatesOfFinishedThreadsAreReused) {
  const Model model = mlp(Weights::make(40));
  const Tensor x = random_uniform({8, 16}, 400);
  for (int i = 0; i < 10; ++i) std::thread([&] { model.run({x}); }).join();
  EXPECT_EQ(model.compiled()->states.size(), 1u);
}

TEST(AotThreads, AThreadOutlivesTheModelsItRan) {
  std::optional<Model> first(mlp(Weights::make(50)));
  const Tensor x = random_uniform({8, 16}, 500);
  std::thread worker;
  std::latch ran(1), dropped(1);
  worker = std::thread([&] {
    first->run({x});
    ran.count_down();
    dropped.wait();
    // The thread's entry for the dead model must not be used for this one.
    const Weights w = Weights::make(51);
    const Model second = mlp(w);
    EXPECT_TRUE(same_bits(second.run({x})[0], w.eager(x)));
  });
  ran.wait();
  first.reset();
  dropped.count_down();
  worker.join();
}

}  // namespace
}  // namespace sy::aot
