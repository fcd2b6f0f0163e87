// gradcheck itself: it accepts correct derivatives and catches wrong ones, in
// both modes; gradgradcheck checks second derivatives.
#include <gtest/gtest.h>

#include "autograd_test_util.h"

namespace sy {
namespace {

using autograd::AutogradContext;
using autograd::gradcheck;
using autograd::GradcheckError;
using autograd::GradcheckOptions;
using autograd::variable_list;

std::vector<Tensor> inputs2() {
  return {testing::leaf({{0.3, -0.7}, {1.2, 0.4}}), testing::leaf({{0.9, 0.2}, {-0.5, 1.1}})};
}

TEST(Gradcheck, AcceptsCorrectDerivativesInBothModes) {
  GradcheckOptions opt;
  opt.check_forward_ad = true;
  const auto fn = [](const std::vector<Tensor>& in) -> std::vector<Tensor> {
    return {(in[0].sin() * in[1]).mm(in[1].t()) / (in[0].exp() + 1.0)};
  };
  EXPECT_TRUE(gradcheck(fn, inputs2(), opt));
}

struct WrongDerivative : autograd::Function<WrongDerivative> {
  static Tensor forward(AutogradContext*, const Tensor& x) { return x * x; }
  static variable_list backward(AutogradContext*, variable_list grads) { return {grads[0] * 3.0}; }
};

TEST(Gradcheck, CatchesAWrongBackward) {
  const auto fn = [](const std::vector<Tensor>& in) -> std::vector<Tensor> {
    return {WrongDerivative::apply(in[0])};
  };
  EXPECT_TRUE(testing::throws_with<GradcheckError>(
      [&] {
        gradcheck(fn, {testing::leaf({0.5, 2.0})});
      },
      {"Jacobian mismatch", "output 0", "input 0", "backward"}));
  GradcheckOptions quiet;
  quiet.raise_exception = false;
  EXPECT_FALSE(gradcheck(fn, {testing::leaf({0.5, 2.0})}, quiet));
}

struct WrongJvp : autograd::Function<WrongJvp> {
  static Tensor forward(AutogradContext*, const Tensor& x) { return x * 2.0; }
  static variable_list backward(AutogradContext*, variable_list grads) { return {grads[0] * 2.0}; }
  static variable_list jvp(AutogradContext*, variable_list tangents) { return {tangents[0]}; }
};

TEST(Gradcheck, CatchesAWrongForwardDerivative) {
  GradcheckOptions opt;
  opt.check_forward_ad = true;
  const auto fn = [](const std::vector<Tensor>& in) -> std::vector<Tensor> {
    return {WrongJvp::apply(in[0])};
  };
  EXPECT_TRUE(testing::throws_with<GradcheckError>(
      [&] { gradcheck(fn, {testing::leaf({0.5})}, opt); }, {"forward mode"}));
}

TEST(Gradcheck, NeedsAnInputThatRequiresGrad) {
  const auto fn = [](const std::vector<Tensor>& in) -> std::vector<Tensor> { return {in[0]}; };
  EXPECT_THROW(gradcheck(fn, {tensor({1.0})}), AutogradError);
}

TEST(Gradgradcheck, SecondDerivativesOfASample) {
  const auto fn = [](const std::vector<Tensor>& in) -> std::vector<Tensor> {
    return {(in[0] * in[1]).sin().sum(std::vector<int64_t>{1}) * in[0].mm(in[1]).exp().sum()};
  };
  EXPECT_TRUE(autograd::gradgradcheck(fn, inputs2()));
}

}  // namespace
}  // namespace sy
