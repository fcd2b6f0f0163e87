// Trace-then-replay equals eager for every op of the operator set: each case of
// the shared op table (tests/ops/op_cases.h) is traced as a one-op function of
// its tensor arguments, then the graph and the op itself run on fresh random
// inputs, and their results must be identical (same kernels, same data); so
// must the graph's after a round trip through the graph file.
#include <gtest/gtest.h>

#include "op_graph_cases.h"

namespace sy {
namespace {

using testing_cases::Case;
using testing_cases::case_name;
using testing_cases::cases;
using testing_cases::expect_equals_eager;
using testing_cases::trace_case;

class TraceReplay : public testing::TestWithParam<size_t> {};

TEST_P(TraceReplay, EqualsEager) {
  const Case& c = cases()[GetParam()];
  SCOPED_TRACE(c.op);
  const Graph g = trace_case(c);
  expect_equals_eager(c, [&](const std::vector<Tensor>& in) { return g.run(in); });
}

TEST_P(TraceReplay, SavedAndLoadedEqualsEager) {
  const Case& c = cases()[GetParam()];
  SCOPED_TRACE(c.op);
  const Graph traced = trace_case(c);
  const Graph loaded = detail::graph_from_bytes(detail::graph_to_bytes(traced), c.op);
  EXPECT_EQ(loaded.num_nodes(), 1u);
  EXPECT_EQ(loaded.inputs().size(), traced.inputs().size());
  expect_equals_eager(c, [&](const std::vector<Tensor>& in) { return loaded.run(in); });
}

INSTANTIATE_TEST_SUITE_P(OpTable, TraceReplay, testing::Range<size_t>(0, cases().size()),
                         [](const testing::TestParamInfo<size_t>& info) {
                           return case_name(info.param);
                         });

}  // namespace
}  // namespace sy
