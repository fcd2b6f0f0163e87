// Fused elementwise steps of an aot::Model: which runs of steps fuse, and
// that a fused group computes exactly what the steps compute one by one (and
// eager code), for every op fusion knows, on special values, odd lengths,
// broadcast operands, both float dtypes, and inputs it cannot take (which run
// unfused).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "switchyard/switchyard.h"

namespace sy::aot {
namespace {

using Fn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

// Values of every kind a kernel must agree on: NaN, infinities, signed zeros,
// denormals, huge and tiny, and ordinary values of both signs.
template <typename T>
Tensor special(int64_t n, uint32_t seed, ScalarType dtype) {
  using L = std::numeric_limits<T>;
  const T kinds[] = {L::quiet_NaN(), L::infinity(),   -L::infinity(),   T(0),
                     -T(0),          L::denorm_min(), -L::denorm_min(), L::min(),
                     L::max(),       -L::max(),       T(1e-30),         T(88.5),
                     T(-88.5),       T(710),          T(0.5),           T(-2)};
  Tensor t = empty({n}, TensorOptions().dtype(dtype));
  T* p = t.data_ptr<T>();
  std::mt19937 gen(seed);
  std::uniform_real_distribution<T> dist(T(-4), T(4));
  for (int64_t i = 0; i < n; ++i) {
    p[i] = gen() % 4 == 0 ? kinds[gen() % std::size(kinds)] : dist(gen);
  }
  return t;
}

Tensor special(IntArrayRef sizes, uint32_t seed, ScalarType dtype = kFloat32) {
  int64_t n = 1;
  for (int64_t s : sizes) n *= s;
  Tensor t = dtype == kFloat32 ? special<float>(n, seed, dtype) : special<double>(n, seed, dtype);
  return t.reshape(sizes);
}

// Same bits, or both NaN.
void expect_identical(const Tensor& a, const Tensor& b, const std::string& what) {
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  ASSERT_EQ(a.dtype(), b.dtype()) << what;
  const Tensor ca = a.contiguous(), cb = b.contiguous();
  const int64_t n = ca.numel();
  auto check = [&]<typename T>(T) {
    const T* x = static_cast<const T*>(ca.raw_data());
    const T* y = static_cast<const T*>(cb.raw_data());
    for (int64_t i = 0; i < n; ++i) {
      if (std::isnan(x[i]) && std::isnan(y[i])) continue;
      ASSERT_EQ(std::memcmp(&x[i], &y[i], sizeof(T)), 0)
          << what << ": element " << i << " is " << x[i] << " and " << y[i];
    }
  };
  if (ca.dtype() == kFloat32) {
    check(float{});
  } else {
    check(double{});
  }
}

// Traces `f` on `inputs`, compiles it fused and unfused, and checks both runs
// against eager in every output mode; returns the fused model.
Model check_fused(const Fn& f, const std::vector<Tensor>& inputs, const std::string& what) {
  const Graph g = trace(f, inputs);
  const Model fused = Model::compile(g);
  const Model plain = Model::compile(g, CompileOptions{.fuse_elementwise = false});
  EXPECT_TRUE(plain.fused_groups().empty()) << what;
  const std::vector<Tensor> expected = f(inputs);
  const RunStats before = fused.this_thread_stats();
  const std::vector<Tensor> a = fused.run(inputs);
  const RunStats after = fused.this_thread_stats();
  // Every group ran as one loop.
  EXPECT_EQ(after.fused_runs - before.fused_runs, fused.fused_groups().size()) << what;
  EXPECT_EQ(after.fused_fallbacks, before.fused_fallbacks) << what;
  const std::vector<Tensor> b = plain.run(inputs);
  for (size_t k = 0; k < expected.size(); ++k) {
    expect_identical(a[k], expected[k], what + " (fused vs eager)");
    expect_identical(b[k], expected[k], what + " (unfused vs eager)");
  }
  const BorrowedOutputs borrowed = fused.run_borrowed(inputs);
  for (size_t k = 0; k < expected.size(); ++k) {
    expect_identical(borrowed[k], expected[k], what + " (borrowed)");
  }
  return fused;
}

std::string fused_list(const Model& m) {
  std::string s;
  for (const std::string& g : m.fused_groups()) s += "[" + g + "]";
  return s;
}

// ---- which steps fuse -----------------------------------------------------------------------

TEST(AotFusion, AChainOfPointwiseStepsIsOneGroup) {
  const Tensor w = special({8}, 1), b = special({8}, 2);
  const Model m = check_fused(
      [&](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{relu(add(mul(in[0], w), b))};
      },
      {special({4, 8}, 3)}, "relu(x * w + b)");
  EXPECT_EQ(fused_list(m), "[nodes 0-2: mul+add+relu]");
}

TEST(AotFusion, AResultReadInsideTheGroupStaysInARegister) {
  // t = exp(-x) is read twice, both times inside the group.
  const Model m = check_fused(
      [](const std::vector<Tensor>& in) {
        const Tensor t = exp(neg(in[0]));
        return std::vector<Tensor>{mul(tanh(sigmoid(t)), t)};
      },
      {special({3, 100}, 4)}, "exp/neg inside");
  EXPECT_EQ(fused_list(m), "[nodes 0-4: neg+exp+sigmoid+tanh+mul]");
}

TEST(AotFusion, AResultReadAfterTheGroupEndsIt) {
  // t = exp(-x) is also read by sum, which does not fuse: t leaves the first group.
  const Model m = check_fused(
      [](const std::vector<Tensor>& in) {
        const Tensor t = exp(neg(in[0]));
        const Tensor u = tanh(sigmoid(t));
        return std::vector<Tensor>{mul(u, t.sum())};
      },
      {special({3, 100}, 4)}, "exp/neg escaping");
  EXPECT_EQ(fused_list(m), "[nodes 0-1: neg+exp][nodes 2-3: sigmoid+tanh]");
}

TEST(AotFusion, AnOutputInsideTheRunEndsTheGroup) {
  const Model m = check_fused(
      [](const std::vector<Tensor>& in) {
        const Tensor t = abs(sub(in[0], in[1]));
        return std::vector<Tensor>{t, sqrt(add(t, 1.0))};
      },
      {special({50}, 5), special({50}, 6)}, "output in the middle");
  EXPECT_EQ(fused_list(m), "[nodes 0-1: sub+abs][nodes 2-3: add+sqrt]");
}

TEST(AotFusion, OtherStepsAndIntegerTensorsDoNotFuse) {
  const Tensor w = special({6, 6}, 7);
  const Model m = check_fused(
      [&](const std::vector<Tensor>& in) {
        const Tensor h = mm(relu(in[0]), w);     // relu alone: a group needs two steps
        const Tensor i = add(mul(in[1], 3), 1);  // int64
        return std::vector<Tensor>{tanh(exp(h)), i};
      },
      {special({6, 6}, 8), arange(6, TensorOptions().dtype(kInt64))}, "mixed");
  EXPECT_EQ(fused_list(m), "[nodes 4-5: exp+tanh]");
}

// The model calls an overriding kernel (not the library's out= kernel, nor a
// fused loop) for every run.
TEST(AotFusion, AKernelRegisteredOverTheLibrarysIsNotReplaced) {
  Library lib(Library::IMPL, "sy", DispatchKey::CPU);
  const WarningHandler previous = set_warning_handler([](const std::string&) {});  // the override's
  lib.impl("tanh", [](const Tensor& t) { return add(t, 100.0); });
  set_warning_handler(previous);
  const Model m = check_fused(
      [](const std::vector<Tensor>& in) { return std::vector<Tensor>{exp(tanh(neg(in[0])))}; },
      {special({40}, 9)}, "tanh overridden");
  EXPECT_EQ(fused_list(m), "");
}

// ---- fused equals unfused, op by op -----------------------------------------------------------

struct OpCase {
  const char* name;
  std::function<Tensor(const Tensor&, const Tensor&)> f;
};

const std::vector<OpCase>& op_cases() {
  static const std::vector<OpCase> cases = {
      {"add", [](const Tensor& a, const Tensor& b) { return add(a, b); }},
      {"add alpha", [](const Tensor& a, const Tensor& b) { return add(a, b, 0.25); }},
      {"add scalar", [](const Tensor& a, const Tensor&) { return add(a, 1.5); }},
      {"sub", [](const Tensor& a, const Tensor& b) { return sub(a, b, 3); }},
      {"sub scalar", [](const Tensor& a, const Tensor&) { return sub(a, -2); }},
      {"mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }},
      {"mul scalar", [](const Tensor& a, const Tensor&) { return mul(a, 1e-3); }},
      {"div", [](const Tensor& a, const Tensor& b) { return div(a, b); }},
      {"div scalar", [](const Tensor& a, const Tensor&) { return div(a, 7); }},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }},
      {"neg", [](const Tensor& a, const Tensor&) { return neg(a); }},
      {"abs", [](const Tensor& a, const Tensor&) { return abs(a); }},
      {"exp", [](const Tensor& a, const Tensor&) { return exp(a); }},
      {"log", [](const Tensor& a, const Tensor&) { return log(a); }},
      {"sqrt", [](const Tensor& a, const Tensor&) { return sqrt(a); }},
      {"rsqrt", [](const Tensor& a, const Tensor&) { return rsqrt(a); }},
      {"sin", [](const Tensor& a, const Tensor&) { return sin(a); }},
      {"cos", [](const Tensor& a, const Tensor&) { return cos(a); }},
      {"tanh", [](const Tensor& a, const Tensor&) { return tanh(a); }},
      {"sigmoid", [](const Tensor& a, const Tensor&) { return sigmoid(a); }},
      {"relu", [](const Tensor& a, const Tensor&) { return relu(a); }},
      {"gelu", [](const Tensor& a, const Tensor&) { return gelu(a); }},
      {"gelu tanh", [](const Tensor& a, const Tensor&) { return gelu(a, "tanh"); }},
      {"clamp", [](const Tensor& a, const Tensor&) { return clamp(a, Scalar(-1.5), Scalar(2)); }},
      {"clamp min",
       [](const Tensor& a, const Tensor&) { return clamp(a, 0.5, std::optional<Scalar>()); }},
      {"clamp max",
       [](const Tensor& a, const Tensor&) { return clamp(a, std::optional<Scalar>(), Scalar(0)); }},
  };
  return cases;
}

TEST(AotFusion, EveryOpFusedEqualsItsKernelOnSpecialValues) {
  for (ScalarType dtype : {kFloat32, kFloat64}) {
    // An odd length (a partial last block) and one over the parallel grain.
    for (int64_t n : {int64_t{1}, int64_t{1001}, int64_t{70001}}) {
      for (const OpCase& c : op_cases()) {
        const std::string what =
            std::string(c.name) + " " + std::string(to_string(dtype)) + " n=" + std::to_string(n);
        // The op between two others, so it is inside a group: x*y -> op -> +x.
        const Model m = check_fused(
            [&](const std::vector<Tensor>& in) {
              const Tensor t = mul(in[0], in[1]);
              return std::vector<Tensor>{add(c.f(t, in[1]), in[0])};
            },
            {special({n}, 10, dtype), special({n}, 11, dtype)}, what);
        EXPECT_EQ(m.fused_groups().size(), 1u) << what << fused_list(m);
      }
    }
  }
}

TEST(AotFusion, BroadcastOperandsFuse) {
  const Tensor bias = special({7}, 12), bias2d = special({1, 3, 7}, 13);
  const Tensor scale = full({}, 0.5, TensorOptions().dtype(kFloat32));
  const Tensor one = full({}, 2.0, TensorOptions().dtype(kFloat64));
  const Model m = check_fused(
      [&](const std::vector<Tensor>& in) {
        const Tensor t = add(mul(in[0], scale), bias);     // 0-dim, and a row repeated
        const Tensor u = sub(bias2d, t);                   // [1, 3, 7] repeated, on the left
        return std::vector<Tensor>{div(one, sigmoid(u))};  // a float64 scalar into float32
      },
      {special({5, 3, 7}, 14)}, "broadcast");
  EXPECT_EQ(fused_list(m), "[nodes 0-4: mul+add+sub+sigmoid+div]");
}

TEST(AotFusion, StepsOfAnotherShapeRunUnfused) {
  // The outer product broadcasts [4, 1] against [5]: not a fused shape.
  const Fn f = [](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{exp(add(in[0], in[1]))};
  };
  const std::vector<Tensor> in = {special({4, 1}, 15), special({5}, 16)};
  const Model m = Model::compile(trace(f, in));
  ASSERT_EQ(m.fused_groups().size(), 1u);
  expect_identical(m.run(in)[0], f(in)[0], "outer broadcast");
  EXPECT_EQ(m.this_thread_stats().fused_runs, 0u);
  EXPECT_EQ(m.this_thread_stats().fused_fallbacks, 1u);
}

TEST(AotFusion, NonContiguousInputsRunUnfused) {
  const Model m = Model::compile(trace(
      [](const std::vector<Tensor>& in) { return std::vector<Tensor>{tanh(add(in[0], in[1]))}; },
      {special({6, 9}, 17), special({6, 9}, 18)}));
  ASSERT_EQ(m.fused_groups().size(), 1u);
  const Tensor x = special({9, 6}, 19).t(), y = special({6, 9}, 20);
  ASSERT_FALSE(x.is_contiguous());
  expect_identical(m.run({x, y})[0], tanh(add(x, y)), "non-contiguous");
  EXPECT_EQ(m.this_thread_stats().fused_fallbacks, 1u);
  expect_identical(m.run({x.contiguous(), y})[0], tanh(add(x, y)), "contiguous again");
  EXPECT_EQ(m.this_thread_stats().fused_runs, 1u);
}

TEST(AotFusion, ABatchThatVariesKeepsFusing) {
  const Tensor b = special({16}, 21);
  const Model m = check_fused(
      [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{gelu(add(in[0], b))}; },
      {special({3, 16}, 22)}, "batch 3");
  ASSERT_TRUE(m.input(0).first_dim_varies);
  for (int64_t batch : {1, 3, 4000, 0}) {
    const Tensor x = special({batch, 16}, 23);
    expect_identical(m.run({x})[0], gelu(add(x, b)), "batch " + std::to_string(batch));
  }
}

TEST(AotFusion, ABorrowedOutputPassedBackInIsReadBeforeItIsWritten) {
  // mul.out writes the result straight into the output cache; the second run's
  // input is the first run's borrowed output, in that cache.
  const Tensor w = special({300}, 24);
  const Model m = Model::compile(trace(
      [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{mul(exp(neg(in[0])), w)}; },
      {special({300}, 25)}));
  ASSERT_EQ(m.fused_groups().size(), 1u);
  const Tensor x = special({300}, 26);
  const Tensor first = m.run_borrowed({x})[0].clone();
  expect_identical(first, mul(exp(neg(x)), w), "first run");
  const RunStats before = m.this_thread_stats();
  const BorrowedOutputs again = m.run_borrowed({m.run_borrowed({x})[0]});
  expect_identical(again[0], mul(exp(neg(first)), w), "fed back");
  // The second run's operand is in its result's memory: computed unfused.
  EXPECT_EQ(m.this_thread_stats().fused_runs - before.fused_runs, 1u);
  EXPECT_EQ(m.this_thread_stats().fused_fallbacks - before.fused_fallbacks, 1u);
}

TEST(AotFusion, SwappedWeightsAreRead) {
  const Tensor w = special({10}, 26);
  const Model m = check_fused(
      [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{relu(mul(in[0], w))}; },
      {special({2, 10}, 27)}, "before the swap");
  const Tensor w2 = special({10}, 28);
  m.swap_weights({w2});
  const Tensor x = special({2, 10}, 29);
  expect_identical(m.run({x})[0], relu(mul(x, w2)), "after the swap");
}

}  // namespace
}  // namespace sy::aot
