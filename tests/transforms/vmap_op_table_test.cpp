// vmap of every op of the operator set equals a loop over the examples: each
// case of the shared op table (tests/ops/op_cases.h) is called on B examples
// with fresh random values, one call each, and once under vmap on the stacked
// examples; the batched results must equal the per-example results stacked.
// Three ways to batch: every tensor at dim 0, every tensor at its last dim, and
// only the first tensor (the others shared by the batch).
#include <gtest/gtest.h>

#include <set>

#include "op_cases.h"
#include "switchyard/switchyard.h"

namespace sy {
namespace {

using testing_cases::Case;
using testing_cases::cases;
using testing_cases::nondeterministic;
using testing_cases::random_stack;
using testing_cases::tensors_of;
using testing_cases::with_tensors;

constexpr int64_t kBatch = 3;

enum class Mode { AllAtFront, AllAtBack, FirstOnly };

bool close(const Tensor& a, const Tensor& b) {
  if (a.sizes() != b.sizes() || a.dtype() != b.dtype()) return false;
  if (a.numel() == 0) return true;
  if (is_floating_point(a.dtype())) return allclose(a, b, 1e-4, 1e-5);
  return eq(a, b).all().item<bool>();
}

// Ops with no batching rule (per example is right, only slower), and ops whose
// rule goes per example for some arguments (a batched index or fill value).
const std::set<std::string> kLoopedOps = {"sy::index.Tensor",  "sy::index_put_",
                                          "sy::index_select",  "sy::masked_fill_.Tensor",
                                          "sy::masked_select", "sy::nonzero"};

std::string mode_name(Mode m) {
  switch (m) {
    case Mode::AllAtFront: return "front";
    case Mode::AllAtBack: return "back";
    case Mode::FirstOnly: return "first";
  }
  return "?";
}

class VmapOpTable : public testing::TestWithParam<std::tuple<size_t, Mode>> {};

TEST_P(VmapOpTable, EqualsALoopOverTheExamples) {
  const auto [index, mode] = GetParam();
  const Case& c = cases()[index];
  SCOPED_TRACE(c.op);
  if (nondeterministic(c.op)) GTEST_SKIP() << "random or uninitialised values";
  OperatorHandle op = Dispatcher::singleton().find_op(c.op);
  const FunctionSchema schema = op.schema();
  std::vector<Stack> examples;
  for (int64_t b = 0; b < kBatch; ++b) examples.push_back(random_stack(c, schema, 10 + b));
  const size_t n_tensors = tensors_of(examples[0]).size();
  if (n_tensors == 0) GTEST_SKIP() << "no tensor arguments to batch";

  // The batched inputs, made before in-place ops change the examples.
  std::vector<Tensor> batched;
  std::vector<std::optional<int64_t>> in_dims;
  for (size_t k = 0; k < n_tensors; ++k) {
    std::vector<Tensor> per_example;
    for (const Stack& s : examples) per_example.push_back(tensors_of(s)[k].clone());
    if (mode == Mode::FirstOnly && k > 0) {
      batched.push_back(per_example[0]);
      in_dims.push_back(std::nullopt);
      continue;
    }
    const int64_t d = mode == Mode::AllAtBack ? per_example[0].dim() : 0;
    batched.push_back(stack(per_example, d));
    in_dims.push_back(mode == Mode::AllAtBack ? -1 : 0);
  }
  if (mode == Mode::FirstOnly) {
    for (size_t b = 1; b < examples.size(); ++b) {
      std::vector<Tensor> ts = tensors_of(examples[b]);
      for (size_t k = 1; k < n_tensors; ++k) ts[k] = tensors_of(examples[0])[k].clone();
      examples[b] = with_tensors(examples[b], ts);
    }
  }
  const Stack shape_of_call = examples[0];
  auto fn = [&](const std::vector<Tensor>& in) {
    Stack s = with_tensors(shape_of_call, in);
    op.call_boxed(s);
    return tensors_of(s);
  };

  bool tensor_results = true;
  for (const Return& r : schema.returns()) tensor_results &= r.type.contains_tensor();
  if (!tensor_results || op.has_tag(Tag::out)) {
    EXPECT_THROW(func::vmap(fn, in_dims)(batched), Error);
    return;
  }

  std::vector<std::vector<Tensor>> expected;
  for (Stack& s : examples) {
    op.call_boxed(s);
    expected.push_back(tensors_of(s));
  }
  func::reset_vmap_fallback_counts();
  const std::vector<Tensor> actual = func::vmap(fn, in_dims)(batched);
  // Ops known to run the per-example loop; any other op reaching it lost its rule.
  for (const auto& [name, count] : func::vmap_fallback_counts()) {
    EXPECT_TRUE(kLoopedOps.count(name) > 0) << name << " ran vmap's per-example loop";
  }
  ASSERT_EQ(actual.size(), expected[0].size());
  for (size_t j = 0; j < actual.size(); ++j) {
    std::vector<Tensor> per_example;
    for (const auto& e : expected) per_example.push_back(e[j]);
    const Tensor want = stack(per_example, 0);
    EXPECT_TRUE(close(actual[j], want))
        << "result " << j << "\nvmap: " << actual[j].to_string() << "\nloop: " << want.to_string();
  }
}

INSTANTIATE_TEST_SUITE_P(OpTable, VmapOpTable,
                         testing::Combine(testing::Range<size_t>(0, cases().size()),
                                          testing::Values(Mode::AllAtFront, Mode::AllAtBack,
                                                          Mode::FirstOnly)),
                         [](const testing::TestParamInfo<std::tuple<size_t, Mode>>& info) {
                           std::string name = cases()[std::get<0>(info.param)].op.substr(4);
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name + "_" + std::to_string(std::get<0>(info.param)) + "_" +
                                  mode_name(std::get<1>(info.param));
                         });

}  // namespace
}  // namespace sy
