// Autograd (issue 13): recording a small graph, and recording plus backward,
// side by side with libtorch in one process (the libtorch half only when
// libtorch is found). The graph is (x * w + b).sum() on 16 floats with only x
// requiring grad; each backward iteration clears x's gradient first, as a
// training loop's zero_grad would.
#include <benchmark/benchmark.h>

#include <switchyard/switchyard.h>

#ifdef SWITCHYARD_HAVE_TORCH
#include <torch/torch.h>
#endif

namespace {

constexpr int64_t kN = 16;

void BM_Forward16_switchyard(benchmark::State& state) {
  const sy::Tensor x = sy::rand({kN}).requires_grad_();
  const sy::Tensor w = sy::rand({kN});
  const sy::Tensor b = sy::rand({kN});
  for (auto _ : state) {
    sy::Tensor y = (x * w + b).sum();
    benchmark::DoNotOptimize(y.impl());
  }
}
BENCHMARK(BM_Forward16_switchyard)->Name("AutogradForward16/switchyard");

void BM_ForwardBackward16_switchyard(benchmark::State& state) {
  const sy::Tensor x = sy::rand({kN}).requires_grad_();
  const sy::Tensor w = sy::rand({kN});
  const sy::Tensor b = sy::rand({kN});
  for (auto _ : state) {
    x.mutable_grad() = sy::Tensor();
    (x * w + b).sum().backward();
    benchmark::DoNotOptimize(x.grad().impl());
  }
}
BENCHMARK(BM_ForwardBackward16_switchyard)->Name("AutogradForwardBackward16/switchyard");

// The forward pass alone without recording, for reference.
void BM_NoGrad16_switchyard(benchmark::State& state) {
  const sy::Tensor x = sy::rand({kN});
  const sy::Tensor w = sy::rand({kN});
  const sy::Tensor b = sy::rand({kN});
  for (auto _ : state) {
    sy::Tensor y = (x * w + b).sum();
    benchmark::DoNotOptimize(y.impl());
  }
}
BENCHMARK(BM_NoGrad16_switchyard)->Name("AutogradNoGrad16/switchyard");

void BM_ForwardAD16_switchyard(benchmark::State& state) {
  const sy::Tensor p = sy::rand({kN});
  const sy::Tensor t = sy::rand({kN});
  for (auto _ : state) {
    sy::autograd::forward_ad::DualLevel level;
    const sy::Tensor x = sy::autograd::forward_ad::make_dual(p, t);
    const sy::Tensor y = (x.sin() * x).sum();
    benchmark::DoNotOptimize(sy::autograd::forward_ad::unpack_dual(y).tangent.impl());
  }
}
BENCHMARK(BM_ForwardAD16_switchyard)->Name("ForwardAD16/switchyard");

#ifdef SWITCHYARD_HAVE_TORCH

void BM_Forward16_libtorch(benchmark::State& state) {
  const at::Tensor x = torch::rand({kN}).requires_grad_();
  const at::Tensor w = torch::rand({kN});
  const at::Tensor b = torch::rand({kN});
  for (auto _ : state) {
    at::Tensor y = (x * w + b).sum();
    benchmark::DoNotOptimize(y.unsafeGetTensorImpl());
  }
}
BENCHMARK(BM_Forward16_libtorch)->Name("AutogradForward16/libtorch");

void BM_ForwardBackward16_libtorch(benchmark::State& state) {
  const at::Tensor x = torch::rand({kN}).requires_grad_();
  const at::Tensor w = torch::rand({kN});
  const at::Tensor b = torch::rand({kN});
  for (auto _ : state) {
    x.mutable_grad().reset();
    (x * w + b).sum().backward();
    benchmark::DoNotOptimize(x.grad().unsafeGetTensorImpl());
  }
}
BENCHMARK(BM_ForwardBackward16_libtorch)->Name("AutogradForwardBackward16/libtorch");

void BM_NoGrad16_libtorch(benchmark::State& state) {
  const at::Tensor x = torch::rand({kN});
  const at::Tensor w = torch::rand({kN});
  const at::Tensor b = torch::rand({kN});
  for (auto _ : state) {
    at::Tensor y = (x * w + b).sum();
    benchmark::DoNotOptimize(y.unsafeGetTensorImpl());
  }
}
BENCHMARK(BM_NoGrad16_libtorch)->Name("AutogradNoGrad16/libtorch");

#endif

}  // namespace

BENCHMARK_MAIN();
