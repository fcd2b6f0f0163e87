// The backward engine: recorded graphs, backward() and grad(), accumulation,
// retain_graph and create_graph, hooks, retain_grad, and the errors of bad
// input (each leaving the gradients as they were).
#include <gtest/gtest.h>

#include "autograd_test_util.h"

namespace sy {
namespace {

using testing::close;
using testing::leaf;
using testing::throws_with;
using testing::values;

TEST(Recording, OpsOnTensorsThatRequireGradRecordNodes) {
  const Tensor x = leaf({1.0, 2.0, 3.0});
  const Tensor w = tensor({2.0, 2.0, 2.0}, TensorOptions().dtype(kFloat64));
  const Tensor y = x * w;
  EXPECT_TRUE(y.requires_grad());
  EXPECT_FALSE(y.is_leaf());
  ASSERT_NE(y.grad_fn(), nullptr);
  EXPECT_EQ(y.grad_fn()->name(), "MulBackward0");
  EXPECT_EQ(y.sum().grad_fn()->name(), "SumBackward0");
  EXPECT_TRUE(x.is_leaf());
  EXPECT_EQ(x.grad_fn(), nullptr);
}

TEST(Recording, NothingIsRecordedWithoutAnInputThatRequiresGrad) {
  const Tensor a = tensor({1.0, 2.0});
  const Tensor y = a * a;
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.grad_fn(), nullptr);
}

TEST(Recording, NothingIsRecordedUnderNoGrad) {
  const Tensor x = leaf({1.0, 2.0});
  NoGradGuard no_grad;
  const Tensor y = x * x;
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.grad_fn(), nullptr);
}

TEST(Recording, PrintingShowsTheGradFn) {
  const Tensor x = leaf({1.0, 2.0});
  EXPECT_EQ(x.to_string(), "tensor([1., 2.], dtype=sy.float64, requires_grad=True)");
  EXPECT_EQ((x * x).to_string(), "tensor([1., 4.], dtype=sy.float64, grad_fn=<MulBackward0>)");
}

TEST(Recording, IntegerResultsNeverRequireGrad) {
  const Tensor x = leaf({1.0, -2.0});
  const Tensor s = x.sum(kInt64);
  EXPECT_FALSE(s.requires_grad());
}

TEST(Backward, LinearModelGradients) {
  const Tensor x = leaf({1.0, 2.0, 3.0});
  const Tensor w = tensor({0.5, -1.0, 2.0}, TensorOptions().dtype(kFloat64));
  const Tensor b = tensor({1.0, 1.0, 1.0}, TensorOptions().dtype(kFloat64));
  (x * w + b).sum().backward();
  EXPECT_TRUE(close(x.grad(), {0.5, -1.0, 2.0}));
  EXPECT_FALSE(w.grad().defined());
}

TEST(Backward, DiamondGraphAddsBothPaths) {
  const Tensor x = leaf({0.5, 1.5});
  const Tensor a = x * 2.0;
  const Tensor b = x.sin();
  (a * b).sum().backward();
  std::vector<double> expected;
  for (double v : {0.5, 1.5}) expected.push_back(2 * std::sin(v) + 2 * v * std::cos(v));
  EXPECT_TRUE(close(x.grad(), expected));
}

TEST(Backward, EachNodeRunsOnce) {
  // y feeds four consumers; its node must run once with the summed gradient.
  const Tensor x = leaf({1.0, 2.0});
  int calls = 0;
  const Tensor y = x * x;
  y.register_hook([&](const Tensor& g) {
    ++calls;
    return Tensor();
  });
  (y + y + y + y).sum().backward();
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(close(x.grad(), {8.0, 16.0}));
}

TEST(Backward, GradientsAccumulateIntoLeaves) {
  const Tensor x = leaf({1.0, 2.0});
  (x * x).sum().backward();
  (x * 3.0).sum().backward();
  EXPECT_TRUE(close(x.grad(), {5.0, 7.0}));
  x.mutable_grad() = Tensor();
  (x * 3.0).sum().backward();
  EXPECT_TRUE(close(x.grad(), {3.0, 3.0}));
}

