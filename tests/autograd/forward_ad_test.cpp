// Forward-mode AD: dual levels, make_dual / unpack_dual, forward formulas,
// nested levels, and ops that only have a decomposition (seed 003's
// interface), including the interface left unset.
#include <cmath>

#include <gtest/gtest.h>

#include "autograd_test_util.h"
#include "switchyard/autograd/kernel_support.h"
#include "switchyard/decompositions/registry.h"

namespace sy {
namespace {

using autograd::forward_ad::DualLevel;
using autograd::forward_ad::make_dual;
using autograd::forward_ad::unpack_dual;
using testing::close;
using testing::throws_with;

Tensor f64(const TensorData& d) { return tensor(d, TensorOptions().dtype(kFloat64)); }

TEST(ForwardAD, JvpOfSinTimesX) {
  DualLevel level;
  const Tensor p = f64({0.5, 1.0, 2.0});
  const Tensor v = f64({1.0, -1.0, 0.5});
  const Tensor x = make_dual(p, v);
  const Tensor y = (x.sin() * x).sum();
  double expected = 0;
  const double ps[] = {0.5, 1.0, 2.0}, vs[] = {1.0, -1.0, 0.5};
  for (int i = 0; i < 3; ++i) expected += (std::cos(ps[i]) * ps[i] + std::sin(ps[i])) * vs[i];
  const auto [primal, tangent] = unpack_dual(y);
  EXPECT_TRUE(close(tangent, {expected}));
  EXPECT_FALSE(unpack_dual(primal).tangent.defined());
}

TEST(ForwardAD, TangentsAreDroppedWhenTheLevelEnds) {
  Tensor x;
  {
    DualLevel level;
    x = make_dual(f64({1.0}), f64({1.0}));
    EXPECT_TRUE(unpack_dual(x).tangent.defined());
  }
  EXPECT_FALSE(unpack_dual(x).tangent.defined());
  EXPECT_FALSE(autograd::forward_ad::current_level().has_value());
}

TEST(ForwardAD, MakeDualOutsideALevelIsAnError) {
  EXPECT_TRUE(throws_with<AutogradError>([] { make_dual(f64({1.0}), f64({1.0})); },
                                         {"make_dual", "dual level"}));
}

TEST(ForwardAD, MakeDualChecksTheTangent) {
  DualLevel level;
  EXPECT_TRUE(throws_with<AutogradError>(
      [] {
        make_dual(f64({1.0, 2.0}), f64({1.0}));
      },
      {"shape [1]", "shape [2]"}));
  EXPECT_TRUE(throws_with<AutogradError>(
      [] {
        make_dual(tensor({1, 2}), tensor({1, 2}));
      },
      {"floating-point"}));
}

TEST(ForwardAD, InPlaceOpsUpdateTheTangent) {
  DualLevel level;
  const Tensor x = make_dual(f64({2.0}), f64({1.0}));
  const Tensor y = x.clone();
  y.mul_(x);  // y = x^2: tangent 2x
  EXPECT_TRUE(close(unpack_dual(y).tangent, {4.0}));
}

TEST(ForwardAD, InPlaceOnAViewWritesIntoTheBasesTangent) {
  DualLevel level;
  const Tensor z = zeros({2, 3}, TensorOptions().dtype(kFloat64));  // no tangent yet
  const Tensor b = make_dual(f64({2.0, 2.0, 2.0}), f64({1.0, 2.0, 3.0}));
  z.select(0, 0).copy_(b);
  EXPECT_TRUE(close(unpack_dual(z).tangent, {1.0, 2.0, 3.0, 0.0, 0.0, 0.0}));
  z.select(0, 0).mul_(b);  // row 0 = b^2: tangent 2 b b_t
  EXPECT_TRUE(close(unpack_dual(z).tangent, {4.0, 8.0, 12.0, 0.0, 0.0, 0.0}));
  const Tensor column = z.select(1, 1);
  column.exp_();  // tangent exp(z) z_t, through a second view
  EXPECT_TRUE(close(unpack_dual(z).tangent, {4.0, 8.0 * std::exp(4.0), 12.0, 0.0, 0.0, 0.0}, 1e-9));
  EXPECT_TRUE(close(unpack_dual(column).tangent, {8.0 * std::exp(4.0), 0.0}, 1e-9));
}

TEST(ForwardAD, InPlaceOnADualWritesIntoItsTangentNotThePrimals) {
  DualLevel level;
  const Tensor p = f64({1.0, 1.0});
  const Tensor t = f64({2.0, 3.0});
  const Tensor x = make_dual(p, t);
  x.mul_(3.0);
  EXPECT_TRUE(close(unpack_dual(x).tangent, {6.0, 9.0}));
  EXPECT_TRUE(close(t, {6.0, 9.0}));  // as in PyTorch, the caller's tangent
  EXPECT_FALSE(unpack_dual(p).tangent.defined());
  const Tensor first = x.select(0, 0);
  first.mul_(2.0);  // a view of the dual: writes into the dual's tangent
  EXPECT_TRUE(close(unpack_dual(x).tangent, {12.0, 9.0}));
  EXPECT_FALSE(unpack_dual(p).tangent.defined());
}

TEST(ForwardAD, ViewsCarryTheViewOfTheTangent) {
  DualLevel level;
  const Tensor x = make_dual(f64({{1.0, 2.0}, {3.0, 4.0}}), f64({{10.0, 20.0}, {30.0, 40.0}}));
  EXPECT_TRUE(close(unpack_dual(x.select(0, 1)).tangent, {30.0, 40.0}));
  EXPECT_TRUE(close(unpack_dual(x.transpose(0, 1)).tangent, {10.0, 30.0, 20.0, 40.0}));
}

TEST(ForwardAD, AViewMadeBeforeItsBaseGotATangentCarriesIt) {
  DualLevel level;
  const Tensor x = zeros({4}, TensorOptions().dtype(kFloat64));
  const Tensor v1 = x.slice(0, 0, 2);
  const Tensor v2 = x.slice(0, 1, 3);
  const Tensor later = x.slice(0, 1, 4).slice(0, 1, 3);  // x[2:4] through x[1:]
  v1.add_(make_dual(f64({1.0, 1.0}), f64({1.0, 2.0})));
  EXPECT_TRUE(close(unpack_dual(v2).tangent, {2.0, 0.0}));
  EXPECT_TRUE(close(unpack_dual(v2 * 3.0).tangent, {6.0, 0.0}));
  EXPECT_TRUE(close(unpack_dual(later).tangent, {0.0, 0.0}));
  // It views the base's tangent: later in-place ops show through.
  later.add_(make_dual(f64({1.0, 1.0}), f64({5.0, 7.0})));
  EXPECT_TRUE(close(unpack_dual(x).tangent, {1.0, 2.0, 5.0, 7.0}));
  EXPECT_TRUE(close(unpack_dual(v2).tangent, {2.0, 5.0}));
}

TEST(ForwardAD, NestedLevelsGiveMixedSecondDerivatives) {
  DualLevel outer;
  const Tensor x1 = make_dual(f64({3.0}), f64({1.0}), outer.level());
  DualLevel inner;
  const Tensor x = make_dual(x1, f64({1.0}), inner.level());
  const Tensor y = x * x * x;
  // d/dx (d/dx x^3) = 6x = 18, through the inner tangent's outer tangent.
  const Tensor inner_t = unpack_dual(y, inner.level()).tangent;
  EXPECT_TRUE(close(inner_t, {27.0}));
  EXPECT_TRUE(close(unpack_dual(inner_t, outer.level()).tangent, {18.0}));
}

TEST(ForwardAD, WorksTogetherWithReverseMode) {
  DualLevel level;
  const Tensor p = f64({2.0}).requires_grad_();
  const Tensor x = make_dual(p, f64({1.0}));
  const Tensor y = (x * x).sum();
  EXPECT_TRUE(close(unpack_dual(y).tangent, {4.0}));
  y.backward();
  EXPECT_TRUE(close(p.grad(), {4.0}));
}

TEST(ForwardAD, AnOpWithoutAForwardFormulaUsesItsDecomposition) {
  // var.correction has a backward formula and a decomposition, no forward formula.
  DualLevel level;
  const Tensor x = make_dual(f64({1.0, 2.0, 4.0}), f64({1.0, 0.0, 0.0}));
  const Tensor y = x.var();
  EXPECT_TRUE(close(unpack_dual(y).primal, {7.0 / 3.0}));
  // d var / d x0 = 2 (x0 - mean) / (n - 1)
  EXPECT_TRUE(close(unpack_dual(y).tangent, {2 * (1.0 - 7.0 / 3.0) / 2}));
  // The result was made by the decomposition's ops, which recorded too.
  EXPECT_TRUE(decompositions::has_decomposition("sy::var.correction"));
}

TEST(ForwardAD, FormulasOfElementwiseOps) {
  DualLevel level;
  const Tensor x = make_dual(f64({0.5, -1.0}), f64({1.0, 2.0}));
  const Tensor y = x.sigmoid();
  std::vector<double> expected;
  for (auto [p, t] : {std::pair{0.5, 1.0}, std::pair{-1.0, 2.0}}) {
    const double s = 1 / (1 + std::exp(-p));
    expected.push_back(s * (1 - s) * t);
  }
  EXPECT_TRUE(close(unpack_dual(y).tangent, expected));
}

// An op whose autograd kernel, like a generated one, turns to the
// decomposition registry for forward mode.
class ForwardADTestOp : public ::testing::Test {
 protected:
  static Tensor twice_cpu(const Tensor& x) {
    return x.clone().mul_(tensor(2.0, TensorOptions().dtype(x.dtype())));
  }
  static Tensor twice_autograd(DispatchKeySet ks, const Tensor& x) {
    const OperatorHandle op = Dispatcher::singleton().find_op("fwad_test::twice");
    if (autograd::detail::any_has_forward_grad(x)) {
      return autograd::detail::decompose_for_forward_ad<Tensor>(op, x);
    }
    AutoDispatchBelowADInplaceOrView guard;
    return op.typed<Tensor(const Tensor&)>().redispatch(autograd::detail::after_autograd(ks), x);
  }
  Tensor call(const Tensor& x) {
    return Dispatcher::singleton()
        .find_op("fwad_test::twice")
        .typed<Tensor(const Tensor&)>()
        .call(x);
  }
  void SetUp() override {
    def_.def("twice(Tensor x) -> Tensor");
    cpu_.impl("twice", twice_cpu);
    autograd_.impl("twice", twice_autograd);
  }
  void TearDown() override { decompositions::remove_decomposition("fwad_test::twice"); }

