// The operator set (issue 4): creating a one-element tensor (and 4 KiB and 4 MiB
// ones, the allocator's block cache), add on one
// element (new result and out=), sum over 16M floats, and 512x512 matrix
// products, boolean-mask indexing and index_select; the vectorised kernels
// (issue 17): softmax and log_softmax, a transpose and a permutation made
// contiguous, the max of 16M floats, and elementwise math on 1M floats; each
// side by side with libtorch's counterpart in one process
// (the libtorch half only when libtorch is found). The 16M-element add_out and
// its memcpy ceiling live in bench_thread_state.cpp with the thread scaling.
// benchmarks/report.py prints the ratios and checks benchmarks/targets.json.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include <switchyard/parallel/parallel.h>
#include <switchyard/switchyard.h>

#ifdef SWITCHYARD_HAVE_TORCH
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

// libtorch's mm runs on the same OpenBLAS, whose thread count
// at::set_num_threads does not set; the libtorch half sets it, as switchyard does.
extern "C" void openblas_set_num_threads(int);
extern "C" int openblas_get_num_threads();
#endif

namespace {

constexpr int64_t kBig = int64_t{1} << 24;  // 16M float32 elements = 64 MB
constexpr int64_t kMat = 512;

int hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

// Runs a benchmark body with the intra-op thread count set, restoring it after.
class SyThreads {
 public:
  explicit SyThreads(int n) : saved_(sy::get_num_threads()) { sy::set_num_threads(n); }
  ~SyThreads() { sy::set_num_threads(saved_); }