TEST(Backward, SharedLeafInTwoOperandsGetsSeparateGradTensors) {
  const Tensor x = leaf({1.0, 2.0});
  const Tensor y = leaf({3.0, 4.0});
  (x + y).sum().backward();
  EXPECT_FALSE(x.grad().is_same(y.grad()));
  x.grad().add_(tensor({10.0, 10.0}, TensorOptions().dtype(kFloat64)));
  EXPECT_TRUE(close(y.grad(), {1.0, 1.0}));
}

TEST(Backward, BroadcastGradientsAreSummedToTheInputShape) {
  const Tensor x = leaf({{1.0, 2.0}, {3.0, 4.0}});
  const Tensor b = leaf({10.0, 20.0});
  (x + b).sum().backward();
  EXPECT_TRUE(close(b.grad(), {2.0, 2.0}));
  EXPECT_TRUE(close(x.grad(), {1.0, 1.0, 1.0, 1.0}));
}

TEST(Backward, MixedDtypesGetGradientsOfTheirOwnDtype) {
  const Tensor x = tensor({1.0, 2.0}).requires_grad_();  // float32
  const Tensor y = leaf({3.0, 4.0});                     // float64
  (x * y).sum().backward();
  EXPECT_EQ(x.grad().dtype(), kFloat32);
  EXPECT_EQ(y.grad().dtype(), kFloat64);
  EXPECT_TRUE(close(x.grad(), {3.0, 4.0}));
}

TEST(Backward, MatrixProduct) {
  const Tensor a = leaf({{1.0, 2.0}, {3.0, 4.0}});
  const Tensor b = leaf({{5.0, 6.0}, {7.0, 8.0}});
  a.mm(b).sum().backward();
  EXPECT_TRUE(close(a.grad(), {11.0, 15.0, 11.0, 15.0}));
  EXPECT_TRUE(close(b.grad(), {4.0, 4.0, 6.0, 6.0}));
}

TEST(Backward, NonScalarNeedsAGradient) {
  const Tensor x = leaf({1.0, 2.0});
  const Tensor y = x * 2.0;
  EXPECT_TRUE(throws_with<AutogradError>([&] { y.backward(); }, {"one-element", "shape [2]"}));
  y.backward(tensor({1.0, 10.0}, TensorOptions().dtype(kFloat64)));
  EXPECT_TRUE(close(x.grad(), {2.0, 20.0}));
}

TEST(Backward, GradientOfTheWrongShapeIsAnError) {
  const Tensor x = leaf({1.0, 2.0});
  const Tensor y = x * 2.0;
  EXPECT_TRUE(throws_with<AutogradError>(
      [&] {
        y.backward(tensor({1.0, 2.0, 3.0}, TensorOptions().dtype(kFloat64)));
      },
      {"gradient 0 has shape [3]", "shape [2]"}));
}

TEST(Backward, TensorThatDoesNotRequireGradIsAnError) {
  const Tensor a = tensor({1.0});
  EXPECT_TRUE(throws_with<AutogradError>([&] { a.backward(); }, {"does not require grad"}));
}

TEST(RetainGraph, SecondBackwardWithoutItFailsNamingTheNode) {
  const Tensor x = leaf({1.0, 2.0});
  const Tensor y = (x * x).sum();
  y.backward();
  EXPECT_TRUE(throws_with<AutogradError>([&] { y.backward(); },
                                         {"MulBackward0", "second time", "retain_graph"}));
  EXPECT_TRUE(close(x.grad(), {2.0, 4.0}));  // the failed call changed nothing
}

TEST(RetainGraph, KeepsSavedTensorsForAnotherBackward) {
  const Tensor x = leaf({1.0, 2.0});
  const Tensor y = (x * x).sum();
  y.backward({}, /*retain_graph=*/true);
  y.backward();
  EXPECT_TRUE(close(x.grad(), {4.0, 8.0}));
}

