// Every op of the set has a way to be differentiated, or a reason it has none
// (docs/autograd.md shows the same table): an op added to the table without a
// backward formula, a decomposition or `not_differentiable` fails here.
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "autograd_coverage.h"
#include "switchyard/switchyard.h"

namespace sy {
namespace {

TEST(AutogradCoverage, EveryOpHasAFormulaADecompositionOrAReason) {
  std::string missing;
  for (const auto& e : autograd_coverage::kEntries) {
    if (e.backward == nullptr && e.decomposition == nullptr && e.not_differentiable == nullptr) {
      missing += std::string("\n  ") + e.name;
    }
  }
  EXPECT_TRUE(missing.empty())
      << "ops with no backward formula, no decomposition and no not_differentiable reason in "
         "the op table (switchyard/ops/*.yaml; docs/op-table.md):"
      << missing;
}

TEST(AutogradCoverage, EveryOpOfTheSetIsInTheTable) {
  std::set<std::string> listed;
  for (const auto& e : autograd_coverage::kEntries) listed.insert(e.name);
  for (const std::string& name : Dispatcher::singleton().op_names()) {
    if (name.rfind("sy::", 0) != 0) continue;
    EXPECT_TRUE(listed.count(name)) << name << " is defined but not in the op table";
  }
}

TEST(AutogradCoverage, EveryOpWithAFormulaHasAnAutogradKernel) {
  for (const auto& e : autograd_coverage::kEntries) {
    const std::string backward = e.backward ? e.backward : "";
    if (backward.rfind("formula", 0) != 0 && e.decomposition == nullptr) continue;
    if (backward.rfind("decomposes", 0) == 0) continue;
    const std::string dump = Dispatcher::singleton().dump(e.name);
    EXPECT_NE(dump.find("\nAutograd: "), std::string::npos) << e.name << "\n" << dump;
  }
}

TEST(AutogradCoverage, OpsWithAFormulaRecordANode) {
  // Every functional op with a backward formula, on a float tensor that requires
  // grad, gives a result with a grad_fn (the generated kernel is registered).
  const Tensor x = ones({2, 3}, TensorOptions().dtype(kFloat64).requires_grad(true));
  for (const char* name : {"sy::exp", "sy::sum", "sy::clone", "sy::neg", "sy::relu"}) {
    const auto op = Dispatcher::singleton().find_op(name);
    Stack s{IValue(x)};
    if (std::string(name) == "sy::sum") s.emplace_back();
    op.call_boxed(s);
    EXPECT_NE(s[0].to_tensor_ref().grad_fn(), nullptr) << name;
  }
}

}  // namespace
}  // namespace sy