 private:
  int saved_;
};

// ---- switchyard -------------------------------------------------------------------

void BM_Empty1_switchyard(benchmark::State& state) {
  for (auto _ : state) {
    sy::Tensor t = sy::empty({1});
    benchmark::DoNotOptimize(t.impl());
  }
}
BENCHMARK(BM_Empty1_switchyard)->Name("Empty1/switchyard");

// Tensors of 4 KiB and 4 MiB made and dropped in a loop: the cpu allocator's
// per-thread cache of larger blocks (Note [Large block cache]). full_cache:1 first
// fills the cache with 31 blocks of other sizes (of 4 KiB requests: 8-38 KiB), so
// every request scans a full list; libtorch has no such cache (full_cache:0 only).
// Empty4M runs first, so that it finds no blocks left by that run.
void sy_empty_sized(benchmark::State& state, int64_t floats) {
  if (state.range(0) == 1) {
    std::vector<sy::Tensor> others;
    for (int64_t i = 0; i < 31; ++i) others.push_back(sy::empty({floats * 2 + i * floats / 4}));
  }
  for (auto _ : state) {
    sy::Tensor t = sy::empty({floats});
    benchmark::DoNotOptimize(t.impl());
  }
}
BENCHMARK_CAPTURE(sy_empty_sized, 4m, int64_t{1} << 20)
    ->Name("Empty4M/switchyard")
    ->ArgName("full_cache")
    ->Arg(0);
BENCHMARK_CAPTURE(sy_empty_sized, 4k, int64_t{1} << 10)
    ->Name("Empty4K/switchyard")
    ->ArgName("full_cache")
    ->Arg(0)
    ->Arg(1);

void BM_Add1_switchyard(benchmark::State& state) {
  sy::Tensor a = sy::ones({1});
  sy::Tensor b = sy::ones({1});
  for (auto _ : state) {
    sy::Tensor c = sy::add(a, b);
    benchmark::DoNotOptimize(c.impl());
  }
}
BENCHMARK(BM_Add1_switchyard)->Name("Add1/switchyard");

void BM_AddOut1_switchyard(benchmark::State& state) {
  sy::Tensor a = sy::ones({1});
  sy::Tensor b = sy::ones({1});
  sy::Tensor out = sy::zeros({1});
  for (auto _ : state) {
    sy::add_out(out, a, b);
    benchmark::DoNotOptimize(out.raw_data());
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_AddOut1_switchyard)->Name("AddOut1/switchyard");

void sy_sum_16m(benchmark::State& state, int threads) {
  SyThreads scope(threads);
  sy::Tensor a = sy::rand({kBig});
  for (auto _ : state) {
    sy::Tensor s = sy::sum(a);
    benchmark::DoNotOptimize(s.impl());
  }
  state.SetBytesProcessed(state.iterations() * kBig * int64_t{sizeof(float)});
  state.counters["threads"] = threads;
}
void BM_Sum16M_1thread_switchyard(benchmark::State& s) { sy_sum_16m(s, 1); }
void BM_Sum16M_allthreads_switchyard(benchmark::State& s) { sy_sum_16m(s, hardware_threads()); }
BENCHMARK(BM_Sum16M_1thread_switchyard)
    ->Name("Sum16M_1thread/switchyard")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sum16M_allthreads_switchyard)
    ->Name("Sum16M_allthreads/switchyard")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void sy_mm_512(benchmark::State& state, int threads) {
  SyThreads scope(threads);
  sy::Tensor a = sy::rand({kMat, kMat});
  sy::Tensor b = sy::rand({kMat, kMat});
  for (auto _ : state) {
    sy::Tensor c = sy::mm(a, b);
    benchmark::DoNotOptimize(c.impl());
  }
  state.counters["GFLOPS"] = benchmark::Counter(
      static_cast<double>(2 * kMat * kMat * kMat) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
  state.counters["threads"] = threads;
}
void BM_Mm512_1thread_switchyard(benchmark::State& s) { sy_mm_512(s, 1); }
void BM_Mm512_allthreads_switchyard(benchmark::State& s) { sy_mm_512(s, hardware_threads()); }
BENCHMARK(BM_Mm512_1thread_switchyard)
    ->Name("Mm512_1thread/switchyard")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Mm512_allthreads_switchyard)
    ->Name("Mm512_allthreads/switchyard")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Softmax over the rows of a 256x1024 float32 matrix: a composite that calls a
// fused kernel.
void BM_Softmax_switchyard(benchmark::State& state) {
  SyThreads scope(1);
  sy::Tensor a = sy::randn({256, 1024});
  for (auto _ : state) {
    sy::Tensor s = sy::softmax(a, 1);
    benchmark::DoNotOptimize(s.impl());
  }
}
BENCHMARK(BM_Softmax_switchyard)->Name("Softmax256x1024/switchyard")->Unit(benchmark::kMicrosecond);

// contiguous() of a transposed 1024x1024 float32 matrix: a strided copy.
void BM_TransposeContiguous_switchyard(benchmark::State& state) {
  SyThreads scope(1);
  sy::Tensor a = sy::rand({1024, 1024});
  for (auto _ : state) {
    sy::Tensor c = a.t().contiguous();
    benchmark::DoNotOptimize(c.impl());
  }
}
BENCHMARK(BM_TransposeContiguous_switchyard)
    ->Name("TransposeContiguous1024/switchyard")
    ->Unit(benchmark::kMicrosecond);

void BM_LogSoftmax_switchyard(benchmark::State& state) {
  SyThreads scope(1);
  sy::Tensor a = sy::randn({256, 1024});
  for (auto _ : state) {
    sy::Tensor s = sy::log_softmax(a, 1);
    benchmark::DoNotOptimize(s.impl());
  }
}
BENCHMARK(BM_LogSoftmax_switchyard)
    ->Name("LogSoftmax256x1024/switchyard")
    ->Unit(benchmark::kMicrosecond);

// contiguous() of a [64, 128, 128] float32 tensor with its last two dims
// swapped: a transpose in each of 64 slices.
void BM_PermuteContiguous_switchyard(benchmark::State& state) {
  SyThreads scope(1);
  sy::Tensor a = sy::rand({64, 128, 128});
  for (auto _ : state) {
    sy::Tensor c = a.permute({0, 2, 1}).contiguous();
    benchmark::DoNotOptimize(c.impl());
  }
}
BENCHMARK(BM_PermuteContiguous_switchyard)
    ->Name("PermuteContiguous64x128x128/switchyard")
    ->Unit(benchmark::kMicrosecond);

void BM_Max16M_1thread_switchyard(benchmark::State& state) {
  SyThreads scope(1);
  sy::Tensor a = sy::rand({kBig});
  for (auto _ : state) {
    sy::Tensor m = a.max();
    benchmark::DoNotOptimize(m.impl());
  }
}
BENCHMARK(BM_Max16M_1thread_switchyard)
    ->Name("Max16M_1thread/switchyard")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Elementwise math over 1M float32 values into a new tensor, one thread.
constexpr int64_t kMathN = int64_t{1} << 20;
template <typename F>
void sy_math_1m(benchmark::State& state, F f) {
  SyThreads scope(1);
  sy::Tensor a = sy::randn({kMathN});
  for (auto _ : state) {
    sy::Tensor r = f(a);
    benchmark::DoNotOptimize(r.impl());
  }
}
BENCHMARK_CAPTURE(sy_math_1m, exp, [](const sy::Tensor& a) { return a.exp(); })
    ->Name("Exp1M/switchyard")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(sy_math_1m, log, [](const sy::Tensor& a) { return a.abs().log(); })
    ->Name("AbsLog1M/switchyard")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(sy_math_1m, tanh, [](const sy::Tensor& a) { return a.tanh(); })
    ->Name("Tanh1M/switchyard")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(sy_math_1m, sigmoid, [](const sy::Tensor& a) { return a.sigmoid(); })
    ->Name("Sigmoid1M/switchyard")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(sy_math_1m, gelu, [](const sy::Tensor& a) { return a.gelu(); })
    ->Name("Gelu1M/switchyard")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(sy_math_1m, pow, [](const sy::Tensor& a) { return a.pow(a); })
    ->Name("Pow1M/switchyard")
    ->Unit(benchmark::kMicrosecond);

// A chain of view ops on a small tensor: the metadata path.
void BM_ViewChain_switchyard(benchmark::State& state) {
  sy::Tensor a = sy::ones({4, 8, 16});
  for (auto _ : state) {
    sy::Tensor v = a.transpose(0, 1).unsqueeze(0).select(1, 2).view({4, 16});
    benchmark::DoNotOptimize(v.impl());
  }
}
BENCHMARK(BM_ViewChain_switchyard)->Name("ViewChain/switchyard");

#ifdef SWITCHYARD_HAVE_TORCH
// t[mask] over 1M floats with a random half-true mask, and index_select of 64K
// random rows of 64 floats (issue 11), one thread on each side.
constexpr int64_t kMaskN = int64_t{1} << 20;
constexpr int64_t kRows = int64_t{1} << 16;
constexpr int64_t kRowLen = 64;

// The same random order of the kRows rows on both sides.
void shuffle_rows(int64_t* rows) { std::shuffle(rows, rows + kRows, std::mt19937_64(0)); }

void BM_MaskIndex1M_switchyard(benchmark::State& state) {
  SyThreads scope(1);
  sy::manual_seed(0);
  sy::Tensor a = sy::rand({kMaskN});
  sy::Tensor mask = sy::rand({kMaskN}).gt(0.5);
  for (auto _ : state) {
    sy::Tensor r = a.index({mask});
    benchmark::DoNotOptimize(r.impl());
  }
  state.SetBytesProcessed(state.iterations() * kMaskN * int64_t{sizeof(float)});
}
BENCHMARK(BM_MaskIndex1M_switchyard)
    ->Name("MaskIndex1M/switchyard")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

void BM_IndexSelect64K_switchyard(benchmark::State& state) {
  SyThreads scope(1);
  sy::manual_seed(0);
  sy::Tensor a = sy::rand({kRows, kRowLen});
  sy::Tensor rows = sy::arange(kRows);
  shuffle_rows(static_cast<int64_t*>(rows.raw_data()));
  for (auto _ : state) {
    sy::Tensor r = a.index_select(0, rows);
    benchmark::DoNotOptimize(r.impl());
  }
  state.SetBytesProcessed(state.iterations() * kRows * kRowLen * int64_t{sizeof(float)});
}
BENCHMARK(BM_IndexSelect64K_switchyard)
    ->Name("IndexSelect64K/switchyard")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// vmap's shapes: a size-1 dim broadcast innermost (runs of 10), and tiny matrices
// per batch entry (per-example rows times a matrix), one thread.
void BM_MulBroadcastInner_switchyard(benchmark::State& state) {
  SyThreads one(1);
  sy::Tensor a = sy::rand({64, 32, 1});
  sy::Tensor b = sy::rand({64, 32, 10});
  for (auto _ : state) {
    sy::Tensor c = sy::mul(a, b);
    benchmark::DoNotOptimize(c.impl());
  }
}
BENCHMARK(BM_MulBroadcastInner_switchyard)
    ->Name("MulBroadcastInner/switchyard")
    ->Unit(benchmark::kMicrosecond);

void BM_BmmTiny_switchyard(benchmark::State& state) {
  SyThreads one(1);
  sy::Tensor a = sy::rand({64, 1, 32});
  sy::Tensor b = sy::rand({64, 32, 10});
  for (auto _ : state) {
    sy::Tensor c = sy::bmm(a, b);
    benchmark::DoNotOptimize(c.impl());
  }
}
BENCHMARK(BM_BmmTiny_switchyard)->Name("BmmTiny/switchyard")->Unit(benchmark::kMicrosecond);

// ---- libtorch counterparts ----------------------------------------------------------

class AtThreads {
 public:
  explicit AtThreads(int n) : saved_(at::get_num_threads()) { at::set_num_threads(n); }
  ~AtThreads() { at::set_num_threads(saved_); }