TEST(Grad, ReturnsGradientsWithoutTouchingDotGrad) {
  const Tensor x = leaf({1.0, 2.0});
  const Tensor y = (x * x * x).sum();
  const std::vector<Tensor> g = autograd::grad({y}, {x});
  ASSERT_EQ(g.size(), 1u);
  EXPECT_TRUE(close(g[0], {3.0, 12.0}));
  EXPECT_FALSE(x.grad().defined());
}

TEST(Grad, OfANonLeafInput) {
  const Tensor x = leaf({1.0, 2.0});
  const Tensor h = x * 3.0;
  const Tensor y = (h * h).sum();
  const std::vector<Tensor> g = autograd::grad({y}, {h});
  EXPECT_TRUE(close(g[0], {6.0, 12.0}));
}

TEST(Grad, OnlyRunsWhatLeadsToTheInputs) {
  const Tensor x = leaf({1.0});
  const Tensor z = leaf({2.0});
  int z_side = 0;
  const Tensor zz = z * z;
  zz.register_hook([&](const Tensor&) {
    ++z_side;
    return Tensor();
  });
  const Tensor y = (x * 2.0 + zz).sum();
  const std::vector<Tensor> g = autograd::grad({y}, {x});
  EXPECT_TRUE(close(g[0], {2.0}));
  EXPECT_EQ(z_side, 0);
}

TEST(Grad, UnusedInputIsAnErrorUnlessAllowed) {
  const Tensor x = leaf({1.0});
  const Tensor unused = leaf({1.0});
  const Tensor y = (x * x).sum();
  EXPECT_TRUE(throws_with<AutogradError>(
      [&] {
        autograd::grad({y}, {x, unused}, {}, true);
      },
      {"input 1", "allow_unused"}));
  const std::vector<Tensor> g = autograd::grad({y}, {x, unused}, {}, true, false, true);
  EXPECT_TRUE(close(g[0], {2.0}));
  EXPECT_FALSE(g[1].defined());
}

TEST(Grad, InputThatDoesNotRequireGradIsAnError) {
  const Tensor x = leaf({1.0});
  const Tensor c = tensor({1.0});
  const Tensor y = (x * x).sum();
  EXPECT_TRUE(throws_with<AutogradError>([&] { autograd::grad({y}, {c}); },
                                         {"input 0 does not require grad"}));
}

