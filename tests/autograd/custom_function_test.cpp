// Custom functions (sy::autograd::Function<T>) and the thread-local slots'
// veto hooks that autograd calls (seed 000).
#include <gtest/gtest.h>

#include "autograd_test_util.h"

namespace sy {
namespace {

using autograd::AutogradContext;
using autograd::variable_list;
using testing::close;
using testing::leaf;
using testing::throws_with;

struct Cube : autograd::Function<Cube> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x) {
    ctx->save_for_backward({x});
    return x * x * x;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const Tensor x = ctx->get_saved_variables()[0];
    return {grads[0] * 3.0 * x * x};
  }
};

TEST(CustomFunction, ForwardAndBackward) {
  const Tensor x = leaf({1.0, 2.0});
  const Tensor y = Cube::apply(x);
  EXPECT_TRUE(close(y, {1.0, 8.0}));
  ASSERT_NE(y.grad_fn(), nullptr);
  EXPECT_NE(y.grad_fn()->name().find("CubeBackward"), std::string::npos);
  y.sum().backward();
  EXPECT_TRUE(close(x.grad(), {3.0, 12.0}));
}

TEST(CustomFunction, ForwardRunsWithGradModeOff) {
  struct Probe : autograd::Function<Probe> {
    static Tensor forward(AutogradContext* ctx, const Tensor& x) {
      ctx->saved_data["grad_mode"] = GradMode::is_enabled();
      return x * 2.0;
    }
    static variable_list backward(AutogradContext* ctx, variable_list grads) {
      EXPECT_FALSE(ctx->saved_data["grad_mode"].to_bool());
      return {grads[0] * 2.0};
    }
  };
  const Tensor x = leaf({1.0});
  Probe::apply(x).sum().backward();
  EXPECT_TRUE(close(x.grad(), {2.0}));
}

TEST(CustomFunction, DoubleBackwardThroughABackwardWrittenInOps) {
  const Tensor x = leaf({2.0});
  const Tensor g = autograd::grad({Cube::apply(x).sum()}, {x}, {}, std::nullopt, true)[0];
  EXPECT_TRUE(close(g, {12.0}));
  EXPECT_TRUE(close(autograd::grad({g.sum()}, {x})[0], {12.0}));  // d/dx 3x^2 = 6x
}

struct ScaleBy : autograd::Function<ScaleBy> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x, double factor, const Tensor& y) {
    ctx->saved_data["factor"] = factor;
    ctx->saved_data["needs_x"] = ctx->needs_input_grad(0);
    ctx->saved_data["needs_factor"] = ctx->needs_input_grad(1);
    ctx->saved_data["needs_y"] = ctx->needs_input_grad(2);
    return x * factor + y;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const double f = ctx->saved_data["factor"].to_double();
    return {grads[0] * f, Tensor(), grads[0]};
  }
};

TEST(CustomFunction, NonTensorArgumentsAndNeedsInputGrad) {
  const Tensor x = leaf({1.0, 2.0});
  const Tensor y = tensor({1.0, 1.0}, TensorOptions().dtype(kFloat64));
  const Tensor out = ScaleBy::apply(x, 3.0, y);
  EXPECT_TRUE(close(out, {4.0, 7.0}));
  out.sum().backward();
  EXPECT_TRUE(close(x.grad(), {3.0, 3.0}));
}

struct WrongCount : autograd::Function<WrongCount> {
  static Tensor forward(AutogradContext*, const Tensor& x, const Tensor& y) { return x + y; }
  static variable_list backward(AutogradContext*, variable_list grads) { return {grads[0]}; }
};

TEST(CustomFunction, BackwardReturningTheWrongNumberOfGradientsIsAnError) {
  const Tensor x = leaf({1.0});
  const Tensor y = leaf({1.0});
  EXPECT_TRUE(throws_with<AutogradError>([&] { WrongCount::apply(x, y).sum().backward(); },
                                         {"WrongCount", "returned 1 gradients", "took 2"}));
  EXPECT_FALSE(x.grad().defined());
}

