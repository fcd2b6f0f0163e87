// The dispatcher's hot paths, each next to libtorch's counterpart when libtorch
// is found: benchmarks come in pairs named <case>/switchyard and
// <case>/libtorch, and benchmarks/report.py prints their ratio.
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <string>

#include <switchyard/switchyard.h>

#ifdef SWITCHYARD_HAVE_TORCH
#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/library.h>
#include <torch/torch.h>
#endif

namespace {

// ---- switchyard ops -----------------------------------------------------------

sy::Tensor sy_identity(const sy::Tensor& t) { return t; }
int64_t sy_int_identity(int64_t x) { return x; }

SY_LIBRARY(sybench, m) {
  m.def("identity(Tensor self) -> Tensor");
  m.def("int_identity(int x) -> int", SY_FN(sy_int_identity));
}
SY_LIBRARY_IMPL(sybench, CPU, m) { m.impl("identity", SY_FN(sy_identity)); }
// Three keys that fall through for every op, for the fallthrough case.
SY_LIBRARY_IMPL(_, GradWrapper, m) { m.fallback(sy::CppFunction::fallthrough()); }

void BM_TypedTensorCall_switchyard(benchmark::State& state) {
  auto op = sy::Dispatcher::singleton()
                .find_op("sybench::identity")
                .typed<sy::Tensor(const sy::Tensor&)>();
  sy::Tensor t = sy::ones({1});
  for (auto _ : state) {
    sy::Tensor r = op.call(t);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_TypedTensorCall_switchyard)->Name("TypedTensorCall/switchyard");

// A bare locked increment and decrement of one counter, as an atomic reference
// count pays for a handle copied and dropped: the typed Tensor call above must
// take less than this pair alone (issue 17), which shows that it has no locked
// instruction left on the thread that made the tensor.
void BM_AtomicIncDecPair(benchmark::State& state) {
  std::atomic<uint32_t> count{1};
  for (auto _ : state) {
    count.fetch_add(1, std::memory_order_relaxed);
    benchmark::DoNotOptimize(count.fetch_sub(1, std::memory_order_acq_rel));
  }
}
BENCHMARK(BM_AtomicIncDecPair)->Name("AtomicIncDecPair");

void BM_TypedIntCall_switchyard(benchmark::State& state) {
  auto op = sy::Dispatcher::singleton().find_op("sybench::int_identity").typed<int64_t(int64_t)>();
  int64_t x = 1;
  for (auto _ : state) {
    x = op.call(x);
    benchmark::DoNotOptimize(x);
  }
}
BENCHMARK(BM_TypedIntCall_switchyard)->Name("TypedIntCall/switchyard");

void BM_BoxedTensorCall_switchyard(benchmark::State& state) {
  auto op = sy::Dispatcher::singleton().find_op("sybench::identity");
  sy::Tensor t = sy::ones({1});
  sy::Stack stack;
  stack.reserve(4);
  for (auto _ : state) {
    stack.clear();
    stack.emplace_back(t);
    op.call_boxed(stack);
    benchmark::DoNotOptimize(stack.data());
  }
}
BENCHMARK(BM_BoxedTensorCall_switchyard)->Name("BoxedTensorCall/switchyard");

void BM_ExcludeGuard_switchyard(benchmark::State& state) {
  for (auto _ : state) {
    sy::ExcludeDispatchKeyGuard guard(sy::DispatchKey::AutogradCPU);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_ExcludeGuard_switchyard)->Name("ExcludeGuard/switchyard");

void BM_IncludeGuard_switchyard(benchmark::State& state) {
  for (auto _ : state) {
    sy::IncludeDispatchKeyGuard guard(sy::DispatchKey::Tracer);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_IncludeGuard_switchyard)->Name("IncludeGuard/switchyard");

// The same call with three fallthrough keys in its key set (ADInplaceOrView and
// AutogradCPU from requires_grad, GradWrapper from the thread), and with none.
void BM_CallThroughFallthroughs(benchmark::State& state) {
  auto op = sy::Dispatcher::singleton()
                .find_op("sybench::identity")
                .typed<sy::Tensor(const sy::Tensor&)>();
  const bool with = state.range(0) != 0;
  sy::Tensor t = sy::ones({1});
  if (with) t.requires_grad_(true);
  sy::IncludeDispatchKeyGuard guard(with ? sy::DispatchKeySet(sy::DispatchKey::GradWrapper)
                                         : sy::DispatchKeySet());
  for (auto _ : state) {
    sy::Tensor r = op.call(t);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_CallThroughFallthroughs)->Arg(0)->Arg(1)->ArgName("fallthrough_keys_x3");

// Registering a library of 1,000 ops with 5 kernels each, then removing it.
void BM_RegisterLibrary1000x5(benchmark::State& state) {
  std::vector<std::string> schemas;
  for (int i = 0; i < 1000; ++i)
    schemas.push_back("op" + std::to_string(i) + "(Tensor self) -> Tensor");
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    {
      sy::Library lib(sy::Library::DEF, "sybench_reg");
      for (int i = 0; i < 1000; ++i) {
        const std::string name = "op" + std::to_string(i);
        lib.def(schemas[i]);
        lib.impl(name, sy::DispatchKey::CPU, SY_FN(sy_identity));
        lib.impl(name, sy::DispatchKey::Meta, SY_FN(sy_identity));
        lib.impl(name, sy::DispatchKey::PrivateUse1, SY_FN(sy_identity));
        lib.impl(name, sy::DispatchKey::CompositeExplicitAutograd, SY_FN(sy_identity));
        lib.impl(name, sy::DispatchKey::Autograd, SY_FN(sy_identity));
      }
      const auto registered = std::chrono::steady_clock::now();
      state.SetIterationTime(std::chrono::duration<double>(registered - start).count());
    }
  }
}
BENCHMARK(BM_RegisterLibrary1000x5)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(5);

#ifdef SWITCHYARD_HAVE_TORCH
// ---- libtorch counterparts -----------------------------------------------------

at::Tensor at_identity(const at::Tensor& t) { return t; }
int64_t at_int_identity(int64_t x) { return x; }

TORCH_LIBRARY(sybench, m) {
  m.def("identity(Tensor self) -> Tensor");
  m.def("int_identity(int x) -> int", TORCH_FN(at_int_identity));
}
TORCH_LIBRARY_IMPL(sybench, CPU, m) { m.impl("identity", TORCH_FN(at_identity)); }

void BM_TypedTensorCall_libtorch(benchmark::State& state) {
  auto op = c10::Dispatcher::singleton()
                .findSchemaOrThrow("sybench::identity", "")
                .typed<at::Tensor(const at::Tensor&)>();
  at::Tensor t = at::ones({1});
  for (auto _ : state) {
    at::Tensor r = op.call(t);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_TypedTensorCall_libtorch)->Name("TypedTensorCall/libtorch");

void BM_TypedIntCall_libtorch(benchmark::State& state) {
  auto op = c10::Dispatcher::singleton()
                .findSchemaOrThrow("sybench::int_identity", "")
                .typed<int64_t(int64_t)>();
  int64_t x = 1;
  for (auto _ : state) {
    x = op.call(x);
    benchmark::DoNotOptimize(x);
  }
}
BENCHMARK(BM_TypedIntCall_libtorch)->Name("TypedIntCall/libtorch");

void BM_BoxedTensorCall_libtorch(benchmark::State& state) {
  auto op = c10::Dispatcher::singleton().findSchemaOrThrow("sybench::identity", "");
  at::Tensor t = at::ones({1});
  torch::jit::Stack stack;
  stack.reserve(4);
  for (auto _ : state) {
    stack.clear();
    stack.emplace_back(t);
    op.callBoxed(&stack);
    benchmark::DoNotOptimize(stack.data());
  }
}
BENCHMARK(BM_BoxedTensorCall_libtorch)->Name("BoxedTensorCall/libtorch");

void BM_ExcludeGuard_libtorch(benchmark::State& state) {
  for (auto _ : state) {
    c10::impl::ExcludeDispatchKeyGuard guard(c10::DispatchKey::AutogradCPU);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_ExcludeGuard_libtorch)->Name("ExcludeGuard/libtorch");

void BM_IncludeGuard_libtorch(benchmark::State& state) {
  for (auto _ : state) {
    c10::impl::IncludeDispatchKeyGuard guard(c10::DispatchKey::Tracer);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_IncludeGuard_libtorch)->Name("IncludeGuard/libtorch");
#endif

}  // namespace

BENCHMARK_MAIN();