TEST(CreateGraph, HessianVectorProduct) {
  const Tensor x = leaf({1.0, 2.0, 3.0});
  const Tensor v = tensor({1.0, 0.5, -1.0}, TensorOptions().dtype(kFloat64));
  const Tensor y = (x * x * x).sum();  // d2y/dx2 = diag(6x)
  const Tensor g = autograd::grad({y}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
  EXPECT_TRUE(g.requires_grad());
  EXPECT_TRUE(close(g, {3.0, 12.0, 27.0}));
  const Tensor hv = autograd::grad({(g * v).sum()}, {x})[0];
  EXPECT_TRUE(close(hv, {6.0, 6.0, -18.0}));
}

TEST(CreateGraph, BackwardWithCreateGraphGivesADifferentiableGrad) {
  const Tensor x = leaf({2.0});
  (x * x * x).sum().backward({}, std::nullopt, /*create_graph=*/true);
  const Tensor g = x.grad();
  EXPECT_TRUE(g.requires_grad());
  const Tensor gg = autograd::grad({g.sum()}, {x})[0];
  EXPECT_TRUE(close(gg, {12.0}));
  // x.grad's history saves x: break the cycle, as PyTorch users must (LSan
  // checks that nothing else is left).
  x.mutable_grad() = Tensor();
}

TEST(Hooks, ReplaceTheGradientOfANonLeaf) {
  const Tensor x = leaf({1.0, 2.0});
  const Tensor y = x * 2.0;
  y.register_hook([](const Tensor& g) { return g * 10.0; });
  y.sum().backward();
  EXPECT_TRUE(close(x.grad(), {20.0, 20.0}));
}

TEST(Hooks, LeafHooksSeeAndReplaceItsGradient) {
  const Tensor x = leaf({1.0, 2.0});
  std::vector<double> seen;
  x.register_hook([&](const Tensor& g) {
    seen = values(g);
    return g + 1.0;
  });
  (x * 3.0).sum().backward();
  EXPECT_EQ(seen, (std::vector<double>{3.0, 3.0}));
  EXPECT_TRUE(close(x.grad(), {4.0, 4.0}));
}

TEST(Hooks, RemovedHookDoesNotRun) {
  const Tensor x = leaf({1.0});
  const uint64_t id = x.register_hook([](const Tensor& g) { return g * 100.0; });
  x.remove_hook(id);
  (x * 2.0).sum().backward();
  EXPECT_TRUE(close(x.grad(), {2.0}));
}

TEST(Hooks, HookThatThrowsReachesTheCallerAndLeavesGradsAlone) {
  const Tensor x = leaf({1.0});
  const Tensor z = leaf({1.0});
  const Tensor y = x * 2.0;
  y.register_hook([](const Tensor&) -> Tensor { throw ValueError("hook says no"); });
  EXPECT_TRUE(throws_with<ValueError>([&] { (y + z).sum().backward({}, true); },
                                      {"MulBackward0", "hook says no"}));
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(z.grad().defined());
}

TEST(Hooks, AfterAFailureARetainedGraphRunsAgain) {
  const Tensor x = leaf({1.0, 2.0});
  const Tensor y = x * x;
  bool fail = true;
  y.register_hook([&](const Tensor&) -> Tensor {
    if (fail) throw ValueError("not this time");
    return Tensor();
  });
  const Tensor loss = y.sum();
  EXPECT_THROW(loss.backward({}, /*retain_graph=*/true), ValueError);
  EXPECT_FALSE(x.grad().defined());
  fail = false;
  loss.backward();
  EXPECT_TRUE(close(x.grad(), {2.0, 4.0}));
}

TEST(Hooks, HookReturningTheWrongShapeIsAnError) {
  const Tensor x = leaf({1.0, 2.0});
  const Tensor y = x * 2.0;
  y.register_hook([](const Tensor&) {
    return tensor({1.0, 2.0, 3.0}, TensorOptions().dtype(kFloat64));
  });
  EXPECT_TRUE(throws_with<AutogradError>([&] { y.sum().backward(); }, {"MulBackward0", "shape"}));
  EXPECT_FALSE(x.grad().defined());
}

TEST(Hooks, RegisteringOnATensorThatDoesNotRequireGradIsAnError) {
  const Tensor a = tensor({1.0});
  EXPECT_THROW(a.register_hook([](const Tensor& g) { return g; }), AutogradError);
}

TEST(RetainGrad, KeepsANonLeafsGradient) {
  const Tensor x = leaf({1.0, 2.0});
  const Tensor h = x * 3.0;
  h.retain_grad();
  EXPECT_TRUE(h.retains_grad());
  (h * h).sum().backward();
  EXPECT_TRUE(close(h.grad(), {6.0, 12.0}));
  EXPECT_TRUE(close(x.grad(), {18.0, 36.0}));
}

TEST(RetainGrad, NonLeafWithoutItHasNoGrad) {
  const Tensor x = leaf({1.0});
  const Tensor h = x * 3.0;
  h.sum().backward();
  EXPECT_FALSE(h.grad().defined());
}

TEST(RequiresGrad, IntegerTensorsCannotRequireGrad) {
  const Tensor i = tensor({1, 2, 3});
  EXPECT_TRUE(throws_with<AutogradError>([&] { i.requires_grad_(); }, {"floating-point", "int64"}));
}

TEST(RequiresGrad, NonLeafCannotStopRequiringGrad) {
  const Tensor x = leaf({1.0});
  const Tensor y = x * 2.0;
  EXPECT_TRUE(throws_with<AutogradError>([&] { y.requires_grad_(false); },
                                         {"only leaf tensors", "MulBackward0", "detach"}));
  EXPECT_TRUE(y.requires_grad());
}

TEST(Detach, SharesDataAndVersionButNotHistory) {
  const Tensor x = leaf({1.0, 2.0});
  const Tensor y = x * 2.0;
  const Tensor d = y.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.raw_data(), y.raw_data());
  const uint32_t before = y._version();
  d.add_(tensor({1.0, 1.0}, TensorOptions().dtype(kFloat64)));
  EXPECT_EQ(y._version(), before + 1);
}

