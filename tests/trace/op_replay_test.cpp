// Trace-then-replay equals eager for every op of the operator set: each case of
// the shared op table (tests/ops/op_cases.h) is traced as a one-op function of
// its tensor arguments, then the graph and the op itself run on fresh random
// inputs, and their results must be identical (same kernels, same data).
#include <gtest/gtest.h>

#include <cstring>

#include "op_cases.h"
#include "switchyard/switchyard.h"

namespace sy {
namespace {

using testing_cases::Case;
using testing_cases::nondeterministic;
using testing_cases::random_stack;
using testing_cases::tensors_of;
using testing_cases::with_tensors;
using testing_cases::cases;

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
