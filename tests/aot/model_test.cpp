// sy::aot::Model on one thread: runs equal eager in every output mode, inputs
// are checked (with the first-dim rule), borrowed outputs are checked, weights
// swap, and outputs describe what they alias.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "switchyard/switchyard.h"
#include "test_tensors.h"

namespace sy::aot {
namespace {

using testing_tensors::expect_same_bits;
using testing_tensors::random_uniform;

// A 2-layer MLP with weights captured from outside (the graph's constants).
struct Mlp {
  Tensor w1 = random_uniform({8, 16}, 1), b1 = random_uniform({16}, 2),
         w2 = random_uniform({16, 4}, 3), b2 = random_uniform({4}, 4);
  std::vector<Tensor> operator()(const std::vector<Tensor>& in) const {
    Tensor h = relu(add(mm(in[0], w1), b1));
    return {addmm(b2, h, w2)};
  }
};

Model compile_mlp(const Mlp& mlp, int64_t batch = 5) {
  return Model::compile(trace(mlp, {random_uniform({batch, 8}, 9)}));
}

TEST(AotModel, RunEqualsEagerInEveryOutputMode) {
  const Mlp mlp;
  const Model model = compile_mlp(mlp);
  const Tensor x = random_uniform({5, 8}, 10);
  const Tensor expected = mlp({x})[0];
  expect_same_bits(model.run({x})[0], expected);
  const BorrowedOutputs b = model.run_borrowed({x});
  ASSERT_EQ(b.size(), 1u);
  expect_same_bits(b[0], expected);
  Tensor into = empty({5, 4});
  model.run_into({x}, {into});
  expect_same_bits(into, expected);
}

TEST(AotModel, SavedAndLoadedInAnotherModelRunsTheSame) {
  const Mlp mlp;
  const std::string path = testing::TempDir() + "/aot_model_test_mlp.sy";
  trace(mlp, {random_uniform({5, 8}, 9)}).save(path);
  const Model model = Model::load(path);
  const Tensor x = random_uniform({5, 8}, 11);
  expect_same_bits(model.run({x})[0], mlp({x})[0]);
  std::remove(path.c_str());
}

TEST(AotModel, FirstDimMayVaryWhenTheOpsAllowIt) {
  const Mlp mlp;
  const Model model = compile_mlp(mlp);
  EXPECT_TRUE(model.input(0).first_dim_varies);
  for (int64_t batch : {1, 5, 32, 3}) {
    const Tensor x = random_uniform({batch, 8}, 12 + batch);
    expect_same_bits(model.run({x})[0], mlp({x})[0]);
    expect_same_bits(model.run_borrowed({x})[0], mlp({x})[0]);
  }
}

TEST(AotModel, FirstDimIsFixedWhenAnOpBakedItIn) {
  // view() with the traced sizes cannot take another batch.
  const Model model = Model::compile(
      trace([](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0].view({12})}; },
            {ones({3, 4})}));
  EXPECT_FALSE(model.input(0).first_dim_varies);
  try {
    model.run({ones({2, 4})});
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("input 0 has shape [2, 4], the model takes [3, 4] (the "
                                         "first dim is fixed"),
              std::string::npos)
        << e.what();
  }
}