TEST(Detach, InPlaceMakesALeaf) {
  const Tensor x = leaf({1.0});
  const Tensor y = x * 2.0;
  y.detach_();
  EXPECT_TRUE(y.is_leaf());
  EXPECT_FALSE(y.requires_grad());
}

TEST(Versions, InPlaceOpsBumpTheStoragesCounter) {
  const Tensor a = tensor({1.0, 2.0});
  EXPECT_EQ(a._version(), 0u);
  a.add_(tensor({1.0, 1.0}));
  EXPECT_EQ(a._version(), 1u);
  a.mul_(tensor({2.0, 2.0}));
  EXPECT_EQ(a._version(), 2u);
}

TEST(Versions, ViewsShareTheBasesCounter) {
  const Tensor a = tensor({{1.0, 2.0}, {3.0, 4.0}});
  const Tensor v = a.select(0, 1);
  v.mul_(tensor({2.0, 2.0}));
  EXPECT_EQ(a._version(), 1u);
  EXPECT_EQ(v._version(), 1u);
  EXPECT_TRUE(v.is_view());
  EXPECT_TRUE(v._base().is_same(a));
}

TEST(Versions, ModifyingASavedTensorIsAnErrorNamingBothVersions) {
  const Tensor x = leaf({1.0, 2.0});
  const Tensor w = tensor({3.0, 4.0}, TensorOptions().dtype(kFloat64));
  const Tensor y = (x * w).sum();
  w.add_(tensor({1.0, 1.0}, TensorOptions().dtype(kFloat64)));
  EXPECT_TRUE(throws_with<AutogradError>(
      [&] { y.backward(); }, {"MulBackward0", "in-place", "version 1", "expected version 0"}));
  EXPECT_FALSE(x.grad().defined());
}

TEST(InPlace, OnALeafThatRequiresGradIsAnError) {
  const Tensor x = leaf({1.0});
  EXPECT_TRUE(
      throws_with<AutogradError>([&] { x.add_(tensor({1.0}, TensorOptions().dtype(kFloat64))); },
                                 {"sy::add_.Tensor", "leaf"}));
  EXPECT_EQ(x._version(), 0u);
}

TEST(InPlace, OnALeafUnderNoGradIsAllowed) {
  const Tensor x = leaf({1.0});
  {
    NoGradGuard no_grad;
    x.add_(tensor({1.0}, TensorOptions().dtype(kFloat64)));
  }
  EXPECT_TRUE(close(x, {2.0}));
  EXPECT_TRUE(x.is_leaf());
}

TEST(InPlace, OnANonLeafRecordsTheOp) {
  const Tensor x = leaf({1.0, 2.0});
  const Tensor y = x * 2.0;
  y.mul_(x);  // y = 2x * x
  EXPECT_EQ(y.grad_fn()->name(), "MulBackward0");
  y.sum().backward();
  EXPECT_TRUE(close(x.grad(), {4.0, 8.0}));
}

TEST(InPlace, OnAViewRewritesTheBasesHistory) {
  const Tensor x = leaf({1.0, 2.0, 3.0});
  const Tensor base = x * 1.0;
  const Tensor v = base.select(0, 1);
  v.mul_(x.select(0, 2));  // base[1] = x[1] * x[2]
  EXPECT_EQ(base.grad_fn()->name(), "CopySlices");
  EXPECT_EQ(v.grad_fn()->name(), "AsStridedBackward0");
  base.sum().backward();
  EXPECT_TRUE(close(x.grad(), {1.0, 3.0, 1.0 + 2.0}));
}

TEST(InPlace, CopyIntoAViewOfATensorThatDidNotRequireGrad) {
  const Tensor x = leaf({5.0, 6.0});
  const Tensor out = zeros({2, 2}, TensorOptions().dtype(kFloat64));
  out.select(0, 0).copy_(x);
  EXPECT_TRUE(out.requires_grad());
  (out * 2.0).sum().backward();
  EXPECT_TRUE(close(x.grad(), {2.0, 2.0}));
}

