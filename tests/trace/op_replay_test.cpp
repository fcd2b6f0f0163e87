// Trace-then-replay equals eager for every op of the operator set: each case of
// the shared op table (tests/ops/op_cases.h) is traced as a one-op function of
// its tensor arguments, then the graph and the op itself run on fresh random
// inputs, and their results must be identical (same kernels, same data).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>

#include "op_cases.h"
#include "switchyard/switchyard.h"

namespace sy {
namespace {

using testing_cases::Case;
using testing_cases::cases;

// Ops whose results are random or uninitialised: only shapes and dtypes compare.
bool nondeterministic(const std::string& op) {
  static const std::set<std::string> kOps = {"sy::rand", "sy::randn", "sy::empty",
                                             "sy::empty_like", "sy::rand_like",
                                             "sy::randn_like"};
  return kOps.count(op.substr(0, op.find('.'))) > 0;
}

// The case's stack on CPU, with every float tensor's whole storage filled with
// values in [0.5, 1.5) from `seed` (positive, so logs and roots stay finite).
Stack random_stack(const Case& c, const FunctionSchema& schema, uint32_t seed) {
  Stack stack = testing_cases::build_stack(schema, c.make(kCPU), nullptr);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(0.5, 1.5);
  auto fill = [&](const Tensor& t) {
    const Storage& s = t.impl()->storage();
    if (t.dtype() == kFloat32) {
      auto* p = static_cast<float*>(s->data());
      for (size_t i = 0; i < s->nbytes() / sizeof(float); ++i) p[i] = static_cast<float>(dist(gen));
    } else if (t.dtype() == kFloat64) {
      auto* p = static_cast<double*>(s->data());
      for (size_t i = 0; i < s->nbytes() / sizeof(double); ++i) p[i] = dist(gen);
    }
  };
  for (IValue& v : stack) {
    if (v.is_tensor()) fill(v.to_tensor());
    if (v.is_tensor_list()) {
      for (const Tensor& t : v.to_tensor_list()) fill(t);
    }
  }
  return stack;
}

std::vector<Tensor> tensors_of(const Stack& stack) {
  std::vector<Tensor> out;
  for (const IValue& v : stack) {
    if (v.is_tensor()) out.push_back(v.to_tensor());
    if (v.is_tensor_list()) {
      for (const Tensor& t : v.to_tensor_list()) out.push_back(t);
    }
  }
  return out;
}

// The case's stack with its tensors replaced, in order, by `in`.
Stack with_tensors(Stack stack, const std::vector<Tensor>& in) {
  size_t k = 0;
  for (IValue& v : stack) {
    if (v.is_tensor()) v = IValue(in[k++]);
    if (v.is_tensor_list()) {
      std::vector<Tensor> ts = v.to_tensor_list();
      for (Tensor& t : ts) t = in[k++];
      v = IValue(std::move(ts));
    }
  }
  return stack;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.sizes() != b.sizes() || a.dtype() != b.dtype()) return false;
  const Tensor ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.raw_data(), cb.raw_data(),
                     static_cast<size_t>(ca.numel() * element_size(ca.dtype()))) == 0;
}

class TraceReplay : public testing::TestWithParam<size_t> {};

TEST_P(TraceReplay, EqualsEager) {
  const Case& c = cases()[GetParam()];
  SCOPED_TRACE(c.op);
  OperatorHandle op = Dispatcher::singleton().find_op(c.op);
  const FunctionSchema schema = op.schema();
  const Stack example = random_stack(c, schema, 1);
  const std::vector<Tensor> example_inputs = tensors_of(example);

  Graph g = trace(
      [&](const std::vector<Tensor>& in) {
        Stack s = with_tensors(example, in);
        op.call_boxed(s);
        return tensors_of(s);
      },
      example_inputs);
  ASSERT_EQ(g.num_nodes(), 1u) << g.to_string();
  g.check();

  // Two identical sets of fresh inputs: in-place ops change theirs.
  Stack eager = random_stack(c, schema, 2);
  const Stack replay_in = random_stack(c, schema, 2);
  std::vector<Tensor> replayed = g.run(tensors_of(replay_in));
  op.call_boxed(eager);
  std::vector<Tensor> expected = tensors_of(eager);
  ASSERT_EQ(replayed.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(replayed[i].sizes(), expected[i].sizes()) << "result " << i;
    EXPECT_EQ(replayed[i].dtype(), expected[i].dtype()) << "result " << i;
    if (!nondeterministic(c.op)) {
      EXPECT_TRUE(same_bits(replayed[i], expected[i]))
          << "result " << i << "\nreplay: " << replayed[i].to_string()
          << "\neager:  " << expected[i].to_string();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(OpTable, TraceReplay, testing::Range<size_t>(0, cases().size()),
                         [](const testing::TestParamInfo<size_t>& info) {
                           std::string name = cases()[info.param].op.substr(4);
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name + "_" + std::to_string(info.param);
                         });

}  // namespace
}  // namespace sy