TEST(AotModel, WrongInputsAreErrorsNamingTheInput) {
  const Model model = compile_mlp(Mlp());
  auto message = [&](const std::vector<Tensor>& in) -> std::string {
    try {
      model.run(in);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(message({}).find("takes 1 inputs, got 0"), std::string::npos);
  EXPECT_NE(message({Tensor()}).find("input 0 is undefined"), std::string::npos);
  EXPECT_NE(
      message({ones({5, 8}, TensorOptions().dtype(kFloat64))}).find("input 0 has dtype float64"),
      std::string::npos);
  EXPECT_NE(message({ones({5, 7})})
                .find("input 0 has shape [5, 7], the model takes [5, 8] (its "
                      "first dim may vary)"),
            std::string::npos)
      << message({ones({5, 7})});
  EXPECT_NE(message({empty({5, 8}, TensorOptions().device(Device("meta")))}).find("is on meta"),
            std::string::npos);
}

TEST(AotModel, BatchInputsMustAgreeOnTheFirstDim) {
  const Model model = Model::compile(
      trace([](const std::vector<Tensor>& in) { return std::vector<Tensor>{add(in[0], in[1])}; },
            {ones({4, 2}), ones({4, 2})}));
  EXPECT_EQ(model.run({ones({6, 2}), ones({6, 2})})[0].sizes()[0], 6);
  EXPECT_THROW(model.run({ones({6, 2}), ones({1, 2})}), ValueError);
}

TEST(AotModel, RunIntoChecksItsBuffers) {
  const Model model = compile_mlp(Mlp());
  const Tensor x = random_uniform({5, 8}, 13);
  EXPECT_THROW(model.run_into({x}, {}), ValueError);
  EXPECT_THROW(model.run_into({x}, {empty({5, 4}, TensorOptions().dtype(kInt64))}), TypeError);
  try {
    model.run_into({x}, {empty({5, 3})});
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("output buffer 0 has shape [5, 3], but output 0 has shape "
                                         "[5, 4]"),
              std::string::npos)
        << e.what();
  }
  // Strided buffers are written through their strides.
  Tensor wide = zeros({4, 5});
  Tensor strided = wide.t();
  model.run_into({x}, {strided});
  expect_same_bits(strided, model.run({x})[0]);
}

TEST(AotModel, BorrowedOutputsAreCheckedAfterTheNextRun) {
  const Model model = compile_mlp(Mlp());
  const BorrowedOutputs first = model.run_borrowed({random_uniform({5, 8}, 14)});
  EXPECT_TRUE(first.valid());
  const Tensor kept = first[0].clone();
  const BorrowedOutputs second = model.run_borrowed({random_uniform({5, 8}, 15)});
  EXPECT_FALSE(first.valid());
  EXPECT_TRUE(second.valid());
  try {
    (void)first[0];
    FAIL() << "a borrowed output was readable after the thread's next run";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("after the thread that borrowed it ran the model again"),
              std::string::npos)
        << e.what();
  }
  // The cache is reused: the third run writes where the second one did.
  const void* second_data = second[0].raw_data();
  EXPECT_EQ(model.run_borrowed({random_uniform({5, 8}, 14)})[0].raw_data(), second_data);
  (void)kept;
}

TEST(AotModel, CopiedOutputsAreTheCallersOwn) {
  const Model model = compile_mlp(Mlp());
  const Tensor x = random_uniform({5, 8}, 16);
  const Tensor a = model.run({x})[0];
  const Tensor a_copy = a.clone();
  model.run({random_uniform({5, 8}, 17)});
  expect_same_bits(a, a_copy);
}

TEST(AotModel, SwappedWeightsAreUsedByLaterRuns) {
  const Mlp mlp;
  const Model model = compile_mlp(mlp);
  ASSERT_EQ(model.num_weights(), 4u);
  Mlp other;
  other.w1 = random_uniform({8, 16}, 21);
  other.b1 = random_uniform({16}, 22);
  other.w2 = random_uniform({16, 4}, 23);
  other.b2 = random_uniform({4}, 24);
  // Weights are in the order the trace met them: addmm(b2, h, w2) reads b2 first.
  model.swap_weights({other.w1, other.b1, other.b2, other.w2});
  const Tensor x = random_uniform({5, 8}, 25);
  const Tensor expected = other({x})[0];
  expect_same_bits(model.run({x})[0], expected);
  // The model copied them: writing the caller's tensors changes nothing.
  other.w1.fill_(0.0);
  expect_same_bits(model.run({x})[0], expected);
}

TEST(AotModel, SwapWeightsChecksThem) {
  const Model model = compile_mlp(Mlp());
  EXPECT_THROW(model.swap_weights({}), ValueError);
  std::vector<Tensor> w = model.weights();
  w[0] = ones({2, 2});
  EXPECT_THROW(model.swap_weights(w), ValueError);
  w = model.weights();
  w[1] = ones({16}, TensorOptions().dtype(kInt64));
  EXPECT_THROW(model.swap_weights(w), TypeError);
}

TEST(AotModel, ValuesFoldedFromWeightsFollowASwap) {
  // t(w) depends on the weight alone: it is computed per snapshot.
  const Tensor w = random_uniform({3, 2}, 30);
  auto fn = [&](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{mm(in[0], w.t().contiguous())};
  };
  const Model model = Model::compile(trace(fn, {random_uniform({4, 2}, 31)}));
  const Tensor x = random_uniform({4, 2}, 32);
  expect_same_bits(model.run({x})[0], fn({x})[0]);
  const Tensor w2 = random_uniform({3, 2}, 33);
  model.swap_weights({w2});
  expect_same_bits(model.run({x})[0], mm(x, w2.t().contiguous()));
}