TEST(InPlace, OnAViewOfALeafIsAnError) {
  const Tensor x = leaf({1.0, 2.0});
  EXPECT_TRUE(throws_with<AutogradError>(
      [&] { x.select(0, 0).mul_(tensor(2.0, TensorOptions().dtype(kFloat64))); },
      {"view of a leaf"}));
}

TEST(InPlace, OnAViewMadeInNoGradModeIsAnError) {
  const Tensor x = leaf({1.0, 2.0});
  const Tensor y = x * 1.0;
  Tensor v;
  {
    NoGradGuard no_grad;
    v = y.select(0, 0);
  }
  EXPECT_TRUE(throws_with<AutogradError>(
      [&] { v.mul_(tensor(2.0, TensorOptions().dtype(kFloat64))); }, {"no_grad"}));
}

TEST(InPlace, OnAViewDifferentiatesTwice) {
  // z = a * 1; z[0] *= b[0]; z[:, 1] = exp(z[:, 1]); L = sum(z * c)
  const Tensor a = leaf({{1.0, 2.0}, {3.0, 4.0}});
  const Tensor b = leaf({0.5, 1.5});
  const Tensor z = a * 1.0;
  z.select(0, 0).mul_(b);
  z.select(1, 1).exp_();
  const Tensor loss = (z * tensor({{1.0, 2.0}, {3.0, 4.0}}, TensorOptions().dtype(kFloat64))).sum();
  const auto g = autograd::grad({loss}, {a, b}, {}, std::nullopt, /*create_graph=*/true);
  // dL/da = c * [[b0, b1 e^{b1 a01}], [1, e^{a11}]]
  EXPECT_TRUE(close(g[0], {0.5, 2.0 * 1.5 * std::exp(3.0), 3.0, 4.0 * std::exp(4.0)}, 1e-9));
  ASSERT_TRUE(g[0].requires_grad());
  // d/db1 of dL/da01 = 2 (e^{3} + 1.5 * 2 e^{3}) = 2 e^3 (1 + 3)
  const auto gg = autograd::grad({g[0].select(0, 0).select(0, 1)}, {b}, {}, std::nullopt, false,
                                 /*allow_unused=*/true);
  EXPECT_TRUE(close(gg[0], {0.0, 2.0 * std::exp(3.0) * 4.0}, 1e-9));
}

// A view made before another view of its base was modified in place follows
// the base's new history: it requires grad, and its grad_fn is remade.
TEST(SiblingViews, FollowTheBasesNewHistory) {
  const Tensor x = zeros({4}, TensorOptions().dtype(kFloat64));
  const Tensor v1 = x.slice(0, 0, 2);
  const Tensor v2 = x.slice(0, 1, 3);
  const Tensor w = leaf({2.0, 3.0});
  EXPECT_FALSE(v2.requires_grad());
  v1.add_(w);
  EXPECT_TRUE(v2.requires_grad());
  EXPECT_FALSE(v2.is_leaf());
  // An op on the sibling records without anyone reading its grad_fn first.
  const Tensor y = (v2 * tensor({10.0, 100.0}, TensorOptions().dtype(kFloat64))).sum();
  EXPECT_TRUE(y.requires_grad());
  y.backward();
  EXPECT_TRUE(close(w.grad(), {0.0, 10.0}));
  EXPECT_EQ(v2.grad_fn()->name(), "AsStridedBackward0");
}

TEST(SiblingViews, AViewOfASiblingFollowsToo) {
  const Tensor x = zeros({4}, TensorOptions().dtype(kFloat64));
  const Tensor v1 = x.slice(0, 0, 2);
  const Tensor v3 = x.slice(0, 1, 4).slice(0, 0, 2);  // x[1:3] through x[1:]
  const Tensor w = leaf({1.0, 1.0});
  v1.mul_(w);
  v1.add_(w * tensor({2.0, 3.0}, TensorOptions().dtype(kFloat64)));
  (v3 * tensor({10.0, 100.0}, TensorOptions().dtype(kFloat64))).sum().backward();
  EXPECT_TRUE(close(w.grad(), {0.0, 30.0}));  // as torch: x[1] = w1 * 0 + 3 w1
}

