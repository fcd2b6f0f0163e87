// What a transform level costs a small op (issue 16): add of a 4-float example
// batched at every one of `depth` nested vmap levels (batch 2 each), and add of
// a plain tensor while those levels are active; plus vmap and grad calls whole.
#include <benchmark/benchmark.h>

#include <functional>

#include "switchyard/switchyard.h"

namespace {

using sy::Tensor;

// Runs `body` inside `depth` nested vmaps of `x` (dim 0 each), with the example.
void nested(const Tensor& x, int depth, const std::function<void(const Tensor&)>& body) {
  if (depth == 0) {
    body(x);
    return;
  }
  sy::func::vmap([&](const std::vector<Tensor>& in) {
    nested(in[0], depth - 1, body);
    return std::vector<Tensor>{in[0]};
  })({x});
}

Tensor batched_input(int depth) {
  std::vector<int64_t> sizes(depth, 2);
  sizes.push_back(4);
  return sy::ones(sizes);
}

void BatchedAddAtDepth(benchmark::State& state) {
  nested(batched_input(static_cast<int>(state.range(0))), static_cast<int>(state.range(0)),
         [&](const Tensor& t) {
           for (auto _ : state) benchmark::DoNotOptimize(sy::add(t, t));
         });
}
BENCHMARK(BatchedAddAtDepth)->DenseRange(0, 3);

void PlainAddAtDepth(benchmark::State& state) {
  const Tensor plain = sy::ones({4});
  nested(batched_input(static_cast<int>(state.range(0))), static_cast<int>(state.range(0)),
         [&](const Tensor&) {
           for (auto _ : state) benchmark::DoNotOptimize(sy::add(plain, plain));
         });
}
BENCHMARK(PlainAddAtDepth)->DenseRange(0, 3);

void VmapMulAdd8x4(benchmark::State& state) {
  const Tensor x = sy::ones({8, 4});
  auto f = sy::func::vmap(
      [](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] * 2 + 1}; });
  for (auto _ : state) benchmark::DoNotOptimize(f({x}));
}
BENCHMARK(VmapMulAdd8x4);

void GradSumOfSquares2(benchmark::State& state) {
  const Tensor x = sy::tensor({1.0, 2.0});
  auto g = sy::func::grad(
      [](const std::vector<Tensor>& in) { return std::vector<Tensor>{(in[0] * in[0]).sum()}; });
  for (auto _ : state) benchmark::DoNotOptimize(g({x}));
}
BENCHMARK(GradSumOfSquares2);

}  // namespace

BENCHMARK_MAIN();
