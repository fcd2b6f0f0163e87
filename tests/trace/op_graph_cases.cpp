#include "op_graph_cases.h"

#include <gtest/gtest.h>

#include <cctype>

#include "test_tensors.h"

namespace sy::testing_cases {

using testing_tensors::same_bits;

// The case traced as a one-op function of its tensor arguments.
Graph trace_case(const Case& c) {
  OperatorHandle op = Dispatcher::singleton().find_op(c.op);
  const Stack example = random_stack(c, op.schema(), 1);
  Graph g = trace(
      [&](const std::vector<Tensor>& in) {
        Stack s = with_tensors(example, in);
        op.call_boxed(s);
        return tensors_of(s);
      },
      tensors_of(example));
  EXPECT_EQ(g.num_nodes(), 1u) << g.to_string();
  g.check();
  return g;
}

// `run` (a graph of the case, replayed) on fresh inputs equals the op run eagerly.
void expect_equals_eager(
    const Case& c, const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& run) {
  OperatorHandle op = Dispatcher::singleton().find_op(c.op);
  const FunctionSchema schema = op.schema();
  // Two identical sets of fresh inputs: in-place ops change theirs.
  Stack eager = random_stack(c, schema, 2);
  const Stack replay_in = random_stack(c, schema, 2);
  std::vector<Tensor> replayed = run(tensors_of(replay_in));
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

std::string case_name(size_t i) {
  std::string name = cases()[i].op.substr(4);
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name + "_" + std::to_string(i);
}

}  // namespace sy::testing_cases
