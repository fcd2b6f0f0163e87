// The AOT runtime (issue 14) against libtorch's TorchScript runtime, side by
// side in one process: a 1-op model (the runtime's own overhead), a 4x4
// mm+add+relu+sum model, and a 64-128-10 MLP at batch 32, on one thread and on
// two; and two chains of elementwise ops over 1024x1024 floats, fused (one
// loop, CompileOptions' default) and not, beside eager and TorchScript: six ops
// with tanh and sigmoid (much arithmetic an element), and five cheap ones
// (mostly memory traffic). At start-up, benchmarks/make_torchscript_models.py (Debian's python3 and
// torch) writes the TorchScript files and the weights into a temporary
// directory; the switchyard models are traced here from the same weights,
// saved and loaded with sy::aot::Model::load, and both sides' outputs are
// compared before anything is timed. Without python3 + torch the switchyard
// half runs alone on random weights.
//
// Both sides run inference on one intra-op thread (OpenBLAS included), and
// hand back their outputs without copying them: switchyard's run_borrowed,
// TorchScript's forward.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <switchyard/parallel/parallel.h>
#include <switchyard/switchyard.h>

#ifdef SWITCHYARD_HAVE_TORCH
#include <ATen/Parallel.h>
#include <torch/script.h>
#endif

extern "C" void openblas_set_num_threads(int);

