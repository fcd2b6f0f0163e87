// Every differentiable op of the table, checked against finite differences in
// both modes (gradcheck), on the argument structures of tests/ops/op_cases.cpp
// with the floating-point inputs replaced by float64 values in [0.5, 1.5] that
// require grad; and double backward (gradgradcheck) on a sample of ops.
#include <cmath>
#include <optional>
#include <set>

#include <gtest/gtest.h>

#include "autograd_coverage.h"
#include "autograd_test_util.h"
#include "op_cases.h"

namespace sy {
namespace {

using testing_cases::Args;

// Arguments that stay as they are (indices, masks).
bool keeps_its_values(const std::string& name) {
  return name == "index" || name == "indices" || name == "condition" || name == "mask";
}

// Distinct values in [0.5, 1.5], the same on every run.
Tensor smooth_values(IntArrayRef sizes, int salt) {
  const auto opts = TensorOptions().dtype(kFloat64);
  int64_t n = 1;
  for (int64_t s : sizes) n *= s;
  NoGradGuard no_grad;
  const Tensor i = arange(n, opts);
  return ((i * 0.7371 + 0.913 * salt).sin() * 0.5 + 1.0).reshape(sizes).detach();
}

struct Prepared {
  OperatorHandle op;
  Stack stack;                                // the call's arguments, with placeholders
  std::vector<std::pair<size_t, int>> slots;  // (stack position, list element or -1)
  std::vector<Tensor> inputs;                 // float64 leaves that require grad
  bool inplace = false;
};

// Ops whose shared case (tests/ops/op_cases.cpp, all-zero indices) writes one
// position twice without accumulating: which value wins is unspecified, so the
// derivative is not defined there. They are checked on distinct positions.
std::optional<Args> gradcheck_case(const std::string& op) {
  const auto i64 = TensorOptions().dtype(kInt64);
  const auto f32 = TensorOptions().dtype(kFloat32);
  if (op == "sy::index_put_") {
    return Args{
        {ones({3, 4}, f32), IValue(std::vector<Tensor>{tensor({2, 0}, i64)}), ones({4}, f32)}};
  }
  if (op == "sy::scatter.src" || op == "sy::scatter_.src") {
    // Rows 0 and 2 of self from src's rows 1 and 0; src is larger than index.
    return Args{{ones({3, 4}, f32), IValue(int64_t{0}), tensor({{2, 0, 2}, {0, 2, 1}}, i64),
                 ones({2, 4}, f32)}};
  }
  return std::nullopt;
}

const testing_cases::Case* find_case(const std::string& op) {
  for (const auto& c : testing_cases::cases()) {
    if (c.op == op) return &c;
  }
  return nullptr;
}

Prepared prepare(const std::string& name) {
  Prepared p{Dispatcher::singleton().find_op(name), {}, {}, {}, false};
  const testing_cases::Case* c = find_case(name);
  EXPECT_NE(c, nullptr) << name << " has no case in tests/ops/op_cases.cpp";
  if (c == nullptr) return p;
  const FunctionSchema schema = p.op.schema();
  std::string missing;
  p.stack =
      testing_cases::build_stack(schema, gradcheck_case(name).value_or(c->make(kCPU)), &missing);
  EXPECT_TRUE(missing.empty()) << name << ": no value for " << missing;
  int salt = 0;
  for (size_t i = 0; i < schema.arguments().size(); ++i) {
    const Argument& a = schema.arguments()[i];
    if (keeps_its_values(a.name)) continue;
    if (a.alias && a.alias->is_write && i == 0) p.inplace = true;
    IValue& v = p.stack[i];
    auto convert = [&](const Tensor& t) {
      Tensor x = smooth_values(t.sizes(), ++salt).requires_grad_();
      p.inputs.push_back(x);
      return x;
    };
    if (v.is_tensor() && v.to_tensor_ref().defined()) {
      v = IValue(convert(v.to_tensor_ref()));
      p.slots.emplace_back(i, -1);
    } else if (v.is_tensor_list()) {
      std::vector<Tensor> list = v.to_tensor_list();
      for (size_t k = 0; k < list.size(); ++k) {
        list[k] = convert(list[k]);
        p.slots.emplace_back(i, static_cast<int>(k));
      }
      v = IValue(list);
    }
  }
  return p;
}

// The op as a function of its floating-point inputs (an in-place op writes
// into a clone of its first input, as PyTorch's gradcheck of in-place ops does).
autograd::GradcheckFunction as_function(const Prepared& p) {
  return [p](const std::vector<Tensor>& in) {
    Stack stack = p.stack;
    for (size_t k = 0; k < p.slots.size(); ++k) {
      auto [pos, elem] = p.slots[k];
      Tensor x = in[k];
      if (p.inplace && pos == 0) x = x.clone();
      if (elem < 0) {
        stack[pos] = IValue(x);
      } else {
        std::vector<Tensor> list = stack[pos].to_tensor_list();
        list[static_cast<size_t>(elem)] = x;
        stack[pos] = IValue(list);
      }
    }
    p.op.call_boxed(stack);
    std::vector<Tensor> outs;
    for (const IValue& v : stack) {
      if (v.is_tensor()) outs.push_back(v.to_tensor_ref());
      if (v.is_tensor_list()) {
        for (const Tensor& t : v.to_tensor_list()) outs.push_back(t);
      }
    }
    return outs;
  };
}

std::vector<std::string> differentiable_ops() {
  std::vector<std::string> out;
  for (const auto& e : autograd_coverage::kEntries) {
    if (e.not_differentiable == nullptr && (e.backward || e.decomposition)) out.push_back(e.name);
  }
  return out;
}

class OpGradcheck : public ::testing::TestWithParam<std::string> {};

TEST_P(OpGradcheck, BackwardAndForwardMatchFiniteDifferences) {
  const std::string name = GetParam();
  Prepared p = prepare(name);
  if (p.inputs.empty()) GTEST_SKIP() << name << ": the case has no floating-point input";
  autograd::GradcheckOptions opt;
  const auto* entry = [&]() -> const autograd_coverage::Entry* {
    for (const auto& e : autograd_coverage::kEntries) {
      if (e.name == name) return &e;
    }
    return nullptr;
  }();
  ASSERT_NE(entry, nullptr);
  opt.check_forward_ad = entry->forward != nullptr || entry->decomposition != nullptr;
  EXPECT_TRUE(autograd::gradcheck(as_function(p), p.inputs, opt)) << name;
}

INSTANTIATE_TEST_SUITE_P(EveryDifferentiableOp, OpGradcheck,
                         ::testing::ValuesIn(differentiable_ops()), [](const auto& info) {
                           std::string n = info.param.substr(4);
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

// Double backward on a sample: the backward formulas are themselves differentiable.
class OpGradgradcheck : public ::testing::TestWithParam<std::string> {};

TEST_P(OpGradgradcheck, SecondDerivativesMatchFiniteDifferences) {
  Prepared p = prepare(GetParam());
  ASSERT_FALSE(p.inputs.empty());
  EXPECT_TRUE(autograd::gradgradcheck(as_function(p), p.inputs)) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Sample, OpGradgradcheck,
                         ::testing::Values("sy::mul.Tensor", "sy::div.Tensor", "sy::exp", "sy::sin",
                                           "sy::tanh", "sy::sigmoid", "sy::pow.Tensor_Tensor",
                                           "sy::mm", "sy::sum.dim_IntList", "sy::_log_softmax",
                                           "sy::_softmax", "sy::select.int", "sy::var.correction",
                                           "sy::gather", "sy::cat"),
                         [](const auto& info) {
                           std::string n = info.param.substr(4);
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace sy

namespace sy {
namespace {

// cumprod's gradient needs care at zeros (no division by the input there): one
// zero, two zeros and a leading zero along the dim, in both modes and to second
// order (where the recorded backward takes the full-partials path).
TEST(CumprodAtZeros, BackwardForwardAndSecondOrderMatchFiniteDifferences) {
  const auto f64 = TensorOptions().dtype(kFloat64);
  const Tensor x = tensor({{0.7, 0.0, 1.3, 0.9}, {1.1, 0.8, 0.0, 0.0}, {0.0, 1.2, 0.6, 1.4}}, f64)
                       .requires_grad_();
  for (int64_t dim : {0, 1}) {
    const auto fn = [dim](const std::vector<Tensor>& in) {
      return std::vector<Tensor>{in[0].cumprod(dim)};
    };
    autograd::GradcheckOptions opt;
    opt.check_forward_ad = true;
    EXPECT_TRUE(autograd::gradcheck(fn, {x}, opt)) << "dim " << dim;
    EXPECT_TRUE(autograd::gradgradcheck(fn, {x})) << "dim " << dim;
  }
}

}  // namespace
}  // namespace sy

namespace sy {
namespace {

// scatter_ with reduce="multiply" at zeros: src's factors meet at positions of
// self, with one, two or three zeros at a position, to second order.
TEST(ScatterMultiplyAtZeros, MatchesFiniteDifferencesToSecondOrder) {
  const auto f64 = TensorOptions().dtype(kFloat64);
  const Tensor index = tensor({{0, 0, 2, 2}, {1, 2, 2, 2}}, TensorOptions().dtype(kInt64));
  const Tensor self = tensor({{0.7, 0.0, 1.3}, {1.1, 0.8, 0.9}}, f64).requires_grad_();
  const auto fn = [&](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{in[0].scatter(1, index, in[1], "multiply")};
  };
  int zeros_per_position = 0;
  for (const Tensor& src : {tensor({{0.0, 1.2, 0.6, 0.0}, {1.4, 0.0, 0.5, 1.1}}, f64),
                            tensor({{0.0, 0.0, 0.6, 0.0}, {1.4, 0.0, 0.0, 1.1}}, f64),
                            tensor({{0.0, 0.0, 0.0, 0.0}, {1.4, 0.0, 0.0, 0.0}}, f64)}) {
    const Tensor x = src.requires_grad_();
    ++zeros_per_position;
    autograd::GradcheckOptions opt;
    opt.check_forward_ad = true;
    EXPECT_TRUE(autograd::gradcheck(fn, {self, x}, opt)) << zeros_per_position;
    EXPECT_TRUE(autograd::gradgradcheck(fn, {self, x})) << zeros_per_position;
  }
}

}  // namespace
}  // namespace sy
