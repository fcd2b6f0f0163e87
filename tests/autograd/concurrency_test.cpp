// Backward across threads: several threads running backward at once (also
// into one shared leaf), backward on a pool thread under the state captured
// by launch, and one graph's independent branches run on the pool. Run under
// ThreadSanitizer too (label tsan).
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "autograd_test_util.h"

namespace sy {
namespace {

using testing::close;
using testing::leaf;

TEST(ConcurrentBackward, ThreadsAccumulateIntoASharedLeaf) {
  const Tensor x = leaf({1.0, 2.0, 3.0});
  constexpr int kThreads = 4, kRounds = 25;
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      const Tensor w = tensor({1.0, 1.0, 1.0}, TensorOptions().dtype(kFloat64)) * (t + 1.0);
      for (int r = 0; r < kRounds; ++r) (x * w).sum().backward();
    });
  }
  for (auto& th : threads) th.join();
  // Each thread adds (t + 1) per round: kRounds * (1 + 2 + 3 + 4) = 250.
  EXPECT_TRUE(close(x.grad(), {250.0, 250.0, 250.0}));
}

TEST(ConcurrentBackward, ThreadsOnIndependentGraphs) {
  constexpr int kThreads = 4;
  std::vector<Tensor> grads(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const Tensor x = leaf({1.0 * t, 2.0});
      (x * x * x).sum().backward();
      grads[t] = x.grad();
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_TRUE(close(grads[t], {3.0 * t * t, 12.0}));
}

TEST(ConcurrentBackward, ThreadsThroughOneRetainedGraph) {
  const Tensor x = leaf({1.0, 2.0});
  const Tensor y = (x * x).sum();
  constexpr int kThreads = 4;
  std::vector<std::vector<double>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      got[t] = testing::values(autograd::grad({y}, {x}, {}, /*retain_graph=*/true)[0]);
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(got[t], (std::vector<double>{2.0, 4.0}));
}

TEST(PoolBackward, RunsUnderTheStateCapturedByLaunch) {
  const Tensor x = leaf({2.0});
  const Tensor y = (x * x).sum();
  bool grad_mode_in_hook = true;
  x.register_hook([&](const Tensor& g) {
    grad_mode_in_hook = GradMode::is_enabled();
    return Tensor();
  });
  Future<bool> f = [&] {
    NoGradGuard captured;
    return launch([&] {
      y.backward();
      return GradMode::is_enabled();
    });
  }();
  EXPECT_FALSE(f.get());  // the task ran under the captured no_grad, and kept it
  EXPECT_FALSE(grad_mode_in_hook);
  EXPECT_TRUE(close(x.grad(), {4.0}));
  EXPECT_TRUE(GradMode::is_enabled());
}

TEST(PoolBackward, CreateGraphTurnsGradModeOnForTheBackwardOnly) {
  const Tensor x = leaf({2.0});
  const Tensor y = (x * x * x).sum();
  Future<Tensor> f = [&] {
    NoGradGuard captured;
    return launch([&] {
      Tensor g = autograd::grad({y}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
      EXPECT_FALSE(GradMode::is_enabled());
      return g;
    });
  }();
  const Tensor g = f.get();
  EXPECT_TRUE(g.requires_grad());
  EXPECT_TRUE(close(autograd::grad({g.sum()}, {x})[0], {12.0}));
}

// Branches with large gradients are handed to the pool (Note [Parallel
// branches]); the result must not depend on it.
TEST(ParallelBranches, LargeIndependentBranchesGiveTheSameGradients) {
  constexpr int64_t n = 1 << 17;
  const Tensor p = sy::rand({n}, TensorOptions().dtype(kFloat64));
  const Tensor x = p.detach().requires_grad_();
  const Tensor y = (x.sin() + x.cos() + x.exp() + x * x).sum();
  y.backward();
  NoGradGuard no_grad;
  const Tensor expected = p.cos() - p.sin() + p.exp() + p * 2.0;
  EXPECT_TRUE(close(x.grad(), expected, 1e-12));
}

TEST(ParallelBranches, AnErrorInOneBranchLeavesEveryGradAlone) {
  constexpr int64_t n = 1 << 17;
  const Tensor x = sy::rand({n}, TensorOptions().dtype(kFloat64)).requires_grad_();
  const Tensor z = sy::rand({n}, TensorOptions().dtype(kFloat64)).requires_grad_();
  const Tensor a = x.sin();
  a.register_hook([](const Tensor&) -> Tensor { throw ValueError("branch failed"); });
  const Tensor y = (a + x.cos() + z.exp() + z * z).sum();
  EXPECT_THROW(y.backward(), ValueError);
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(z.grad().defined());
}

}  // namespace
}  // namespace sy
