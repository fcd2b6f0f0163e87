// Meta kernels agree with CPU kernels: for every op of namespace sy, over a
// table of cases, the same call on meta tensors returns results of the sizes,
// strides and dtypes the CPU call returns. A registered op without a case here
// fails OpTableCoversEveryOp, so a new op cannot skip its Meta kernel.
#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "op_cases.h"
#include "switchyard/switchyard.h"

namespace sy {
namespace {

using testing_cases::Case;
using testing_cases::cases;

Stack run(const Case& c, Device d) {
  OperatorHandle op = Dispatcher::singleton().find_op(c.op);
  std::string missing;
  Stack stack = testing_cases::build_stack(op.schema(), c.make(d), &missing);
  EXPECT_TRUE(missing.empty()) << c.op << ": the case gives no value for " << missing;
  op.call_boxed(stack);
  return stack;
}

void expect_same_geometry(const std::string& what, const Tensor& cpu, const Tensor& meta) {
  ASSERT_TRUE(meta.is_meta()) << what << ": the meta call returned a " << meta.device().str()
                              << " tensor";
  EXPECT_EQ(cpu.sizes(), meta.sizes())
      << what << " sizes: cpu " << to_string(cpu.sizes()) << ", meta " << to_string(meta.sizes());
  EXPECT_EQ(cpu.strides(), meta.strides()) << what << " strides: cpu " << to_string(cpu.strides())
                                           << ", meta " << to_string(meta.strides());
  EXPECT_EQ(cpu.dtype(), meta.dtype())
      << what << " dtype: cpu " << to_string(cpu.dtype()) << ", meta " << to_string(meta.dtype());
}

class MetaMatchesCpu : public testing::TestWithParam<size_t> {};

TEST_P(MetaMatchesCpu, SameSizesStridesAndDtypes) {
  const Case& c = cases()[GetParam()];
  SCOPED_TRACE(c.op);
  Stack cpu = run(c, kCPU);
  if (c.data_dependent) {
    EXPECT_THROW(run(c, Device("meta")), ValueError);
    return;
  }
  Stack meta = run(c, Device("meta"));
  ASSERT_EQ(cpu.size(), meta.size());
  for (size_t i = 0; i < cpu.size(); ++i) {
    const std::string what = c.op + " result " + std::to_string(i);
    if (cpu[i].is_tensor()) {
      ASSERT_TRUE(meta[i].is_tensor()) << what;
      expect_same_geometry(what, cpu[i].to_tensor(), meta[i].to_tensor());
    } else if (cpu[i].is_tensor_list()) {
      ASSERT_TRUE(meta[i].is_tensor_list()) << what;
      const auto& a = cpu[i].to_tensor_list();
      const auto& b = meta[i].to_tensor_list();
      ASSERT_EQ(a.size(), b.size()) << what;
      for (size_t j = 0; j < a.size(); ++j) {
        expect_same_geometry(what + "[" + std::to_string(j) + "]", a[j], b[j]);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(OpTable, MetaMatchesCpu, testing::Range<size_t>(0, cases().size()),
                         [](const testing::TestParamInfo<size_t>& info) {
                           std::string name = cases()[info.param].op.substr(4);
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name + "_" + std::to_string(info.param);
                         });

TEST(MetaMatchesCpu, OpTableCoversEveryOp) {
  std::set<std::string> covered;
  for (const Case& c : cases()) covered.insert(c.op);
  for (const std::string& name : Dispatcher::singleton().op_names()) {
    if (name.rfind("sy::", 0) != 0) continue;
    EXPECT_TRUE(covered.count(name)) << name << " has no case in the Meta/CPU table";
  }
  for (const std::string& name : covered) {
    EXPECT_TRUE(Dispatcher::singleton().find_op_or_null(name).has_value())
        << "the table names " << name << ", which is not registered";
  }
}

}  // namespace
}  // namespace sy