struct WrongShape : autograd::Function<WrongShape> {
  static Tensor forward(AutogradContext*, const Tensor& x) { return x * 1.0; }
  static variable_list backward(AutogradContext*, variable_list) {
    return {tensor({1.0, 2.0, 3.0}, TensorOptions().dtype(kFloat64))};
  }
};

TEST(CustomFunction, BackwardReturningTheWrongShapeIsAnError) {
  const Tensor x = leaf({1.0, 2.0});
  EXPECT_TRUE(throws_with<AutogradError>([&] { WrongShape::apply(x).sum().backward(); },
                                         {"WrongShapeBackward", "shape [3]", "[2]"}));
  EXPECT_FALSE(x.grad().defined());
}

struct Throws : autograd::Function<Throws> {
  static Tensor forward(AutogradContext*, const Tensor& x) { return x * 1.0; }
  static variable_list backward(AutogradContext*, variable_list) {
    throw TypeError("custom backward failed");
  }
};

TEST(CustomFunction, BackwardThatThrowsReachesTheCallerWithTheNodesName) {
  const Tensor x = leaf({1.0});
  const Tensor y = Throws::apply(x).sum();
  EXPECT_TRUE(throws_with<TypeError>([&] { y.backward({}, true); },
                                     {"ThrowsBackward", "custom backward failed"}));
  EXPECT_FALSE(x.grad().defined());
}

struct TwoOutputs : autograd::Function<TwoOutputs> {
  static variable_list forward(AutogradContext* ctx, const Tensor& x) {
    Tensor idx = tensor({0, 1});
    ctx->mark_non_differentiable({idx});
    return {x * 2.0, x * 3.0, idx};
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    // The unused second output's gradient arrives as zeros.
    EXPECT_TRUE(grads[1].defined());
    return {grads[0] * 2.0 + grads[1] * 3.0};
  }
};

TEST(CustomFunction, SeveralOutputsAndNonDifferentiableOnes) {
  const Tensor x = leaf({1.0, 2.0});
  const variable_list out = TwoOutputs::apply(x);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(out[0].requires_grad());
  EXPECT_FALSE(out[2].requires_grad());
  out[0].sum().backward();
  EXPECT_TRUE(close(x.grad(), {2.0, 2.0}));
}

struct AddOneInPlace : autograd::Function<AddOneInPlace> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x) {
    x.add_(tensor(1.0, TensorOptions().dtype(x.dtype())));
    ctx->mark_dirty({x});
    return x;
  }
  static variable_list backward(AutogradContext*, variable_list grads) { return {grads[0]}; }
};

TEST(CustomFunction, MarkDirtyRebasesTheInputsHistory) {
  const Tensor x = leaf({1.0, 2.0});
  const Tensor h = x * 2.0;
  const Tensor out = AddOneInPlace::apply(h);
  EXPECT_TRUE(out.is_same(h));
  EXPECT_TRUE(close(h, {3.0, 5.0}));
  EXPECT_NE(h.grad_fn()->name().find("AddOneInPlace"), std::string::npos);
  (h * h).sum().backward();
  EXPECT_TRUE(close(x.grad(), {12.0, 20.0}));
}

struct Identity : autograd::Function<Identity> {
  static Tensor forward(AutogradContext*, const Tensor& x) { return x; }
  static variable_list backward(AutogradContext*, variable_list grads) { return {grads[0] * 5.0}; }
};

TEST(CustomFunction, ReturningAnInputUnchangedGivesAnAliasWithItsOwnHistory) {
  const Tensor x = leaf({1.0});
  const Tensor y = Identity::apply(x);
  EXPECT_FALSE(y.is_same(x));
  EXPECT_EQ(y.raw_data(), x.raw_data());
  EXPECT_TRUE(x.is_leaf());
  y.sum().backward();
  EXPECT_TRUE(close(x.grad(), {5.0}));
}