  Library def_{Library::DEF, "fwad_test"};
  Library cpu_{Library::IMPL, "fwad_test", DispatchKey::CPU};
  Library autograd_{Library::IMPL, "fwad_test", DispatchKey::Autograd};
};

TEST_F(ForwardADTestOp, WithoutAFormulaOrADecompositionTheErrorNamesTheOp) {
  DualLevel level;
  const Tensor x = make_dual(f64({1.0}), f64({1.0}));
  EXPECT_TRUE(throws_with<DispatchError>(
      [&] { call(x); }, {"fwad_test::twice", "neither a forward formula", "nor a decomposition"}));
}

TEST_F(ForwardADTestOp, ARegisteredDecompositionIsUsed) {
  decompositions::register_decomposition("fwad_test::twice", [](const Tensor& x) { return x + x; });
  EXPECT_TRUE(decompositions::has_decomposition("fwad_test::twice"));
  DualLevel level;
  const Tensor x = make_dual(f64({1.0, 2.0}), f64({3.0, 4.0}));
  const Tensor y = call(x);
  EXPECT_TRUE(close(unpack_dual(y).primal, {2.0, 4.0}));
  EXPECT_TRUE(close(unpack_dual(y).tangent, {6.0, 8.0}));
}

TEST_F(ForwardADTestOp, WithTheInterfaceUnsetTheErrorSaysSo) {
  decompositions::register_decomposition("fwad_test::twice", [](const Tensor& x) { return x + x; });
  autograd::DecompositionInterface* saved = autograd::set_decomposition_impl(nullptr);
  DualLevel level;
  const Tensor x = make_dual(f64({1.0}), f64({1.0}));
  const bool named = throws_with<DispatchError>(
      [&] { call(x); },
      {"fwad_test::twice", "no decomposition library", "neither a forward formula"});
  autograd::set_decomposition_impl(saved);
  EXPECT_TRUE(named);
  EXPECT_TRUE(close(unpack_dual(call(x)).tangent, {2.0}));
}

TEST(DecompositionRegistry, ListsTheBuiltInOnes) {
  const std::vector<std::string> ops = decompositions::decomposed_ops();
  EXPECT_NE(std::find(ops.begin(), ops.end(), "sy::sigmoid"), ops.end());
  ASSERT_NE(autograd::get_decomposition_impl(), nullptr);
  EXPECT_TRUE(autograd::get_decomposition_impl()->has_decomposition(
      Dispatcher::singleton().find_op("sy::sigmoid").schema()));
}

}  // namespace
}  // namespace sy