TEST(SiblingViews, WithRetainGraphBackwardTwice) {
  const Tensor x = zeros({4}, TensorOptions().dtype(kFloat64));
  const Tensor v1 = x.slice(0, 0, 2);
  const Tensor v2 = x.slice(0, 1, 3);
  const Tensor w = leaf({1.0, 1.0});
  v1.add_(w * 3.0);
  const Tensor y = (v2 * v2).sum();
  y.backward({}, /*retain_graph=*/true);
  EXPECT_TRUE(close(w.grad(), {0.0, 18.0}));
  y.backward();
  EXPECT_TRUE(close(w.grad(), {0.0, 36.0}));
}

TEST(SiblingViews, UnderNoGradNothingRecords) {
  const Tensor x = zeros({4}, TensorOptions().dtype(kFloat64));
  const Tensor v1 = x.slice(0, 0, 2);
  const Tensor v2 = x.slice(0, 1, 3);
  v1.add_(leaf({1.0, 1.0}));
  NoGradGuard no_grad;
  EXPECT_FALSE((v2 * 2.0).requires_grad());
}

TEST(SiblingViews, ANoGradViewOfABaseThatChangedIsRefusedNamingTheHistory) {
  const Tensor x = zeros({4}, TensorOptions().dtype(kFloat64));
  Tensor v2;
  {
    NoGradGuard no_grad;
    v2 = x.slice(0, 1, 3);
  }
  x.slice(0, 0, 2).add_(leaf({1.0, 1.0}));
  EXPECT_TRUE(v2.requires_grad());
  EXPECT_TRUE(throws_with<AutogradError>([&] { (void)(v2 * 2.0); },
                                         {"no_grad mode", "CopySlices of AddBackward0"}));
  EXPECT_TRUE(throws_with<AutogradError>([&] { v2.mul_(2.0); }, {"sy::mul_", "no_grad mode"}));
}

TEST(SiblingViews, OneOfSeveralViewsOfABaseThatChangedIsRefused) {
  const Tensor x = zeros({4}, TensorOptions().dtype(kFloat64));
  const std::vector<Tensor> parts = x.split(int64_t{2});
  x.add_(leaf({1.0, 1.0, 1.0, 1.0}));
  EXPECT_TRUE(throws_with<AutogradError>([&] { (void)parts[0].grad_fn(); },
                                         {"one of several", "AddBackward0"}));
}

TEST(SiblingViews, AViewOfALeafThatStartedRequiringGradRequiresGradWithoutHistory) {
  const Tensor x = zeros({4}, TensorOptions().dtype(kFloat64));
  const Tensor v = x.slice(0, 0, 2);
  x.requires_grad_();
  EXPECT_TRUE(v.requires_grad());
  EXPECT_TRUE(v.is_leaf());  // as in torch: nothing changed in place, so no history
  EXPECT_TRUE(throws_with<AutogradError>([&] { v.mul_(2.0); }, {"view of a leaf"}));
}

TEST(ViewOps, GradientsFlowThroughViews) {
  const Tensor x = leaf({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  const Tensor y = x.transpose(0, 1).reshape({6}) *
                   tensor({1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, TensorOptions().dtype(kFloat64));
  y.sum().backward();
  // x.t().reshape(6) lists x[0][0], x[1][0], x[0][1], ...
  EXPECT_TRUE(close(x.grad(), {1.0, 3.0, 5.0, 2.0, 4.0, 6.0}));
}

TEST(ViewOps, ExpandSumsBack) {
  const Tensor x = leaf({{1.0}, {2.0}});
  x.expand({2, 3}).sum().backward();
  EXPECT_TRUE(close(x.grad(), {3.0, 3.0}));
}

}  // namespace
}  // namespace sy