struct SquareWithJvp : autograd::Function<SquareWithJvp> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x) {
    ctx->saved_data["x"] = x;
    return x * x;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return {grads[0] * 2.0 * ctx->saved_data["x"].to_tensor()};
  }
  static variable_list jvp(AutogradContext* ctx, variable_list tangents) {
    return {tangents[0] * 2.0 * ctx->saved_data["x"].to_tensor()};
  }
};

TEST(CustomFunction, ForwardModeUsesJvp) {
  autograd::forward_ad::DualLevel level;
  const Tensor p = tensor({3.0}, TensorOptions().dtype(kFloat64));
  const Tensor t = tensor({1.0}, TensorOptions().dtype(kFloat64));
  const Tensor y = SquareWithJvp::apply(autograd::forward_ad::make_dual(p, t));
  EXPECT_TRUE(close(autograd::forward_ad::unpack_dual(y).tangent, {6.0}));
}

TEST(CustomFunction, ForwardModeWithoutJvpIsAnError) {
  autograd::forward_ad::DualLevel level;
  const Tensor p = tensor({3.0}, TensorOptions().dtype(kFloat64));
  const Tensor t = tensor({1.0}, TensorOptions().dtype(kFloat64));
  EXPECT_TRUE(throws_with<DispatchError>(
      [&] { Cube::apply(autograd::forward_ad::make_dual(p, t)); }, {"Cube", "jvp"}));
}

// ---- the veto hooks (seed 000) ------------------------------------------------------------

struct VetoSlot final : ThreadLocalSlot {
  bool veto_cpp_function = false, veto_inplace_requires_grad = false, veto_retain_grad = false;
  std::unique_ptr<ThreadLocalSlot> deepcopy() const override {
    return std::make_unique<VetoSlot>(*this);
  }
  void check_supports_cpp_autograd_function() const override {
    if (veto_cpp_function) throw ValueError("test slot: no C++ functions here");
  }
  void check_supports_inplace_requires_grad() const override {
    if (veto_inplace_requires_grad) throw ValueError("test slot: no requires_grad_ here");
  }
  void check_supports_retain_grad() const override {
    if (veto_retain_grad) throw ValueError("test slot: no retain_grad here");
  }
};

SlotId veto_slot() {
  static const SlotId id = register_thread_local_slot("autograd_veto_test");
  return id;
}

class VetoHooks : public ::testing::Test {
 protected:
  void set(VetoSlot s) { set_slot(veto_slot(), &s); }
  void TearDown() override { set_slot(veto_slot(), nullptr); }
};

TEST_F(VetoHooks, CppFunctionApply) {
  const Tensor x = leaf({1.0});
  VetoSlot s;
  s.veto_cpp_function = true;
  set(s);
  EXPECT_TRUE(throws_with<ValueError>([&] { Cube::apply(x); }, {"no C++ functions"}));
  set_slot(veto_slot(), nullptr);
  EXPECT_TRUE(close(Cube::apply(x), {1.0}));
}

TEST_F(VetoHooks, RequiresGradInPlace) {
  const Tensor a = tensor({1.0});
  VetoSlot s;
  s.veto_inplace_requires_grad = true;
  set(s);
  EXPECT_TRUE(throws_with<ValueError>([&] { a.requires_grad_(); }, {"no requires_grad_"}));
  EXPECT_FALSE(a.requires_grad());
}

TEST_F(VetoHooks, RetainGrad) {
  const Tensor x = leaf({1.0});
  const Tensor h = x * 2.0;
  VetoSlot s;
  s.veto_retain_grad = true;
  set(s);
  EXPECT_TRUE(throws_with<ValueError>([&] { h.retain_grad(); }, {"no retain_grad"}));
  EXPECT_FALSE(h.retains_grad());
}

TEST_F(VetoHooks, AllowedWhenTheSlotDoesNotVeto) {
  set(VetoSlot{});
  const Tensor x = leaf({1.0});
  const Tensor h = x * 2.0;
  h.retain_grad();
  Cube::apply(h).sum().backward();
  EXPECT_TRUE(close(h.grad(), {12.0}));
}

}  // namespace
}  // namespace sy
