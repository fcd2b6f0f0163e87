// Thread-local state that follows the work (issue 5): capturing and installing
// the per-thread snapshot, the grad and inference mode guards, an inter-op
// launch round trip, parallel_for over a single grain, and a 16M-element
// add_out on one thread and on all of them. Each case is a pair named
// <case>/switchyard and <case>/libtorch (the libtorch half only when libtorch
// is found), run side by side in one process; benchmarks/report.py prints the
// ratios and checks them against benchmarks/targets.json.
#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include <switchyard/autograd/grad_mode.h>
#include <switchyard/core/thread_local_state.h>
#include <switchyard/ops/ops.h>
#include <switchyard/parallel/parallel.h>
#include <switchyard/switchyard.h>

#ifdef SWITCHYARD_HAVE_TORCH
#include <future>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>
#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>
#endif

namespace {

// Shapes shared by both libraries.
constexpr int64_t kOneGrain = 2048;         // ParallelForOneGrain: range == grain
constexpr int64_t kBig = int64_t{1} << 24;  // 16M float32 elements = 64 MB per tensor
constexpr int64_t kAddBytes = 3 * kBig * int64_t{sizeof(float)};  // read a, b; write out

int hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

// Background load for the lifetime of the object: one thread per hardware
// thread spinning on arithmetic, at normal priority, as other programs (or
// other work in this one) keep every core busy.
class BusyCores {
 public:
  BusyCores() {
    for (int i = 0; i < hardware_threads(); ++i) {
      threads_.emplace_back([this] {
        uint64_t x = 1;
        while (!stop_.load(std::memory_order_relaxed)) {
          for (int k = 0; k < 1000; ++k) x = x * 6364136223846793005u + 1442695040888963407u;
          benchmark::DoNotOptimize(x);
        }
      });
    }
  }
  ~BusyCores() {
    stop_.store(true);
    for (auto& t : threads_) t.join();
  }
  BusyCores(const BusyCores&) = delete;
  BusyCores& operator=(const BusyCores&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

// set_num_threads only when the count changes: switchyard builds a new TBB
// arena on every call (and keeps the old one), which a benchmark that is
// re-entered for every repetition should not pile up needlessly.
void sy_threads(int n) {
  if (sy::get_num_threads() != n) sy::set_num_threads(n);
}

// ---- switchyard -----------------------------------------------------------------

void BM_ThreadLocalStateCapture_switchyard(benchmark::State& state) {
  for (auto _ : state) {
    sy::ThreadLocalState s;
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_ThreadLocalStateCapture_switchyard)->Name("ThreadLocalStateCapture/switchyard");

void BM_ThreadLocalStateGuard_switchyard(benchmark::State& state) {
  const sy::ThreadLocalState captured;
  for (auto _ : state) {
    sy::ThreadLocalStateGuard guard(captured);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_ThreadLocalStateGuard_switchyard)->Name("ThreadLocalStateGuard/switchyard");

void BM_NoGradGuard_switchyard(benchmark::State& state) {
  for (auto _ : state) {
    sy::NoGradGuard guard;
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_NoGradGuard_switchyard)->Name("NoGradGuard/switchyard");

void BM_InferenceModeGuard_switchyard(benchmark::State& state) {
  for (auto _ : state) {
    sy::InferenceMode guard;
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_InferenceModeGuard_switchyard)->Name("InferenceModeGuard/switchyard");

// Submit a trivial task to the inter-op pool, let it run there, block for its
// result. launch() captures the caller's ThreadLocalState, heap-allocates the
// shared future state and wraps the task in a std::function; get() blocks on a
// mutex + condition variable. The libtorch half below does the same work.
void BM_LaunchRoundTrip_switchyard(benchmark::State& state) {
  for (auto _ : state) {
    int r = sy::launch([] { return 1; }).get();
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_LaunchRoundTrip_switchyard)->Name("LaunchRoundTrip/switchyard")->UseRealTime();

// The same round trip while every core is busy with other work (issue 17):
// a waiter that spins takes the core its task needs.
void BM_LaunchRoundTripLoaded_switchyard(benchmark::State& state) {
  BusyCores load;
  for (auto _ : state) {
    int r = sy::launch([] { return 1; }).get();
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_LaunchRoundTripLoaded_switchyard)
    ->Name("LaunchRoundTripLoaded/switchyard")
    ->UseRealTime();

// A range of exactly one grain runs inline in both libraries: this measures
// what parallel_for costs around the body when it decides not to go parallel.
// The body is trivial (two stores into a small array) so the overhead shows.
void BM_ParallelForOneGrain_switchyard(benchmark::State& state) {
  std::array<int64_t, 16> out{};
  for (auto _ : state) {
    sy::parallel_for(0, kOneGrain, kOneGrain, [&](int64_t b, int64_t e) {
      out[static_cast<size_t>(b & 15)] = e;
      out[static_cast<size_t>((b + 1) & 15)] = e - b;
    });
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_ParallelForOneGrain_switchyard)->Name("ParallelForOneGrain/switchyard");

// out = a + b over 16M contiguous float32 elements into a preallocated (and
// already touched) out, with the intra-op thread count set to `threads`.
void sy_add_out_16m(benchmark::State& state, int threads) {
  const int saved = sy::get_num_threads();
  sy_threads(threads);
  sy::Tensor a = sy::ones({kBig});
  sy::Tensor b = sy::ones({kBig});
  sy::Tensor out = sy::zeros({kBig});
  for (auto _ : state) {
    sy::add_out(out, a, b);
    benchmark::DoNotOptimize(out.raw_data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kAddBytes);
  state.counters["threads"] = threads;
  sy_threads(saved);
}
void BM_AddOut16M_1thread_switchyard(benchmark::State& state) { sy_add_out_16m(state, 1); }
void BM_AddOut16M_allthreads_switchyard(benchmark::State& state) {
  sy_add_out_16m(state, hardware_threads());
}
BENCHMARK(BM_AddOut16M_1thread_switchyard)
    ->Name("AddOut16M_1thread/switchyard")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AddOut16M_allthreads_switchyard)
    ->Name("AddOut16M_allthreads/switchyard")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The ceiling for AddOut16M: one thread's std::memcpy of 64 MB (read 64 MB,
// write 64 MB). Bytes processed counts both, as AddOut16M counts its three.
void BM_MemcpyCeiling16M(benchmark::State& state) {
  const size_t bytes = static_cast<size_t>(kBig) * sizeof(float);
  std::vector<char> src(bytes, 1);
  std::vector<char> dst(bytes, 0);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), bytes);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * 2 * static_cast<int64_t>(bytes));
}
BENCHMARK(BM_MemcpyCeiling16M)
    ->Name("MemcpyCeiling/16M")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

#ifdef SWITCHYARD_HAVE_TORCH
// ---- libtorch counterparts -----------------------------------------------------

void BM_ThreadLocalStateCapture_libtorch(benchmark::State& state) {
  for (auto _ : state) {
    at::ThreadLocalState s;
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_ThreadLocalStateCapture_libtorch)->Name("ThreadLocalStateCapture/libtorch");

// libtorch's guard captures the current state on construction (to restore it)
// and installs the given one; the destructor installs the saved one.
void BM_ThreadLocalStateGuard_libtorch(benchmark::State& state) {
  const at::ThreadLocalState captured;
  for (auto _ : state) {
    at::ThreadLocalStateGuard guard(captured);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_ThreadLocalStateGuard_libtorch)->Name("ThreadLocalStateGuard/libtorch");

void BM_NoGradGuard_libtorch(benchmark::State& state) {
  for (auto _ : state) {
    at::NoGradGuard guard;
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_NoGradGuard_libtorch)->Name("NoGradGuard/libtorch");

void BM_InferenceModeGuard_libtorch(benchmark::State& state) {
  for (auto _ : state) {
    c10::InferenceMode guard;
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_InferenceModeGuard_libtorch)->Name("InferenceModeGuard/libtorch");

// at::launch takes a std::function<void()> and returns nothing, so the result
// travels through a std::promise<int>. Like switchyard's launch it captures
// the caller's ThreadLocalState (at::launch wraps the task in a
// ThreadLocalStateGuard), heap-allocates a shared state (the promise's, plus
// the shared_ptr that lets the std::function be copyable and keeps the promise
// alive until set_value() has returned on the worker) and blocks in get()
// (libstdc++'s future waits on a futex; switchyard's on a condition variable).
void BM_LaunchRoundTrip_libtorch(benchmark::State& state) {
  for (auto _ : state) {
    auto promise = std::make_shared<std::promise<int>>();
    std::future<int> result = promise->get_future();
    at::launch([promise] { promise->set_value(1); });
    int r = result.get();
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_LaunchRoundTrip_libtorch)->Name("LaunchRoundTrip/libtorch")->UseRealTime();

void BM_LaunchRoundTripLoaded_libtorch(benchmark::State& state) {
  BusyCores load;
  for (auto _ : state) {
    auto promise = std::make_shared<std::promise<int>>();
    std::future<int> result = promise->get_future();
    at::launch([promise] { promise->set_value(1); });
    int r = result.get();
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_LaunchRoundTripLoaded_libtorch)->Name("LaunchRoundTripLoaded/libtorch")->UseRealTime();

// Debian's libtorch uses the OpenMP backend, whose parallel_for is a header
// template; this file is not compiled with -fopenmp, so here at::parallel_for
// always takes its serial path (ThreadIdGuard + f), which skips the
// lazy_init_num_threads() check a -fopenmp build makes first. For a range of
// one grain the path is the same either way, minus that one thread-local
// check: if anything this flatters libtorch.
void BM_ParallelForOneGrain_libtorch(benchmark::State& state) {
  std::array<int64_t, 16> out{};
  for (auto _ : state) {
    at::parallel_for(0, kOneGrain, kOneGrain, [&](int64_t b, int64_t e) {
      out[static_cast<size_t>(b & 15)] = e;
      out[static_cast<size_t>((b + 1) & 15)] = e - b;
    });
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_ParallelForOneGrain_libtorch)->Name("ParallelForOneGrain/libtorch");

// at::add_out runs its loop inside libtorch (TensorIterator, OpenMP, grain
// 32768 like switchyard's), so the thread count set here applies.
void at_add_out_16m(benchmark::State& state, int threads) {
  const int saved = at::get_num_threads();
  at::set_num_threads(threads);
  at::Tensor a = at::ones({kBig});
  at::Tensor b = at::ones({kBig});
  at::Tensor out = at::zeros({kBig});
  for (auto _ : state) {
    at::add_out(out, a, b);
    benchmark::DoNotOptimize(out.data_ptr());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kAddBytes);
  state.counters["threads"] = threads;
  at::set_num_threads(saved);
}
void BM_AddOut16M_1thread_libtorch(benchmark::State& state) { at_add_out_16m(state, 1); }
void BM_AddOut16M_allthreads_libtorch(benchmark::State& state) {
  at_add_out_16m(state, hardware_threads());
}
BENCHMARK(BM_AddOut16M_1thread_libtorch)
    ->Name("AddOut16M_1thread/libtorch")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AddOut16M_allthreads_libtorch)
    ->Name("AddOut16M_allthreads/libtorch")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
#endif

}  // namespace

BENCHMARK_MAIN();
