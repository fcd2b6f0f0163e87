// Every op of the set as a model: each case of the shared op table
// (tests/ops/op_cases.h) is traced as a one-op function, saved, loaded as an
// sy::aot::Model and run (owned outputs, borrowed outputs, and again once the
// thread's plan exists); each time the results must equal the op run eagerly.
#include <gtest/gtest.h>

#include "op_graph_cases.h"

namespace sy::aot {
namespace {

using testing_cases::Case;
using testing_cases::case_name;
using testing_cases::cases;
using testing_cases::expect_equals_eager;
using testing_cases::trace_case;

class OpModel : public testing::TestWithParam<size_t> {};

TEST_P(OpModel, SavedLoadedAndRunEqualsEager) {
  const Case& c = cases()[GetParam()];
  SCOPED_TRACE(c.op);
  const Model model =
      Model::compile(sy::detail::graph_from_bytes(sy::detail::graph_to_bytes(trace_case(c)), c.op));
  for (int round = 0; round < 2; ++round) {
    expect_equals_eager(c, [&](const std::vector<Tensor>& in) { return model.run(in); });
    expect_equals_eager(c, [&](const std::vector<Tensor>& in) {
      const BorrowedOutputs b = model.run_borrowed(in);
      std::vector<Tensor> out;
      for (size_t i = 0; i < b.size(); ++i) out.push_back(b[i]);
      return out;
    });
  }
}

INSTANTIATE_TEST_SUITE_P(OpTable, OpModel, testing::Range<size_t>(0, cases().size()),
                         [](const testing::TestParamInfo<size_t>& info) {
                           return case_name(info.param);
                         });

}  // namespace
}  // namespace sy::aot
