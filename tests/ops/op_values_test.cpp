// The operator set's values, hand-checked: each family's ops on small inputs
// (contiguous, transposed, broadcast), every dtype where it matters, and the
// bad input each op must turn into an sy::Error naming what was wrong.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "switchyard/switchyard.h"

namespace sy {
namespace {

template <typename T>
std::vector<T> values(const Tensor& t) {
  const Tensor c = t.contiguous();
  const T* p = c.data_ptr<T>();
  return std::vector<T>(p, p + c.numel());
}

std::vector<float> f(const Tensor& t) { return values<float>(t); }
std::vector<int64_t> i64(const Tensor& t) { return values<int64_t>(t); }
std::vector<bool> b(const Tensor& t) {
  std::vector<bool> out;
  for (bool v : values<bool>(t)) out.push_back(v);
  return out;
}

// Expects `stmt` to throw E whose message contains `needle`.
template <typename E, typename F>
void expect_error(F stmt, const std::string& needle) {
  try {
    stmt();
    ADD_FAILURE() << "no exception; expected one mentioning '" << needle << "'";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

const float kNaN = std::numeric_limits<float>::quiet_NaN();

int64_t numel_of(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t v : s) n *= v;
  return n;
}
constexpr ScalarType kAll[] = {kBool, kUInt8, kInt32, kInt64, kFloat32, kFloat64};

// ---- type promotion -----------------------------------------------------------------------

TEST(Promotion, TensorsPromoteAlongTheChain) {
  for (ScalarType a : kAll) {
    for (ScalarType c : kAll) {
      const ScalarType want = static_cast<int>(a) >= static_cast<int>(c) ? a : c;
      EXPECT_EQ(
          result_type(ones({2}, TensorOptions().dtype(a)), ones({2}, TensorOptions().dtype(c))),
          want)
          << to_string(a) << " with " << to_string(c);
      EXPECT_EQ(promote_types(a, c), promote_types(c, a));
      if (a != kBool && c != kBool) {
        EXPECT_EQ(
            add(ones({2}, TensorOptions().dtype(a)), ones({2}, TensorOptions().dtype(c))).dtype(),
            want);
      }
    }
  }
}

TEST(Promotion, TiersFollowTheDocumentedTable) {
  auto t = [](ScalarType s) { return ones({2}, TensorOptions().dtype(s)); };
  auto z = [](ScalarType s) { return ones({}, TensorOptions().dtype(s)); };
  EXPECT_EQ(result_type(t(kInt32), Scalar(2.5)), kFloat32);
  EXPECT_EQ(result_type(t(kUInt8), Scalar(300)), kUInt8);
  EXPECT_EQ(result_type(t(kFloat32), z(kFloat64)), kFloat32);
  EXPECT_EQ(result_type(t(kInt32), z(kFloat64)), kFloat64);
  EXPECT_EQ(result_type(t(kBool), Scalar(1)), kInt64);
  EXPECT_EQ(result_type(z(kInt32), Scalar(2.5)), kFloat32);
  EXPECT_EQ(result_type(t(kInt64), t(kFloat32)), kFloat32);
  // The Scalar overloads follow the same rules.
  EXPECT_EQ(add(t(kInt32), 2.5).dtype(), kFloat32);
  EXPECT_EQ(mul(t(kUInt8), 300).dtype(), kUInt8);
  EXPECT_EQ(add(t(kBool), 1).dtype(), kInt64);
  EXPECT_EQ(add(z(kInt32), 5).dtype(), kInt32);
}

// ---- elementwise ----------------------------------------------------------------------------

TEST(Elementwise, ArithmeticBroadcastsAndUsesAlpha) {
  Tensor a = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  Tensor r = tensor({10.0, 20.0, 30.0});
  EXPECT_EQ(f(add(a, r, 2)), (std::vector<float>{21, 42, 63, 24, 45, 66}));
  EXPECT_EQ(f(sub(a, r)), (std::vector<float>{-9, -18, -27, -6, -15, -24}));
  EXPECT_EQ(f(mul(a.t(), tensor({{2.0}, {3.0}, {4.0}}))),
            (std::vector<float>{2, 8, 6, 15, 12, 24}));
  EXPECT_EQ(f(a + 1), (std::vector<float>{2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(f(2 * a - a), f(a));
  EXPECT_EQ(f(-a), (std::vector<float>{-1, -2, -3, -4, -5, -6}));
}

TEST(Elementwise, DivisionModesFollowPython) {
  Tensor n = tensor({7, -7, 7, -7});
  Tensor d = tensor({2, 2, -2, -2});
  EXPECT_EQ(div(n, d).dtype(), kFloat32);
  EXPECT_EQ(f(div(n, d)), (std::vector<float>{3.5, -3.5, -3.5, 3.5}));
  EXPECT_EQ(i64(div(n, d, "trunc")), (std::vector<int64_t>{3, -3, -3, 3}));
  EXPECT_EQ(i64(div(n, d, "floor")), (std::vector<int64_t>{3, -4, -4, 3}));
  EXPECT_EQ(i64(floor_divide(n, d)), (std::vector<int64_t>{3, -4, -4, 3}));
  EXPECT_EQ(i64(remainder(n, d)), (std::vector<int64_t>{1, 1, -1, -1}));
  EXPECT_EQ(f(remainder(tensor({-7.5}), 2)), (std::vector<float>{0.5}));
  EXPECT_EQ(f(div(tensor({-7.0}), 2, "floor")), (std::vector<float>{-4}));
  expect_error<ValueError>([&] { div(n, tensor({1, 0, 1, 1}), "floor"); }, "division by zero");
  expect_error<ValueError>([&] { remainder(n, 0); }, "division by zero");
  expect_error<ValueError>([&] { div(n, d, "round"); }, "rounding_mode");
  EXPECT_TRUE(std::isinf(f(div(tensor({1.0}), 0))[0]));
}

TEST(Elementwise, PowMaximumMinimumAndNaN) {
  EXPECT_EQ(i64(pow(tensor({2, 3}), 3)), (std::vector<int64_t>{8, 27}));
  EXPECT_EQ(f(pow(tensor({4.0, 9.0}), 0.5)), (std::vector<float>{2, 3}));
  EXPECT_EQ(f(pow(2.0, tensor({3.0}))), (std::vector<float>{8}));
  expect_error<ValueError>([] { pow(tensor({2}), tensor({-1})); }, "negative integer powers");
  const auto mx = f(maximum(tensor({1.0f, kNaN, 3.0f}), tensor({2.0f, 0.0f, kNaN})));
  EXPECT_EQ(mx[0], 2.0f);
  EXPECT_TRUE(std::isnan(mx[1]) && std::isnan(mx[2]));
  EXPECT_EQ(i64(minimum(tensor({1, 5}), tensor({3, 2}))), (std::vector<int64_t>{1, 2}));
}

TEST(Elementwise, ComparisonsLogicWhereAndClamp) {
  Tensor a = tensor({1, 2, 3});
  EXPECT_EQ(a.gt(2).dtype(), kBool);
  EXPECT_EQ(b(a.gt(2)), (std::vector<bool>{false, false, true}));
  EXPECT_EQ(b(a.le(tensor({1.5}))), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(b(eq(a, tensor({1, 0, 3}))), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(b(ne(a, 2)), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(b(logical_and(a, tensor({1, 0, 1}))), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(b(logical_or(tensor({0, 0}), tensor({0.0, 2.0}))), (std::vector<bool>{false, true}));
  EXPECT_EQ(b(logical_not(tensor({0, 4}))), (std::vector<bool>{true, false}));
  Tensor w = where(tensor({true, false, true}), a, tensor({10.5}));
  EXPECT_EQ(w.dtype(), kFloat32);
  EXPECT_EQ(f(w), (std::vector<float>{1, 10.5, 3}));
  expect_error<TypeError>([&] { where(a, a, a); }, "condition must be a bool tensor");
  const auto c = f(clamp(tensor({-2.0f, 0.5f, 9.0f, kNaN}), 0, 1));
  EXPECT_EQ(c[0], 0.0f);
  EXPECT_EQ(c[1], 0.5f);
  EXPECT_EQ(c[2], 1.0f);
  EXPECT_TRUE(std::isnan(c[3]));
  EXPECT_EQ(i64(clamp(tensor({-3, 3}), std::nullopt, 1)), (std::vector<int64_t>{-3, 1}));
}

TEST(Elementwise, UnaryMathComputesInFloatForIntegers) {
  Tensor e = exp(tensor({0, 1}));
  EXPECT_EQ(e.dtype(), kFloat32);
  EXPECT_NEAR(f(e)[1], std::exp(1.0f), 1e-6);
  EXPECT_EQ(f(sqrt(tensor({4.0, 9.0}))), (std::vector<float>{2, 3}));
  EXPECT_EQ(f(rsqrt(tensor({4.0}))), (std::vector<float>{0.5}));
  EXPECT_EQ(f(relu(tensor({-1.0, 2.0}))), (std::vector<float>{0, 2}));
  EXPECT_EQ(i64(abs(tensor({-3, 4}))), (std::vector<int64_t>{3, 4}));
  EXPECT_NEAR(f(sigmoid(tensor({0.0})))[0], 0.5f, 1e-7);
  EXPECT_NEAR(f(tanh(tensor({0.5})))[0], std::tanh(0.5f), 1e-6);
  EXPECT_NEAR(f(gelu(tensor({1.0})))[0], 0.8413447f, 1e-6);
  EXPECT_NEAR(f(gelu(tensor({1.0}), "tanh"))[0], 0.8411920f, 1e-6);
  EXPECT_NEAR(f(sin(tensor({0.5})))[0] + 0.0f, std::sin(0.5f), 1e-6);
  EXPECT_NEAR(f(cos(tensor({0.5})))[0], std::cos(0.5f), 1e-6);
  EXPECT_NEAR(f(log(tensor({2.0})))[0], std::log(2.0f), 1e-6);
  expect_error<TypeError>([] { neg(tensor({true})); }, "bool");
  expect_error<ValueError>([] { gelu(tensor({1.0}), "exact"); }, "approximate");
}

TEST(Elementwise, InPlaceAndOutWriteWhereTheyMay) {
  Tensor x = tensor({1.0, 2.0});
  x.add_(tensor({1, 1}));
  x.mul_(3).exp_().log_();
  EXPECT_EQ(f(x), (std::vector<float>{6, 9}));
  Tensor ints = tensor({1, 2});
  ints.add_(tensor({1}, TensorOptions().dtype(kInt32)));  // int32 result fits int64 self
  EXPECT_EQ(i64(ints), (std::vector<int64_t>{2, 3}));
  expect_error<TypeError>([&] { ints.add_(0.5); }, "cannot be written into self of dtype int64");
  expect_error<TypeError>([&] { ints.exp_(); }, "float32");
  expect_error<ValueError>([] { ones({3}).add_(ones({2, 3})); }, "cannot change self's shape");
  Tensor expanded = ones({1}).expand({4});
  expect_error<ValueError>([&] { expanded.add_(1); }, "overlap");
  Tensor out = empty({2}, TensorOptions().dtype(kInt64));
  expect_error<TypeError>(
      [&] {
        div_out(out, tensor({1, 2}), tensor({2, 2}));
      },
      "cannot be written into out of dtype int64");
  expect_error<ValueError>([&] { add_out(empty({3}), ones({2}), ones({2})); }, "out has shape [3]");
  Tensor fout = empty({2}, TensorOptions().dtype(kFloat64));
  add_out(fout, tensor({1, 2}), tensor({3, 4}));  // int64 result into float64 out
  EXPECT_EQ(values<double>(fout), (std::vector<double>{4, 6}));
  Tensor base = tensor({1.0, 2.0, 3.0, 4.0});
  add_out(base.slice(0, 1), base.slice(0, 0, 3), base.slice(0, 0, 3));  // overlapping out
  EXPECT_EQ(f(base), (std::vector<float>{1, 2, 4, 6}));
}

TEST(Elementwise, ShapeErrorsNameBothShapes) {
  expect_error<ValueError>([] { add(ones({2, 3}), ones({4})); }, "shapes [2, 3] and [4]");
  expect_error<ValueError>([] { mul(ones({2}), ones({3})); }, "mul");
  expect_error<ValueError>(
      [] { add(ones({2}), ones({2}, TensorOptions().device(Device("meta")))); }, "one device");
}

// ---- reductions ---------------------------------------------------------------------------

TEST(Reduction, SumOverAllAndSomeDims) {
  Tensor a = arange(24).view({2, 3, 4});
  EXPECT_EQ(sum(a).dtype(), kInt64);
  EXPECT_EQ(sum(a).item<int64_t>(), 276);
  EXPECT_EQ(i64(sum(a, {0, 2})), (std::vector<int64_t>{60, 92, 124}));
  EXPECT_EQ(sum(a, {1}, true).sizes(), IntArrayRef({2, 1, 4}));
  EXPECT_EQ(i64(sum(a, {0})), i64(add(a.select(0, 0), a.select(0, 1))));
  EXPECT_EQ(i64(sum(a.transpose(0, 2), {-1})), i64(sum(a, {0}).t()));
  EXPECT_EQ(sum(tensor({true, true, false})).item<int64_t>(), 2);
  EXPECT_EQ(sum(a, {}, false, kFloat64).dtype(), kFloat64);
  EXPECT_EQ(sum(empty({0})).item<float>(), 0.0f);
  expect_error<ValueError>([&] { sum(a, {1, -2}); }, "appears more than once");
  expect_error<IndexError>([&] { sum(a, {3}); }, "[-3, 2]");
}

TEST(Reduction, SumsLongFloatRowsAccurately) {
  EXPECT_EQ(sum(ones({1 << 22})).item<float>(), 4194304.0f);
  Tensor tenth = full({1000000}, 0.1f);
  EXPECT_NEAR(sum(tenth).item<double>(), 100000.0, 1.0);
}

TEST(Reduction, MeanProdVarStd) {
  Tensor a = tensor({{1.0, 2.0}, {3.0, 6.0}});
  EXPECT_EQ(mean(a).item<float>(), 3.0f);
  EXPECT_EQ(f(mean(a, {1})), (std::vector<float>{1.5, 4.5}));
  expect_error<TypeError>([] { mean(tensor({1, 2})); }, "pass dtype");
  EXPECT_EQ(mean(tensor({1, 2}), kFloat32).item<float>(), 1.5f);
  EXPECT_TRUE(std::isnan(mean(empty({0})).item<float>()));
  EXPECT_EQ(prod(a).item<float>(), 36.0f);
  EXPECT_EQ(f(prod(a, 0)), (std::vector<float>{3, 12}));
  EXPECT_EQ(prod(tensor({2, 3})).dtype(), kInt64);
  EXPECT_NEAR(var(a).item<float>(), 4.6666665f, 1e-5);
  EXPECT_NEAR(var(a, {}, 0).item<float>(), 3.5f, 1e-6);
  EXPECT_NEAR(f(std(a, {0}))[1], std::sqrt(8.0f), 1e-5);
  expect_error<TypeError>([] { var(tensor({1, 2})); }, "floating");
}

TEST(Reduction, MaxMinArgmaxWithTiesAndNaN) {
  Tensor a = tensor({{3, 7, 7}, {9, 1, 9}});
  EXPECT_EQ(max(a).item<int64_t>(), 9);
  EXPECT_EQ(min(a).item<int64_t>(), 1);
  auto [v, idx] = max(a, 1);
  EXPECT_EQ(i64(v), (std::vector<int64_t>{7, 9}));
  EXPECT_EQ(i64(idx), (std::vector<int64_t>{1, 0})) << "the first of equal values";
  auto [mv, mi] = min(a, 0, true);
  EXPECT_EQ(mv.sizes(), IntArrayRef({1, 3}));
  EXPECT_EQ(i64(mi), (std::vector<int64_t>{0, 1, 0}));
  EXPECT_EQ(argmax(a).item<int64_t>(), 3);
  EXPECT_EQ(i64(argmin(a, 1)), (std::vector<int64_t>{0, 1}));
  EXPECT_TRUE(std::isnan(max(tensor({1.0f, kNaN, 5.0f})).item<float>()));
  EXPECT_EQ(argmax(tensor({1.0f, kNaN, 5.0f})).item<int64_t>(), 1);
  expect_error<IndexError>([] { max(empty({0})); }, "empty");
}

TEST(Reduction, SoftmaxIsStableAndLogSoftmaxIsDirect) {
  Tensor x = tensor({{1.0, 2.0, 3.0}, {1000.0, 1000.0, 1000.0}});
  Tensor s = softmax(x, 1);
  for (float v : f(sum(s, {1}))) EXPECT_NEAR(v, 1.0f, 1e-6);
  EXPECT_NEAR(f(s)[3], 1.0f / 3.0f, 1e-6);
  Tensor ls = log_softmax(x, 1);
  for (float v : f(ls)) EXPECT_TRUE(std::isfinite(v));
  const auto lsv = f(ls), logs = f(log(s));
  for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(lsv[i], logs[i], 1e-5);
  Tensor col = softmax(x, 0);
  EXPECT_NEAR(f(col)[0], 0.0f, 1e-6);
  EXPECT_EQ(softmax(tensor({1, 2}), 0, kFloat64).dtype(), kFloat64);
  expect_error<TypeError>([] { softmax(tensor({1, 2}), 0); }, "floating");
}

// ---- linear algebra -------------------------------------------------------------------------

TEST(Linalg, MatrixProductsOnEveryLayoutAndDtype) {
  Tensor a = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  Tensor bm = tensor({{1.0, 0.0}, {0.0, 1.0}, {1.0, 1.0}});
  EXPECT_EQ(f(mm(a, bm)), (std::vector<float>{4, 5, 10, 11}));
  EXPECT_EQ(f(mm(bm.t().contiguous().t(), a.t().contiguous().t().t().t())), f(mm(bm, a)));
  EXPECT_EQ(f(mm(a.t().t(), bm)), f(mm(a, bm)));
  EXPECT_EQ(f(mm(a, bm.t().t())), f(mm(a, bm)));
  EXPECT_EQ(f(mm(a.t(), a)), (std::vector<float>{17, 22, 27, 22, 29, 36, 27, 36, 45}));
  Tensor ai = tensor({{1, 2}, {3, 4}});
  EXPECT_EQ(i64(mm(ai, ai)), (std::vector<int64_t>{7, 10, 15, 22}));
  EXPECT_EQ(values<double>(mm(a.to(kFloat64), bm.to(kFloat64)))[3], 11.0);
  EXPECT_EQ(f(mm(empty({2, 0}), empty({0, 3}))), std::vector<float>(6, 0.0f));
  EXPECT_EQ(dot(tensor({1.0, 2.0}), tensor({3.0, 4.0})).item<float>(), 11.0f);
  EXPECT_EQ(dot(tensor({1, 2}), tensor({3, 4})).item<int64_t>(), 11);
  Tensor nan_self = full({2, 2}, kNaN);
  EXPECT_EQ(f(addmm(nan_self, a, bm, 0, 1)), (std::vector<float>{4, 5, 10, 11}));
  EXPECT_EQ(f(addmm(tensor({1.0, 2.0}), a, bm, 2, 1)), (std::vector<float>{6, 9, 12, 15}));
}

TEST(Linalg, BatchedAndBroadcastMatmul) {
  Tensor x = arange(24, TensorOptions().dtype(kFloat32)).view({2, 3, 4});
  Tensor y = arange(8, TensorOptions().dtype(kFloat32)).view({4, 2});
  Tensor r = matmul(x, y);
  EXPECT_EQ(r.sizes(), IntArrayRef({2, 3, 2}));
  EXPECT_EQ(f(r.select(0, 1)), f(mm(x.select(0, 1), y)));
  Tensor bb = bmm(x, stack({y, y}));
  EXPECT_EQ(f(bb), f(r));
  EXPECT_EQ(matmul(tensor({1.0, 2.0, 3.0}), x).sizes(), IntArrayRef({2, 4}));
  EXPECT_EQ(matmul(x, tensor({1.0, 1.0, 1.0, 1.0})).sizes(), IntArrayRef({2, 3}));
  EXPECT_EQ(matmul(ones({5, 1, 3, 4}), ones({2, 4, 6})).sizes(), IntArrayRef({5, 2, 3, 6}));
  EXPECT_EQ(matmul(tensor({1.0, 2.0}), tensor({3.0, 4.0})).item<float>(), 11.0f);
}

// Small products skip BLAS (direct loops over the strides); larger ones call it.
// Both agree with per-batch mm on every layout.
TEST(Linalg, SmallAndLargeBmmAgreeWithMmOnEveryLayout) {
  for (int64_t n : {1, 3, 200}) {  // 200: 200 * 7 * 9 multiply-adds a matrix, BLAS
    for (ScalarType dtype : {kFloat32, kFloat64}) {
      const TensorOptions o = TensorOptions().dtype(dtype);
      Tensor a = arange(5 * n * 7, o).view({5, n, 7}).sin();
      Tensor bt = arange(5 * 9 * 7, o).view({5, 9, 7}).cos();  // b is bt transposed: stride 7
      Tensor b = bt.transpose(1, 2);
      Tensor at = a.transpose(1, 2).contiguous().transpose(1, 2);  // a with column-major rows
      for (const Tensor& x : {a, at}) {
        const Tensor r = bmm(x, b);
        ASSERT_EQ(r.sizes(), IntArrayRef({5, n, 9}));
        for (int64_t i = 0; i < 5; ++i) {
          const Tensor want = mm(x.select(0, i).contiguous(), b.select(0, i).contiguous());
          EXPECT_TRUE(allclose(r.select(0, i), want, 1e-5, 1e-6)) << n << " " << i;
        }
      }
      // An outer product ([B, k, 1] @ [B, 1, m]), as vmap's gradients make.
      const Tensor u = arange(5 * n, o).view({5, n, 1}), v = arange(5 * 4, o).view({5, 1, 4});
      EXPECT_TRUE(allclose(bmm(u, v), mul(u, v)));
    }
  }
}

// Contiguous rows of b: the small loops take m columns in register blocks of 16,
// 8 and 4 and a tail of up to 3; every width and depth agrees with mm.
TEST(Linalg, SmallBmmAgreesWithMmForEveryBlockWidthAndDepth) {
  for (int64_t m : {1, 2, 3, 4, 5, 8, 11, 16, 19, 31}) {
    for (int64_t k : {1, 2, 5, 32}) {
      for (ScalarType dtype : {kFloat32, kFloat64}) {
        const TensorOptions o = TensorOptions().dtype(dtype);
        const Tensor a = arange(3 * 2 * k, o).view({3, 2, k}).sin();
        const Tensor b = arange(3 * k * m, o).view({3, k, m}).cos();
        const Tensor r = bmm(a, b);
        for (int64_t i = 0; i < 3; ++i) {
          EXPECT_TRUE(allclose(r.select(0, i), mm(a.select(0, i), b.select(0, i)), 1e-5, 1e-6))
              << "m " << m << " k " << k << " batch " << i;
        }
      }
    }
  }
}

TEST(Linalg, ErrorsNameShapesAndDtypes) {
  expect_error<ValueError>(
      [] {
        mm(ones({2, 3}), ones({4, 5}));
      },
      "self is [2, 3] and mat2 is [4, 5]");
  expect_error<TypeError>(
      [] {
        mm(ones({2, 2}), ones({2, 2}, TensorOptions().dtype(kFloat64)));
      },
      "float32 and float64");
  expect_error<ValueError>([] { mm(ones({2}), ones({2, 2})); }, "two matrices");
  expect_error<TypeError>([] { mm(tensor({{true}}), tensor({{true}})); }, "bool");
  expect_error<ValueError>([] { bmm(ones({2, 2, 3}), ones({3, 3, 2})); }, "batch sizes");
  expect_error<ValueError>([] { matmul(ones({2, 3}), ones({2, 3})); }, "must equal mat2's rows");
  expect_error<ValueError>([] { matmul(ones({2, 2, 3}), ones({2, 2, 3})); }, "do not match");
  expect_error<ValueError>([] { dot(ones({2}), ones({3})); }, "one length");
}

// ---- views and shape ------------------------------------------------------------------------

TEST(Shape, ViewsShareStorageAndNeverCopy) {
  Tensor a = arange(12).view({3, 4});
  Tensor row = a.select(0, 1);
  row.fill_(0);
  EXPECT_EQ(i64(a.select(0, 1)), (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(a.t().raw_data(), a.raw_data());
  EXPECT_EQ(a.t().strides(), IntArrayRef({1, 4}));
  EXPECT_EQ(i64(a.slice(1, 1, std::nullopt, 2)), (std::vector<int64_t>{1, 3, 0, 0, 9, 11}));
  EXPECT_EQ(i64(a.slice(0, -10, 100)), i64(a)) << "start and end clamp";
  EXPECT_EQ(a.narrow(1, 1, 2).sizes(), IntArrayRef({3, 2}));
  EXPECT_EQ(a.unsqueeze(-1).sizes(), IntArrayRef({3, 4, 1}));
  EXPECT_EQ(ones({1, 3, 1}).squeeze().sizes(), IntArrayRef({3}));
  EXPECT_EQ(ones({2, 3}).squeeze(0).sizes(), IntArrayRef({2, 3}));
  EXPECT_EQ(a.permute({1, 0}).sizes(), IntArrayRef({4, 3}));
  Tensor e = tensor({1, 2, 3}).view({3, 1}).expand({2, 3, 4});
  EXPECT_EQ(e.strides(), IntArrayRef({0, 1, 0}));
  EXPECT_EQ(i64(e.select(0, 1).select(1, 3)), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(a.flatten().sizes(), IntArrayRef({12}));
  EXPECT_TRUE(a.contiguous().is_same(a));
  EXPECT_FALSE(a.t().contiguous().is_same(a));
  EXPECT_EQ(i64(a.t().contiguous()), i64(a.t()));
}

TEST(Shape, ReshapeCopiesOnlyWhenAViewCannot) {
  Tensor a = arange(6).view({2, 3});
  EXPECT_EQ(a.reshape({3, 2}).raw_data(), a.raw_data());
  Tensor r = a.t().reshape({6});
  EXPECT_NE(r.raw_data(), a.raw_data());
  EXPECT_EQ(i64(r), (std::vector<int64_t>{0, 3, 1, 4, 2, 5}));
  expect_error<ValueError>([&] { a.t().view({6}); }, "use reshape()");
  expect_error<ValueError>([&] { a.view({4, -1}); }, "invalid for a tensor of 6 elements");
  expect_error<ValueError>([&] { a.view({-1, -1}); }, "only one dimension can be -1");
}

TEST(Shape, BadDimsAndIndicesAreErrors) {
  Tensor a = ones({2, 3});
  expect_error<IndexError>([&] { a.select(1, 3); }, "index 3 is out of range for dim 1 of size 3");
  expect_error<IndexError>([&] { a.transpose(0, 2); }, "[-2, 1]");
  expect_error<ValueError>([&] { a.expand({2, 4}); }, "must be 1 or equal");
  expect_error<ValueError>([] { ones({1}).expand({-2}); }, "invalid size -2");
  expect_error<ValueError>([&] { a.permute({0, 0}); }, "appears twice");
  expect_error<ValueError>([&] { a.slice(0, 0, 2, 0); }, "step must be positive");
  expect_error<IndexError>([&] { a.narrow(1, 2, 2); }, "exceeds");
}

TEST(Shape, CopyConvertsBroadcastsAndMovesDevices) {
  for (ScalarType from : kAll) {
    for (ScalarType to_t : kAll) {
      Tensor dst = zeros({2, 2}, TensorOptions().dtype(to_t));
      dst.copy_(ones({2}, TensorOptions().dtype(from)));
      EXPECT_EQ(dst.to(kFloat64).sum().item<double>(), 4.0)
          << to_string(from) << " -> " << to_string(to_t);
    }
  }
  EXPECT_EQ(i64(tensor({1.7, -1.7}).to(kInt64)), (std::vector<int64_t>{1, -1}));
  EXPECT_EQ(b(tensor({0.0, 0.5}).to(kBool)), (std::vector<bool>{false, true}));
  Tensor m = ones({2, 3}).to(Device("meta"));
  EXPECT_TRUE(m.is_meta());
  expect_error<ValueError>([&] { m.to(kCPU); }, "meta tensor has no data");
  Tensor x = tensor({1.0});
  EXPECT_TRUE(x.to(kFloat32).is_same(x));
  EXPECT_FALSE(x.to(kFloat32, true).is_same(x));
  Tensor base = arange(5);
  base.slice(0, 1).copy_(base.slice(0, 0, 4));  // overlapping: reads before writing
  EXPECT_EQ(i64(base), (std::vector<int64_t>{0, 0, 1, 2, 3}));
  expect_error<ValueError>([] { ones({1}).expand({3}).copy_(ones({3})); }, "overlap");
}

// ---- creation ----------------------------------------------------------------------------------

TEST(Creation, RangesAndIdentity) {
  EXPECT_EQ(arange(5).dtype(), kInt64);
  EXPECT_EQ(i64(arange(5)), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(i64(arange(10, 0, -3)), (std::vector<int64_t>{10, 7, 4, 1}));
  EXPECT_EQ(f(arange(0, 1, 0.25)), (std::vector<float>{0, 0.25, 0.5, 0.75}));
  expect_error<ValueError>([] { arange(0, 1, 0); }, "nonzero");
  expect_error<ValueError>([] { arange(0, 5, -1); }, "away from end");
  EXPECT_EQ(f(linspace(0, 1, 5)), (std::vector<float>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(f(linspace(3, 3, 1)), (std::vector<float>{3}));
  EXPECT_EQ(f(eye(2, 3)), (std::vector<float>{1, 0, 0, 0, 1, 0}));
  EXPECT_EQ(zeros_like(ones({2}, TensorOptions().dtype(kInt32))).dtype(), kInt32);
  EXPECT_EQ(i64(full_like(arange(3), 7)), (std::vector<int64_t>{7, 7, 7}));
  Tensor z = arange(3);
  z.zero_();
  EXPECT_EQ(i64(z), (std::vector<int64_t>{0, 0, 0}));
}

TEST(Creation, TensorFromNestedListsInfersDtypeAndShape) {
  EXPECT_EQ(tensor({1, 2, 3}).dtype(), kInt64);
  EXPECT_EQ(tensor({0.5}).dtype(), kFloat32);
  EXPECT_EQ(tensor({1, 2.5}).dtype(), kFloat32);
  EXPECT_EQ(tensor({true, false}).dtype(), kBool);
  EXPECT_EQ(tensor(3).dim(), 0);
  EXPECT_EQ(tensor({}).sizes(), IntArrayRef({0}));
  Tensor m = tensor({{1, 2}, {3, 4}, {5, 6}});
  EXPECT_EQ(m.sizes(), IntArrayRef({3, 2}));
  EXPECT_EQ(i64(m), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(tensor({1, 2}, TensorOptions().dtype(kFloat64)).dtype(), kFloat64);
  expect_error<ValueError>([] { tensor({{1, 2}, {3}}); }, "[1] has 1 elements");
  expect_error<ValueError>([] { tensor({{1, 2}, 3}); }, "ragged");
}

TEST(Creation, RandomIsSeededPerThreadAndDistributed) {
  manual_seed(42);
  Tensor a = rand({1000});
  manual_seed(42);
  Tensor c = rand({1000});
  EXPECT_EQ(f(a), f(c));
  EXPECT_NE(f(rand({1000})), f(a));
  for (float v : f(a)) EXPECT_TRUE(v >= 0.0f && v < 1.0f);
  Tensor n = randn({200000});
  EXPECT_NEAR(mean(n).item<float>(), 0.0f, 0.02f);
  EXPECT_NEAR(var(n).item<float>(), 1.0f, 0.02f);
  EXPECT_NEAR(mean(rand({200000}, TensorOptions().dtype(kFloat64))).item<double>(), 0.5, 0.01);
  expect_error<TypeError>([] { rand({2}, TensorOptions().dtype(kInt64)); }, "floating-point");
  EXPECT_TRUE(randn({3}, TensorOptions().device(Device("meta"))).is_meta());
}

// ---- joining and indexing ---------------------------------------------------------------------

TEST(Indexing, CatStackSplitChunk) {
  Tensor a = tensor({{1, 2}, {3, 4}});
  Tensor c = cat({a, tensor({{5.5, 6.5}})});
  EXPECT_EQ(c.dtype(), kFloat32);
  EXPECT_EQ(f(c), (std::vector<float>{1, 2, 3, 4, 5.5, 6.5}));
  EXPECT_EQ(i64(cat({a, a.t()}, 1)), (std::vector<int64_t>{1, 2, 1, 3, 3, 4, 2, 4}));
  EXPECT_EQ(cat({a, empty({0}, TensorOptions().dtype(kInt64))}).sizes(), IntArrayRef({2, 2}));
  expect_error<ValueError>([&] { cat({a, ones({2, 3})}); }, "sizes must match except in dim 0");
  expect_error<ValueError>([] { cat({}); }, "non-empty");
  Tensor s = stack({tensor({1, 2}), tensor({3, 4})}, 1);
  EXPECT_EQ(i64(s), (std::vector<int64_t>{1, 3, 2, 4}));
  auto parts = arange(7).split(3);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(i64(parts[2]), (std::vector<int64_t>{6}));
  EXPECT_EQ(parts[1].raw_data(), static_cast<char*>(parts[0].raw_data()) + 3 * sizeof(int64_t));
  auto sized = arange(6).split({1, 5});
  EXPECT_EQ(sized[1].numel(), 5);
  expect_error<ValueError>([] { arange(6).split({1, 2}); }, "add up to 3");
  EXPECT_EQ(arange(7).chunk(3).size(), 3u);
  EXPECT_EQ(arange(2).chunk(5).size(), 2u);
}

TEST(Indexing, IndexSelectAndGather) {
  Tensor a = tensor({{1, 2, 3}, {4, 5, 6}});
  EXPECT_EQ(i64(a.index_select(1, tensor({2, 0}))), (std::vector<int64_t>{3, 1, 6, 4}));
  EXPECT_EQ(i64(a.t().index_select(0, tensor({1}))), (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(i64(a.index_select(0, tensor({-1}))), (std::vector<int64_t>{4, 5, 6}));
  expect_error<IndexError>([&] { a.index_select(0, tensor({2})); }, "index 2 is out of range");
  expect_error<TypeError>([&] { a.index_select(0, tensor({0.0})); }, "integer tensor");
  EXPECT_EQ(i64(a.gather(1, tensor({{2, 2}, {0, 1}}))), (std::vector<int64_t>{3, 3, 4, 5}));
  EXPECT_EQ(i64(a.gather(0, tensor({{1, 0, 1}}))), (std::vector<int64_t>{4, 2, 6}));
  expect_error<IndexError>([&] { a.gather(1, tensor({{3}})); }, "out of range");
  expect_error<ValueError>([&] { a.gather(1, tensor({1})); }, "number of dimensions");
  // As in PyTorch, zero-dim self and index count as one dimension of size 1.
  EXPECT_EQ(i64(tensor(5).gather(0, tensor({0, 0}))), (std::vector<int64_t>{5, 5}));
  EXPECT_EQ(tensor({4, 6}).gather(0, tensor(1)).dim(), 0);
  expect_error<ValueError>([] { tensor(5).gather(0, tensor({{0}})); }, "number of dimensions");
  expect_error<ValueError>([] { tensor(5).index_select(0, tensor({0, 0})); }, "exactly one index");
  EXPECT_EQ(tensor(5).index_select(0, tensor({0})).item<int64_t>(), 5);
}

}  // namespace
}  // namespace sy

namespace sy {
namespace {

// ---- properties ----------------------------------------------------------------------------

// Broadcasting, checked against its definition on random shapes: the result's
// shape, and every element of a + b read through the broadcast indices.
TEST(BroadcastProperty, AddMatchesTheDefinitionOnRandomShapes) {
  std::mt19937 gen(7);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(gen); };
  for (int trial = 0; trial < 300; ++trial) {
    const int nd = pick(0, 4);
    std::vector<int64_t> full(nd);
    for (auto& s : full) s = pick(0, 3);
    auto variant = [&] {  // a suffix of `full` with some sizes replaced by 1
      std::vector<int64_t> v(full.begin() + pick(0, nd), full.end());
      for (auto& s : v) {
        if (pick(0, 2) == 0) s = 1;
      }
      return v;
    };
    const std::vector<int64_t> sa = variant(), sb = variant();
    Tensor a = arange(1, 1 + std::max<int64_t>(1, numel_of(sa)), 1, TensorOptions().dtype(kFloat64))
                   .narrow(0, 0, numel_of(sa))
                   .view(sa);
    Tensor b =
        mul(arange(1, 1 + std::max<int64_t>(1, numel_of(sb)), 1, TensorOptions().dtype(kInt32))
                .narrow(0, 0, numel_of(sb)),
            100)
            .view(sb);
    const DimVector want = broadcast_shapes(sa, sb);
    Tensor c = add(a, b);
    ASSERT_EQ(c.sizes(), IntArrayRef(want))
        << to_string(IntArrayRef(sa)) << " + " << to_string(IntArrayRef(sb));
    ASSERT_EQ(c.dtype(), kFloat64);
    // Element at multi-index i reads a and b at i with broadcast dims pinned to 0.
    const Tensor cc = c.contiguous();
    std::vector<int64_t> idx(want.size(), 0);
    for (int64_t n = 0; n < c.numel(); ++n) {
      auto read = [&](const Tensor& t) {
        int64_t off = 0;
        const size_t shift = want.size() - static_cast<size_t>(t.dim());
        for (int64_t d = 0; d < t.dim(); ++d) {
          off += (t.sizes()[d] == 1 ? 0 : idx[shift + d]) * t.strides()[d];
        }
        return off;
      };
      const double expected = a.data_ptr<double>()[read(a)] + b.data_ptr<int32_t>()[read(b)];
      ASSERT_EQ(cc.data_ptr<double>()[n], expected);
      for (size_t d = want.size(); d-- > 0;) {
        if (++idx[d] < want[d]) break;
        idx[d] = 0;
      }
    }
  }
}

TEST(BroadcastProperty, IncompatibleShapesAreRejectedSymmetrically) {
  std::mt19937 gen(11);
  for (int trial = 0; trial < 200; ++trial) {
    const int64_t x = std::uniform_int_distribution<int64_t>(2, 4)(gen);
    const int64_t y = x + std::uniform_int_distribution<int64_t>(1, 3)(gen);
    EXPECT_THROW(broadcast_shapes({x, 1}, {y, 5}), ValueError);
    EXPECT_THROW(broadcast_shapes({y, 5}, {x, 1}), ValueError);
    EXPECT_EQ(broadcast_shapes({x, 1}, {1, y}).ref(), broadcast_shapes({1, y}, {x, 1}).ref());
  }
}

}  // namespace
}  // namespace sy