namespace {

struct Weights {
  std::vector<sy::Tensor> tensors;
  bool from_torch = false;
};

sy::Tensor read_floats(const std::string& path, sy::IntArrayRef sizes) {
  std::ifstream f(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  sy::Tensor t = sy::empty(sizes);
  if (bytes.size() != static_cast<size_t>(t.numel()) * sizeof(float)) {
    std::fprintf(stderr, "bench_aot: %s has %zu bytes, expected %lld\n", path.c_str(), bytes.size(),
                 static_cast<long long>(t.numel() * sizeof(float)));
    std::exit(1);
  }
  std::memcpy(t.raw_data(), bytes.data(), bytes.size());
  return t;
}

sy::Tensor random(sy::IntArrayRef sizes, uint32_t seed) {
  sy::Tensor t = sy::empty(sizes);
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, 0.1f);
  for (int64_t i = 0; i < t.numel(); ++i) t.data_ptr<float>()[i] = dist(gen);
  return t;
}

struct Case {
  sy::aot::Model model;
  std::vector<sy::Tensor> inputs;
#ifdef SWITCHYARD_HAVE_TORCH
  std::optional<torch::jit::Module> torchscript;
  std::vector<torch::jit::IValue> torch_inputs;
#endif
};

struct Models {
  std::string dir;
  bool have_torch = false;
  std::optional<Case> one_op, small, mlp, pointwise, arith;
  std::optional<sy::aot::Model> pointwise_unfused, arith_unfused;
};

using Fn = std::vector<sy::Tensor> (*)(const std::vector<sy::Tensor>& in,
                                       const std::vector<sy::Tensor>& w);

Case make_case(Models& m, const std::string& name, Fn fn,
               const std::vector<std::pair<std::string, std::vector<int64_t>>>& weight_shapes,
               std::vector<int64_t> input_shape) {
  std::vector<sy::Tensor> w;
  uint32_t seed = 1;
  for (const auto& [key, shape] : weight_shapes) {
    w.push_back(m.have_torch ? read_floats(m.dir + "/" + name + "_" + key + ".bin", shape)
                             : random(shape, seed++));
  }
  const sy::Tensor x = random(input_shape, 99);
  const std::string path = m.dir + "/" + name + ".sy";
  sy::trace([&](const std::vector<sy::Tensor>& in) { return fn(in, w); }, {x}).save(path);
  Case c{sy::aot::Model::load(path), {x}};
  if (name == "pointwise") {
    m.pointwise_unfused = sy::aot::Model::load(path, {.fuse_elementwise = false});
  }
  if (name == "arith") m.arith_unfused = sy::aot::Model::load(path, {.fuse_elementwise = false});
#ifdef SWITCHYARD_HAVE_TORCH
  if (m.have_torch) {
    c.torchscript = torch::jit::load(m.dir + "/" + name + ".pt");
    c.torchscript->eval();
    const at::Tensor tx = at::from_blob(x.raw_data(), input_shape, at::kFloat).clone();
    c.torch_inputs = {tx};
    c10::InferenceMode guard;
    const at::Tensor expected = c.torchscript->forward(c.torch_inputs).toTensor().contiguous();
    const sy::Tensor got = c.model.run(c.inputs)[0].contiguous();
    double worst = expected.numel() == got.numel() ? 0.0 : INFINITY;
    for (int64_t i = 0; i < got.numel() && worst < INFINITY; ++i) {
      worst = std::max(worst, static_cast<double>(std::abs(got.data_ptr<float>()[i] -
                                                           expected.data_ptr<float>()[i])));
    }
    if (!(worst < 1e-4)) {
      std::fprintf(stderr, "bench_aot: %s: switchyard and TorchScript differ by %g\n", name.c_str(),
                   worst);
      std::exit(1);
    }
  }
#endif
  return c;
}

std::vector<sy::Tensor> one_op(const std::vector<sy::Tensor>& in, const std::vector<sy::Tensor>&) {
  return {sy::relu(in[0])};
}
std::vector<sy::Tensor> mm_add_relu_sum(const std::vector<sy::Tensor>& in,
                                        const std::vector<sy::Tensor>& w) {
  return {sy::relu(sy::add(sy::mm(in[0], w[0]), w[1])).sum()};
}
std::vector<sy::Tensor> mlp(const std::vector<sy::Tensor>& in, const std::vector<sy::Tensor>& w) {
  return {sy::addmm(w[3], sy::relu(sy::addmm(w[1], in[0], w[0])), w[2])};
}
// tanh(x * w + b) * sigmoid(x) + x / 2: six steps, one fused group.
std::vector<sy::Tensor> pointwise(const std::vector<sy::Tensor>& in,
                                  const std::vector<sy::Tensor>& w) {
  const sy::Tensor& x = in[0];
  return {sy::add(sy::mul(sy::tanh(sy::add(sy::mul(x, w[0]), w[1])), sy::sigmoid(x)), x, 0.5)};
}
// relu(x * w + b) * 0.5 - x: five cheap steps, one fused group.
std::vector<sy::Tensor> arith(const std::vector<sy::Tensor>& in, const std::vector<sy::Tensor>& w) {
  const sy::Tensor& x = in[0];
  return {sy::sub(sy::mul(sy::relu(sy::add(sy::mul(x, w[0]), w[1])), 0.5), x)};
}

Models& models() {
  static Models m = [] {
    Models m;
    char dir[] = "/tmp/bench_aot_XXXXXX";
    if (mkdtemp(dir) == nullptr) std::exit(1);
    m.dir = dir;
#ifdef SWITCHYARD_HAVE_TORCH
    const std::string cmd = std::string("/usr/bin/python3 ") + SY_SOURCE_DIR +
                            "/benchmarks/make_torchscript_models.py " + m.dir;
    m.have_torch = std::system(cmd.c_str()) == 0;
    if (!m.have_torch) std::fprintf(stderr, "bench_aot: no TorchScript models; switchyard only\n");
    at::set_num_threads(1);
#endif
    openblas_set_num_threads(1);
    sy::set_num_threads(1);
    m.one_op = make_case(m, "one_op", one_op, {}, {4});
    m.small =
        make_case(m, "mm_add_relu_sum", mm_add_relu_sum, {{"w", {4, 4}}, {"b", {4, 4}}}, {4, 4});
    m.mlp =
        make_case(m, "mlp", mlp,
                  {{"w1", {64, 128}}, {"b1", {128}}, {"w2", {128, 10}}, {"b2", {10}}}, {32, 64});
    m.pointwise =
        make_case(m, "pointwise", pointwise, {{"w", {1024}}, {"b", {1024}}}, {1024, 1024});
    m.arith = make_case(m, "arith", arith, {{"w", {1024}}, {"b", {1024}}}, {1024, 1024});
    if (m.pointwise->model.fused_groups().size() != 1 ||
        m.arith->model.fused_groups().size() != 1) {
      std::fprintf(stderr, "bench_aot: an elementwise chain did not fuse into one group\n");
      std::exit(1);
    }
    return m;
  }();
  return m;
}

void run_switchyard(benchmark::State& state, const Case& c) {
  // Each benchmark thread its own input (and, inside the model, its own state).
  std::vector<sy::Tensor> in = {c.inputs[0].clone()};
  for (auto _ : state) {
    sy::aot::BorrowedOutputs out = c.model.run_borrowed(in);
    benchmark::DoNotOptimize(out[0].raw_data());
  }
  state.SetItemsProcessed(state.iterations());
}

#ifdef SWITCHYARD_HAVE_TORCH
void run_torchscript(benchmark::State& state, Case& c) {
  if (!c.torchscript) {
    state.SkipWithError("no TorchScript model (python3 + torch missing)");
    return;
  }
  c10::InferenceMode guard;
  at::set_num_threads(1);
  std::vector<torch::jit::IValue> in = {c.torch_inputs[0].toTensor().clone()};
  for (int i = 0; i < 10; ++i) c.torchscript->forward(in);  // the profiling executor's runs
  for (auto _ : state) {
    torch::jit::IValue out = c.torchscript->forward(in);
    benchmark::DoNotOptimize(out.toTensor().data_ptr());
  }
  state.SetItemsProcessed(state.iterations());
}
#endif

// ---- 1 op: the runtime's own overhead ---------------------------------------------------

void BM_OneOp_switchyard(benchmark::State& state) { run_switchyard(state, *models().one_op); }
BENCHMARK(BM_OneOp_switchyard)->Name("AotOneOp/switchyard");

void BM_OneOp_eager(benchmark::State& state) {
  const sy::Tensor x = models().one_op->inputs[0];
  for (auto _ : state) {
    sy::Tensor y = sy::relu(x);
    benchmark::DoNotOptimize(y.impl());
  }
}
BENCHMARK(BM_OneOp_eager)->Name("AotOneOp/eager");

// ---- the 4x4 model and the MLP -----------------------------------------------------------

void BM_Small_switchyard(benchmark::State& state) { run_switchyard(state, *models().small); }
BENCHMARK(BM_Small_switchyard)->Name("AotMmAddReluSum4x4/switchyard");

void BM_Mlp_switchyard(benchmark::State& state) { run_switchyard(state, *models().mlp); }
BENCHMARK(BM_Mlp_switchyard)->Name("AotMlp32/switchyard");

void BM_Mlp_owned_switchyard(benchmark::State& state) {
  const Case& c = *models().mlp;
  for (auto _ : state) {
    std::vector<sy::Tensor> out = c.model.run(c.inputs);
    benchmark::DoNotOptimize(out[0].raw_data());
  }
}
BENCHMARK(BM_Mlp_owned_switchyard)->Name("AotMlp32Owned/switchyard");

void BM_MlpThreads_switchyard(benchmark::State& state) { run_switchyard(state, *models().mlp); }
BENCHMARK(BM_MlpThreads_switchyard)
    ->Name("AotMlp32Threads/switchyard")
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

// ---- elementwise chains over 1024x1024 floats: fused, unfused, eager ----------------------

void run_unfused(benchmark::State& state, const sy::aot::Model& unfused, const Case& c) {
  std::vector<sy::Tensor> in = {c.inputs[0].clone()};
  for (auto _ : state) {
    sy::aot::BorrowedOutputs out = unfused.run_borrowed(in);
    benchmark::DoNotOptimize(out[0].raw_data());
  }
}

void run_eager(benchmark::State& state, Fn fn, const Case& c) {
  const std::vector<sy::Tensor> w = c.model.weights();
  for (auto _ : state) {
    std::vector<sy::Tensor> out = fn(c.inputs, w);
    benchmark::DoNotOptimize(out[0].raw_data());
  }
}

void BM_Pointwise_switchyard(benchmark::State& state) {
  run_switchyard(state, *models().pointwise);
}
BENCHMARK(BM_Pointwise_switchyard)->Name("AotPointwise1M/switchyard");
void BM_Pointwise_unfused(benchmark::State& state) {
  run_unfused(state, *models().pointwise_unfused, *models().pointwise);
}
BENCHMARK(BM_Pointwise_unfused)->Name("AotPointwise1M/unfused");
void BM_Pointwise_eager(benchmark::State& state) {
  run_eager(state, pointwise, *models().pointwise);
}
BENCHMARK(BM_Pointwise_eager)->Name("AotPointwise1M/eager");

void BM_Arith_switchyard(benchmark::State& state) { run_switchyard(state, *models().arith); }
BENCHMARK(BM_Arith_switchyard)->Name("AotArith1M/switchyard");
void BM_Arith_unfused(benchmark::State& state) {
  run_unfused(state, *models().arith_unfused, *models().arith);
}
BENCHMARK(BM_Arith_unfused)->Name("AotArith1M/unfused");
void BM_Arith_eager(benchmark::State& state) { run_eager(state, arith, *models().arith); }
BENCHMARK(BM_Arith_eager)->Name("AotArith1M/eager");

#ifdef SWITCHYARD_HAVE_TORCH
void BM_Pointwise_libtorch(benchmark::State& state) { run_torchscript(state, *models().pointwise); }
BENCHMARK(BM_Pointwise_libtorch)->Name("AotPointwise1M/libtorch");
void BM_Arith_libtorch(benchmark::State& state) { run_torchscript(state, *models().arith); }
BENCHMARK(BM_Arith_libtorch)->Name("AotArith1M/libtorch");

void BM_OneOp_libtorch(benchmark::State& state) { run_torchscript(state, *models().one_op); }
BENCHMARK(BM_OneOp_libtorch)->Name("AotOneOp/libtorch");

void BM_Small_libtorch(benchmark::State& state) { run_torchscript(state, *models().small); }
BENCHMARK(BM_Small_libtorch)->Name("AotMmAddReluSum4x4/libtorch");

void BM_Mlp_libtorch(benchmark::State& state) { run_torchscript(state, *models().mlp); }
BENCHMARK(BM_Mlp_libtorch)->Name("AotMlp32/libtorch");

void BM_MlpThreads_libtorch(benchmark::State& state) { run_torchscript(state, *models().mlp); }
BENCHMARK(BM_MlpThreads_libtorch)
    ->Name("AotMlp32Threads/libtorch")
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
#endif

}  // namespace

BENCHMARK_MAIN();
