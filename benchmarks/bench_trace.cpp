// The tracer (issue 6): a 100-op function on small tensors run eagerly, traced,
// and replayed from its graph. Targets are switchyard against itself: tracing
// <= 3x the eager run, replay <= 1.2x (benchmarks/targets.json).
#include <benchmark/benchmark.h>

#include <vector>

#include <switchyard/switchyard.h>

namespace {

// 100 ops: 25 rounds of add, add with alpha, in-place add and add again, on
// 16-element float32 tensors.
std::vector<sy::Tensor> hundred_ops(const std::vector<sy::Tensor>& in) {
  sy::Tensor x = in[0];
  const sy::Tensor& y = in[1];
  for (int i = 0; i < 25; ++i) {
    sy::Tensor a = sy::add(x, y);
    sy::Tensor b = sy::add(a, x, 0.5);
    b.add_(y);
    x = sy::add(b, a, -1);
  }
  return {x};
}

std::vector<sy::Tensor> inputs() { return {sy::ones({16}), sy::full({16}, 0.25)}; }

void BM_HundredOps_eager(benchmark::State& state) {
  const auto in = inputs();
  for (auto _ : state) {
    auto out = hundred_ops(in);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_HundredOps_eager)->Name("HundredOps/eager")->Unit(benchmark::kMicrosecond);

void BM_HundredOps_trace(benchmark::State& state) {
  const auto in = inputs();
  for (auto _ : state) {
    sy::Graph g = sy::trace(hundred_ops, in);
    benchmark::DoNotOptimize(&g);
  }
}
BENCHMARK(BM_HundredOps_trace)->Name("HundredOps/trace")->Unit(benchmark::kMicrosecond);

void BM_HundredOps_replay(benchmark::State& state) {
  const auto in = inputs();
  const sy::Graph g = sy::trace(hundred_ops, in);
  for (auto _ : state) {
    auto out = g.run(in);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_HundredOps_replay)->Name("HundredOps/replay")->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
