// Every op of the op table (switchyard/ops/*.yaml, docs/op-table.md) as the
// dispatcher holds it: defined with the table's schema and tags, with kernels at
// exactly the table's keys, runnable on CPU and on Meta, and reached by each of
// its generated free functions and methods.
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "op_table_data.h"

namespace sy {
namespace {

std::string qualified(const op_table::Entry& e) { return std::string("sy::") + e.name; }

// The keys with a kernel registered, read from the op's registration dump
// ("CPU: kernel (unboxed and boxed) [site]" lines).
std::set<std::string> registered_keys(const std::string& op) {
  std::set<std::string> keys;
  std::istringstream lines(Dispatcher::singleton().dump(op));
  for (std::string line; std::getline(lines, line);) {
    const auto colon = line.find(": ");
    if (colon == std::string::npos || line.rfind("name:", 0) == 0 ||
        line.rfind("schema:", 0) == 0 || line[0] == ' ') {
      continue;
    }
    keys.insert(line.substr(0, colon));
  }
  return keys;
}

TEST(OpTable, EveryOpIsDefinedWithTheTablesSchemaAndTags) {
  for (const auto& e : op_table::entries()) {
    auto op = Dispatcher::singleton().find_op_or_null(qualified(e));
    ASSERT_TRUE(op.has_value()) << e.where << ": " << e.name << " is not defined";
    const FunctionSchema expected = parse_schema(std::string("sy::") + e.schema);
    EXPECT_EQ(op->schema(), expected) << e.where << ": registered as " << op->schema().to_string();
    EXPECT_EQ(op->tags(), e.tags) << e.where << ": registered with " << op->tags().to_string();
  }
}

TEST(OpTable, KernelsSitAtExactlyTheTablesKeys) {
  // Autograd's kernels (Autograd, ADInplaceOrView, and the per-backend
  // autograd keys for composites that return several views, like split) are
  // generated from the table's derivative fields and schemas;
  // tests/autograd/coverage_test.cpp checks those.
  for (const auto& e : op_table::entries()) {
    std::set<std::string> expected;
    for (DispatchKey k : e.kernel_keys) expected.insert(std::string(to_string(k)));
    std::set<std::string> registered = registered_keys(qualified(e));
    if (!expected.count("Autograd")) registered.erase("Autograd");
    for (DispatchKey k : kAutogradKeys) {
      if (!expected.count(std::string(to_string(k)))) registered.erase(std::string(to_string(k)));
    }
    registered.erase("ADInplaceOrView");
    EXPECT_EQ(registered, expected) << e.where;
  }
}

TEST(OpTable, EveryOpRunsOnCpuAndOnMeta) {
  for (const auto& e : op_table::entries()) {
    bool cpu = false, meta = false;
    for (DispatchKey k : e.kernel_keys) {
      const bool composite = k == DispatchKey::CompositeExplicitAutograd ||
                             k == DispatchKey::CompositeImplicitAutograd;
      cpu = cpu || composite || k == DispatchKey::CPU;
      meta = meta || composite || k == DispatchKey::Meta;
    }
    EXPECT_TRUE(cpu) << e.where << ": " << e.name << " has no CPU kernel and no composite";
    EXPECT_TRUE(meta) << e.where << ": " << e.name << " has no Meta kernel and no composite";
  }
}

struct Reached {
  std::string op;
};

TEST(OpTable, EachFunctionAndMethodCallsItsOp) {
  // A fallback at the highest key (included below) sees every call first and
  // stops it, naming the op the function reached. (Not the Python key: a pure
  // composite decomposes before it, so a dispatch mode sees what runs.)
  Library spy(Library::IMPL, "_", DispatchKey::PythonTLSSnapshot);
  spy.fallback(
      CppFunction::boxed([](const OperatorHandle& op, Stack*) { throw Reached{op.name()}; }));
  const Tensor t = empty({2, 2}, TensorOptions().device(Device("meta")));
  const std::vector<Tensor> ts = {t, t};
  IncludeDispatchKeyGuard top(DispatchKey::PythonTLSSnapshot);
  size_t functions = 0;
  for (const auto& e : op_table::entries()) {
    for (const auto& f : e.functions) {
      ++functions;
      try {
        f.call(t, ts);
        ADD_FAILURE() << e.where << ": " << f.cpp << " returned without calling an op";
      } catch (const Reached& r) {
        EXPECT_EQ(r.op, qualified(e)) << e.where << ": " << f.cpp << " calls " << r.op;
      }
    }
  }
  EXPECT_GT(functions, op_table::entries().size());  // free functions and methods both
}

}  // namespace
}  // namespace sy
