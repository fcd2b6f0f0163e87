// The interpreter stack carried to other threads: launch and parallel_for run
// under the caller's levels, each thread has its own stack, and grad's backward
// runs batched work on the engine's threads. Run under ThreadSanitizer too.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "switchyard/switchyard.h"
#include "transform_helpers.h"

namespace sy {
namespace {

using func::TensorFunction;
using func::vmap;

using testing_transforms::arange_f;
using testing_transforms::one;
using testing_transforms::same;

TEST(VmapThreads, LaunchAndParallelForSeeTheCallersLevel) {
  const Tensor x = arange_f({4, 3});
  auto f = one([](const std::vector<Tensor>& in) {
    Tensor from_task = launch([&] { return in[0] * 3; }).get();
    std::vector<Tensor> chunks(2);
    parallel_for(0, 2, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) chunks[i] = in[0] + static_cast<double>(i);
    });
    return from_task + chunks[0] + chunks[1];
  });
  EXPECT_TRUE(same(vmap(f)({x})[0], x * 5 + 1));
}

TEST(VmapThreads, EachThreadHasItsOwnStack) {
  std::atomic<int> ok{0};
  auto work = [&](double k) {
    for (int i = 0; i < 50; ++i) {
      const Tensor x = arange_f({5, 2}) + k;
      auto f = one([&](const std::vector<Tensor>& in) {
        if (func::transform_stack().size() != 1) ADD_FAILURE();
        return in[0] * k;
      });
      if (same(vmap(f)({x})[0], x * k)) ++ok;
    }
  };
  std::thread a(work, 2.0), b(work, 3.0);
  a.join();
  b.join();
  EXPECT_EQ(ok.load(), 100);
}

// One transformed function, called from a second thread while the first is
// stopped inside it: each thread sees its own stack, and both results are right.
TEST(VmapThreads, AFunctionCalledFromAnotherThreadWhileTheFirstIsInsideIt) {
  std::promise<void> inside, b_done;
  std::shared_future<void> b_done_future = b_done.get_future().share();
  std::atomic<int> a_calls{0};
  std::vector<std::string> a_stacks, b_stacks;
  auto f = one([&](const std::vector<Tensor>& in) {
    if (a_calls.fetch_add(1) == 0) {  // the first call: thread A
      a_stacks.push_back(func::describe_transform_stack());
      inside.set_value();
      b_done_future.wait();
      a_stacks.push_back(func::describe_transform_stack());
    } else {
      b_stacks.push_back(func::describe_transform_stack());
    }
    return in[0] * 2;
  });
  const TensorFunction g = vmap(vmap(f));
  Tensor a_out, b_out;
  std::thread a([&] { a_out = g({arange_f({3, 2, 4})})[0]; });
  inside.get_future().wait();
  std::thread b([&] { b_out = g({arange_f({5, 3, 4}) + 1})[0]; });
  b.join();
  b_done.set_value();
  a.join();
  const std::string both = "vmap(level 2) > vmap(level 1)";
  EXPECT_EQ(a_stacks, (std::vector<std::string>{both, both}));
  EXPECT_EQ(b_stacks, std::vector<std::string>{both});
  EXPECT_TRUE(same(a_out, arange_f({3, 2, 4}) * 2));
  EXPECT_TRUE(same(b_out, (arange_f({5, 3, 4}) + 1) * 2));
  EXPECT_TRUE(func::transform_stack().empty());
}

TEST(VmapThreads, PerSampleGradientsFromSeveralThreadsAtOnce) {
  const Tensor w = arange_f({4, 3}) / 10, xs = arange_f({6, 4}) / 7;
  auto loss =
      one([](const std::vector<Tensor>& in) { return (matmul(in[1], in[0]) * in[1].sum()).sum(); });
  const Tensor want = func::vmap(func::grad(loss), {std::nullopt, 0})({w, xs})[0];
  std::atomic<int> ok{0};
  auto work = [&] {
    for (int i = 0; i < 20; ++i) {
      if (same(func::vmap(func::grad(loss), {std::nullopt, 0})({w, xs})[0], want)) ++ok;
    }
  };
  std::thread a(work), b(work);
  a.join();
  b.join();
  EXPECT_EQ(ok.load(), 40);
}

}  // namespace
}  // namespace sy