TEST(AotModel, OutputsDescribeWhatTheyAlias) {
  const Model model = Model::compile(trace(
      [](const std::vector<Tensor>& in) {
        Tensor a = add(in[0], in[0]);
        return std::vector<Tensor>{a, a, in[0].t(), in[0]};
      },
      {ones({2, 3})}));
  ASSERT_EQ(model.num_outputs(), 4u);
  EXPECT_EQ(model.output(0).same_as_output, -1);
  EXPECT_EQ(model.output(1).same_as_output, 0);
  EXPECT_EQ(model.output(2).aliases_input, 0);
  EXPECT_EQ(model.output(3).aliases_input, 0);
  // Handed out, none shares memory with another or with the input.
  const Tensor x = random_uniform({2, 3}, 40);
  const BorrowedOutputs b = model.run_borrowed({x});
  std::vector<const void*> seen = {x.raw_data()};
  for (size_t i = 0; i < b.size(); ++i) {
    EXPECT_EQ(std::find(seen.begin(), seen.end(), b[i].raw_data()), seen.end()) << "output " << i;
    seen.push_back(b[i].raw_data());
  }
  expect_same_bits(b[2], x.t());
}

TEST(AotModel, AWeightWrittenInPlaceIsCopiedForEachRun) {
  const Tensor w = ones({3});
  auto fn = [&](const std::vector<Tensor>& in) {
    Tensor c = w.view({3});
    c.add_(in[0]);  // writes the weight: eagerly, w changes
    return std::vector<Tensor>{add(c, in[0])};
  };
  const Model model = Model::compile(trace(fn, {zeros({3})}));
  const Tensor x = full({3}, 2.0f);
  // Each run starts from the weight as loaded: 1 + 2, then + 2.
  EXPECT_FLOAT_EQ(model.run({x})[0].data_ptr<float>()[0], 5.0f);
  EXPECT_FLOAT_EQ(model.run({x})[0].data_ptr<float>()[0], 5.0f);
  EXPECT_FLOAT_EQ(model.weights()[0].data_ptr<float>()[0], 1.0f);
}

TEST(AotModel, InPlaceOnAnInputWritesTheCallersTensor) {
  const Model model = Model::compile(trace(
      [](const std::vector<Tensor>& in) {
        in[0].mul_(in[1]);
        return std::vector<Tensor>{add(in[0], in[1])};
      },
      {ones({2}), ones({2})}));
  Tensor a = full({2}, 3.0f);
  const Tensor out = model.run({a, full({2}, 2.0f)})[0];
  EXPECT_FLOAT_EQ(a.data_ptr<float>()[0], 6.0f);
  EXPECT_FLOAT_EQ(out.data_ptr<float>()[0], 8.0f);
}

TEST(AotModel, AnErrorInAStepNamesTheNodeAndLeavesTheModelUsable) {
  // mm of the traced shapes is fine; int inputs... the model refuses at the
  // input check. A kernel error: index_select with an index out of range.
  const Model model = Model::compile(trace(
      [](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{index_select(in[0], 0, in[1])};
      },
      {ones({3, 2}), zeros({2}, TensorOptions().dtype(kInt64))}));
  EXPECT_THROW(model.run({ones({3, 2}), full({2}, 7, TensorOptions().dtype(kInt64))}), Error);
  EXPECT_EQ(model.run({ones({3, 2}), zeros({2}, TensorOptions().dtype(kInt64))})[0].sizes()[0], 2);
}

TEST(AotModel, ThreadKeysDoNotReachTheModel) {
  // A run inside a trace records nothing and computes the same.
  const Mlp mlp;
  const Model model = compile_mlp(mlp);
  const Tensor x = random_uniform({5, 8}, 50);
  Graph outer = trace([&](const std::vector<Tensor>& in) { return model.run(in); }, {x});
  EXPECT_EQ(outer.num_nodes(), 0u) << outer.to_string();
}

}  // namespace
}  // namespace sy::aot
