// The graph IR on its own: dead-code elimination, constant folding, the
// validity check, and the runner's input checks.
#include <gtest/gtest.h>

#include <memory>

#include "switchyard/switchyard.h"

namespace sy {
namespace {

std::vector<Tensor> one(Tensor t) { return {std::move(t)}; }

TEST(GraphDeadCode, RemovesUnusedPureNodes) {
  Graph g = trace(
      [](const std::vector<Tensor>& in) {
        add(in[0], in[0]);  // result unused
        return one(add(in[0], in[0], 3));
      },
      {ones({2})});
  ASSERT_EQ(g.num_nodes(), 2u);
  EXPECT_EQ(eliminate_dead_code(g), 1u);
  ASSERT_EQ(g.num_nodes(), 1u);
  EXPECT_EQ(g.to_string(),
            "graph(%0 : float32[2]):\n"
            "  %2 : float32[2] = sy::add(%0, %0, alpha=3)\n"
            "  return (%2)\n");
  Tensor x = full({2}, 1.5f);
  EXPECT_FLOAT_EQ(g.run({x})[0].data_ptr<float>()[0], 6.0f);
}

TEST(GraphDeadCode, KeepsNodesThatWriteTheirArguments) {
  Graph g = trace(
      [](const std::vector<Tensor>& in) {
        in[0].add_(in[1]);  // its result is unused, but it changes in[0]
        return one(in[1]);
      },
      {ones({2}), ones({2})});
  EXPECT_EQ(eliminate_dead_code(g), 0u);
  EXPECT_EQ(g.num_nodes(), 1u);
}

TEST(GraphConstantFolding, FoldsNodesOfConstantsOnly) {
  const Tensor c = full({2}, 2.0f);
  Graph g = trace(
      [&](const std::vector<Tensor>& in) {
        Tensor k = add(c, c);       // constants only: folds
        return one(add(in[0], k));  // depends on the input: stays
      },
      {ones({2})});
  ASSERT_EQ(g.num_nodes(), 2u);
  EXPECT_EQ(fold_constants(g), 1u);
  ASSERT_EQ(g.num_nodes(), 1u);
  EXPECT_NE(g.to_string().find("constant(tensor([4., 4.]))"), std::string::npos) << g.to_string();
  EXPECT_FLOAT_EQ(g.run({full({2}, 1.0f)})[0].data_ptr<float>()[1], 5.0f);
}

TEST(GraphConstantFolding, FactoryCallsFoldButOutputsAndWrittenValuesStay) {
  Graph g = trace(
      [](const std::vector<Tensor>& in) {
        Tensor a = ones({2});  // folds: used only by a pure op
        Tensor b = ones({2});  // written in place below: must stay per-run
        b.add_(in[0]);
        return std::vector<Tensor>{add(in[0], a), b, zeros({1})};  // zeros is an output: stays
      },
      {ones({2})});
  ASSERT_EQ(g.num_nodes(), 5u);
  EXPECT_EQ(fold_constants(g), 1u) << g.to_string();
  std::vector<Tensor> r1 = g.run({full({2}, 3.0f)});
  std::vector<Tensor> r2 = g.run({full({2}, 3.0f)});
  EXPECT_FLOAT_EQ(r1[0].data_ptr<float>()[0], 4.0f);
  EXPECT_FLOAT_EQ(r1[1].data_ptr<float>()[0], 4.0f);
  EXPECT_FLOAT_EQ(r2[1].data_ptr<float>()[0], 4.0f) << "each run gets a fresh b";
  EXPECT_FALSE(r1[1].is_same(r2[1]));
  EXPECT_FALSE(r1[2].is_same(r2[2]));
}

TEST(GraphRun, WrongInputCountDtypeOrRankIsAnErrorNamingTheInput) {
  Graph g = trace([](const std::vector<Tensor>& in) { return one(add(in[0], in[1])); },
                  {ones({2, 2}), ones({2, 2})});
  EXPECT_THROW(g.run({ones({2, 2})}), ValueError);
  try {
    g.run({ones({2, 2}), ones({2, 2}, TensorOptions().dtype(kInt64))});
    FAIL();
  } catch (const TypeError& e) {
    EXPECT_NE(std::string(e.what()).find("input 1 has dtype int64"), std::string::npos) << e.what();
  }
  try {
    g.run({ones({4}), ones({2, 2})});
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("input 0 has 1 dimensions"), std::string::npos)
        << e.what();
  }
}

TEST(GraphRun, SameRankOtherSizesRunsWhenTheOpsAllowIt) {
  Graph g =
      trace([](const std::vector<Tensor>& in) { return one(add(in[0], in[0])); }, {ones({2})});
  EXPECT_EQ(g.run({ones({5})})[0].numel(), 5);
}

TEST(GraphCheck, GraphWhoseOpWasRemovedCannotRun) {
  auto lib = std::make_unique<Library>(Library::DEF, "graph_gone");
  lib->def("twice(Tensor x) -> Tensor");
  lib->impl("twice", DispatchKey::CPU, [](const Tensor& x) { return add(x, x); });
  auto op = Dispatcher::singleton().find_op("graph_gone::twice").typed<Tensor(const Tensor&)>();
  Graph g = trace([&](const std::vector<Tensor>& in) { return one(op.call(in[0])); }, {ones({1})});
  g.check();
  lib.reset();
  try {
    g.run({ones({1})});
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("graph_gone::twice, which is no longer registered"),
              std::string::npos)
        << e.what();
  }
}