 private:
  int saved_;
};

void BM_Empty1_libtorch(benchmark::State& state) {
  for (auto _ : state) {
    at::Tensor t = at::empty({1});
    benchmark::DoNotOptimize(t.unsafeGetTensorImpl());
  }
}
BENCHMARK(BM_Empty1_libtorch)->Name("Empty1/libtorch");

void at_empty_sized(benchmark::State& state, int64_t floats) {  // full_cache:0 only
  for (auto _ : state) {
    at::Tensor t = at::empty({floats});
    benchmark::DoNotOptimize(t.unsafeGetTensorImpl());
  }
}
BENCHMARK_CAPTURE(at_empty_sized, 4k, int64_t{1} << 10)
    ->Name("Empty4K/libtorch")
    ->ArgName("full_cache")
    ->Arg(0);
BENCHMARK_CAPTURE(at_empty_sized, 4m, int64_t{1} << 20)
    ->Name("Empty4M/libtorch")
    ->ArgName("full_cache")
    ->Arg(0);

void BM_Add1_libtorch(benchmark::State& state) {
  at::Tensor a = at::ones({1});
  at::Tensor b = at::ones({1});
  for (auto _ : state) {
    at::Tensor c = at::add(a, b);
    benchmark::DoNotOptimize(c.unsafeGetTensorImpl());
  }
}
BENCHMARK(BM_Add1_libtorch)->Name("Add1/libtorch");

void BM_AddOut1_libtorch(benchmark::State& state) {
  at::Tensor a = at::ones({1});
  at::Tensor b = at::ones({1});
  at::Tensor out = at::zeros({1});
  for (auto _ : state) {
    at::add_out(out, a, b);
    benchmark::DoNotOptimize(out.data_ptr());
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_AddOut1_libtorch)->Name("AddOut1/libtorch");

void at_sum_16m(benchmark::State& state, int threads) {
  AtThreads scope(threads);
  at::Tensor a = at::rand({kBig});
  for (auto _ : state) {
    at::Tensor s = at::sum(a);
    benchmark::DoNotOptimize(s.unsafeGetTensorImpl());
  }
  state.SetBytesProcessed(state.iterations() * kBig * int64_t{sizeof(float)});
  state.counters["threads"] = threads;
}
void BM_Sum16M_1thread_libtorch(benchmark::State& s) { at_sum_16m(s, 1); }
void BM_Sum16M_allthreads_libtorch(benchmark::State& s) { at_sum_16m(s, hardware_threads()); }
BENCHMARK(BM_Sum16M_1thread_libtorch)
    ->Name("Sum16M_1thread/libtorch")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sum16M_allthreads_libtorch)
    ->Name("Sum16M_allthreads/libtorch")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void at_mm_512(benchmark::State& state, int threads) {
  AtThreads scope(threads);
  const int saved_blas = openblas_get_num_threads();
  openblas_set_num_threads(threads);
  at::Tensor a = at::rand({kMat, kMat});
  at::Tensor b = at::rand({kMat, kMat});
  for (auto _ : state) {
    at::Tensor c = at::mm(a, b);
    benchmark::DoNotOptimize(c.unsafeGetTensorImpl());
  }
  state.counters["GFLOPS"] = benchmark::Counter(
      static_cast<double>(2 * kMat * kMat * kMat) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
  state.counters["threads"] = threads;
  openblas_set_num_threads(saved_blas);
}
void BM_Mm512_1thread_libtorch(benchmark::State& s) { at_mm_512(s, 1); }
void BM_Mm512_allthreads_libtorch(benchmark::State& s) { at_mm_512(s, hardware_threads()); }
BENCHMARK(BM_Mm512_1thread_libtorch)
    ->Name("Mm512_1thread/libtorch")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Mm512_allthreads_libtorch)
    ->Name("Mm512_allthreads/libtorch")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

void BM_Softmax_libtorch(benchmark::State& state) {
  AtThreads scope(1);
  at::Tensor a = at::randn({256, 1024});
  for (auto _ : state) {
    at::Tensor s = at::softmax(a, 1);
    benchmark::DoNotOptimize(s.unsafeGetTensorImpl());
  }
}
BENCHMARK(BM_Softmax_libtorch)->Name("Softmax256x1024/libtorch")->Unit(benchmark::kMicrosecond);

void BM_TransposeContiguous_libtorch(benchmark::State& state) {
  AtThreads scope(1);
  at::Tensor a = at::rand({1024, 1024});
  for (auto _ : state) {
    at::Tensor c = a.t().contiguous();
    benchmark::DoNotOptimize(c.unsafeGetTensorImpl());
  }
}
BENCHMARK(BM_TransposeContiguous_libtorch)
    ->Name("TransposeContiguous1024/libtorch")
    ->Unit(benchmark::kMicrosecond);

void BM_LogSoftmax_libtorch(benchmark::State& state) {
  AtThreads scope(1);
  at::Tensor a = at::randn({256, 1024});
  for (auto _ : state) {
    at::Tensor s = at::log_softmax(a, 1);
    benchmark::DoNotOptimize(s.unsafeGetTensorImpl());
  }
}
BENCHMARK(BM_LogSoftmax_libtorch)
    ->Name("LogSoftmax256x1024/libtorch")
    ->Unit(benchmark::kMicrosecond);

void BM_PermuteContiguous_libtorch(benchmark::State& state) {
  AtThreads scope(1);
  at::Tensor a = at::rand({64, 128, 128});
  for (auto _ : state) {
    at::Tensor c = a.permute({0, 2, 1}).contiguous();
    benchmark::DoNotOptimize(c.unsafeGetTensorImpl());
  }
}
BENCHMARK(BM_PermuteContiguous_libtorch)
    ->Name("PermuteContiguous64x128x128/libtorch")
    ->Unit(benchmark::kMicrosecond);

void BM_Max16M_1thread_libtorch(benchmark::State& state) {
  AtThreads scope(1);
  at::Tensor a = at::rand({kBig});
  for (auto _ : state) {
    at::Tensor m = a.max();
    benchmark::DoNotOptimize(m.unsafeGetTensorImpl());
  }
}
BENCHMARK(BM_Max16M_1thread_libtorch)
    ->Name("Max16M_1thread/libtorch")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

template <typename F>
void at_math_1m(benchmark::State& state, F f) {
  AtThreads scope(1);
  at::Tensor a = at::randn({kMathN});
  for (auto _ : state) {
    at::Tensor r = f(a);
    benchmark::DoNotOptimize(r.unsafeGetTensorImpl());
  }
}
BENCHMARK_CAPTURE(at_math_1m, exp, [](const at::Tensor& a) { return a.exp(); })
    ->Name("Exp1M/libtorch")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(at_math_1m, log, [](const at::Tensor& a) { return a.abs().log(); })
    ->Name("AbsLog1M/libtorch")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(at_math_1m, tanh, [](const at::Tensor& a) { return a.tanh(); })
    ->Name("Tanh1M/libtorch")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(at_math_1m, sigmoid, [](const at::Tensor& a) { return a.sigmoid(); })
    ->Name("Sigmoid1M/libtorch")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(at_math_1m, gelu, [](const at::Tensor& a) { return at::gelu(a); })
    ->Name("Gelu1M/libtorch")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(at_math_1m, pow, [](const at::Tensor& a) { return a.pow(a); })
    ->Name("Pow1M/libtorch")
    ->Unit(benchmark::kMicrosecond);

void BM_ViewChain_libtorch(benchmark::State& state) {
  at::Tensor a = at::ones({4, 8, 16});
  for (auto _ : state) {
    at::Tensor v = a.transpose(0, 1).unsqueeze(0).select(1, 2).view({4, 16});
    benchmark::DoNotOptimize(v.unsafeGetTensorImpl());
  }
}
BENCHMARK(BM_ViewChain_libtorch)->Name("ViewChain/libtorch");

void BM_MaskIndex1M_libtorch(benchmark::State& state) {
  AtThreads scope(1);
  at::manual_seed(0);
  at::Tensor a = at::rand({kMaskN});
  at::Tensor mask = at::rand({kMaskN}).gt(0.5);
  const c10::List<c10::optional<at::Tensor>> indices({mask});
  for (auto _ : state) {
    at::Tensor r = at::index(a, indices);
    benchmark::DoNotOptimize(r.unsafeGetTensorImpl());
  }
  state.SetBytesProcessed(state.iterations() * kMaskN * int64_t{sizeof(float)});
}
BENCHMARK(BM_MaskIndex1M_libtorch)
    ->Name("MaskIndex1M/libtorch")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

void BM_IndexSelect64K_libtorch(benchmark::State& state) {
  AtThreads scope(1);
  at::manual_seed(0);
  at::Tensor a = at::rand({kRows, kRowLen});
  at::Tensor rows = at::arange(kRows);
  shuffle_rows(rows.data_ptr<int64_t>());
  for (auto _ : state) {
    at::Tensor r = at::index_select(a, 0, rows);
    benchmark::DoNotOptimize(r.unsafeGetTensorImpl());
  }
  state.SetBytesProcessed(state.iterations() * kRows * kRowLen * int64_t{sizeof(float)});
}
BENCHMARK(BM_IndexSelect64K_libtorch)
    ->Name("IndexSelect64K/libtorch")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
void BM_MulBroadcastInner_libtorch(benchmark::State& state) {
  AtThreads one(1);
  at::Tensor a = at::rand({64, 32, 1});
  at::Tensor b = at::rand({64, 32, 10});
  for (auto _ : state) {
    at::Tensor c = at::mul(a, b);
    benchmark::DoNotOptimize(c.unsafeGetTensorImpl());
  }
}
BENCHMARK(BM_MulBroadcastInner_libtorch)
    ->Name("MulBroadcastInner/libtorch")
    ->Unit(benchmark::kMicrosecond);

void BM_BmmTiny_libtorch(benchmark::State& state) {
  AtThreads one(1);
  at::Tensor a = at::rand({64, 1, 32});
  at::Tensor b = at::rand({64, 32, 10});
  for (auto _ : state) {
    at::Tensor c = at::bmm(a, b);
    benchmark::DoNotOptimize(c.unsafeGetTensorImpl());
  }
}
BENCHMARK(BM_BmmTiny_libtorch)->Name("BmmTiny/libtorch")->Unit(benchmark::kMicrosecond);
#endif

}  // namespace

BENCHMARK_MAIN();