// An op removed and defined again with other returns: the graph's node no
// longer matches it. check() and run() name that node, before anything runs.
class GraphRedefinedOp : public testing::Test {
 protected:
  void SetUp() override {
    lib_ = std::make_unique<Library>(Library::DEF, "graph_redef");
    lib_->def("f(Tensor x) -> Tensor");
    lib_->impl("f", DispatchKey::CPU, [](const Tensor& x) { return add(x, x); });
    auto op = Dispatcher::singleton().find_op("graph_redef::f").typed<Tensor(const Tensor&)>();
    graph_ = trace([&](const std::vector<Tensor>& in) { return one(add(op.call(in[0]), in[0])); },
                   {ones({2})});
  }
  void Redefine() {
    lib_.reset();
    lib_ = std::make_unique<Library>(Library::DEF, "graph_redef");
    lib_->def("f(Tensor x) -> int");
    lib_->impl("f", DispatchKey::CPU, [](const Tensor& x) { return int64_t{7}; });
  }
  static void ExpectNamesNodeZero(const ValueError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("node 0 calls graph_redef::f, which was redefined"), std::string::npos)
        << what;
    EXPECT_NE(what.find("graph_redef::f(Tensor x) -> int"), std::string::npos) << what;
  }
  std::unique_ptr<Library> lib_;
  Graph graph_;
};

TEST_F(GraphRedefinedOp, CheckNamesTheRedefinedNode) {
  EXPECT_NO_THROW(graph_.check());
  Redefine();
  try {
    graph_.check();
    FAIL() << "check() passed a node whose op now returns another type";
  } catch (const ValueError& e) {
    ExpectNamesNodeZero(e);
  }
}

TEST_F(GraphRedefinedOp, RunAfterARedefinitionNamesTheNodeNotTheNextOne) {
  EXPECT_FLOAT_EQ(graph_.run({ones({2})})[0].data_ptr<float>()[0], 3.0f);  // plan built
  Redefine();
  try {
    graph_.run({ones({2})});
    FAIL() << "run() replayed a node whose op now returns another type";
  } catch (const ValueError& e) {
    ExpectNamesNodeZero(e);
  }
}

TEST_F(GraphRedefinedOp, RedefiningWithTheSameSchemaKeepsTheGraphValid) {
  EXPECT_FLOAT_EQ(graph_.run({ones({2})})[0].data_ptr<float>()[0], 3.0f);
  lib_.reset();
  lib_ = std::make_unique<Library>(Library::DEF, "graph_redef");
  lib_->def("f(Tensor x) -> Tensor");
  lib_->impl("f", DispatchKey::CPU, [](const Tensor& x) { return add(x, x, 2); });
  EXPECT_NO_THROW(graph_.check());
  EXPECT_FLOAT_EQ(graph_.run({ones({2})})[0].data_ptr<float>()[0], 4.0f);
}

TEST(GraphCheck, HandBuiltGraphUsingAForeignValueFailsTheCheck) {
  Graph other;
  Value* foreign = other.add_input(ones({1}));
  Graph g;
  Value* x = g.add_input(ones({1}));
  OperatorHandle add_op = Dispatcher::singleton().find_op("sy::add.Tensor");
  std::vector<NodeArg> args(3);
  args[0].kind = NodeArg::Kind::Value;
  args[0].value = x;
  args[1].kind = NodeArg::Kind::Value;
  args[1].value = foreign;
  args[2].constant = IValue(Scalar(1));
  Stack results{IValue(ones({1}))};
  auto schema = std::make_shared<const FunctionSchema>(add_op.schema());
  Node* n = g.add_node(add_op, schema, args, results);
  g.add_output(n->outputs()[0].value);
  EXPECT_THROW(g.check(), ValueError);
  EXPECT_THROW(g.run({ones({1})}), ValueError);
}

TEST(GraphCheck, TracedGraphsPassTheCheck) {
  Graph g = trace(
      [](const std::vector<Tensor>& in) {
        Tensor a = add(in[0], in[1]);
        Tensor b = add(a, ones({3}));
        b.add_(a);
        return std::vector<Tensor>{a, b};
      },
      {ones({3}), ones({3})});
  EXPECT_NO_THROW(g.check());
  fold_constants(g);
  eliminate_dead_code(g);
  EXPECT_NO_THROW(g.check());
}

}  // namespace
}  // namespace sy
