// vmap's behaviour: in_dims/out_dims, nesting, empty batches, randomness,
// in-place ops, the errors that name the level, the per-example fallback and
// its counters (threads: threads_test.cpp).
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "switchyard/switchyard.h"
#include "transform_helpers.h"

namespace sy {
namespace {

using func::Randomness;
using func::TensorFunction;
using func::vmap;

using testing_transforms::arange_f;
using testing_transforms::one;
using testing_transforms::same;

bool front_key_included() {
  return tls_is_dispatch_key_included(DispatchKey::DynamicLayerFrontMode);
}

TEST(Vmap, PointwiseOpsSeeOneExample) {
  const Tensor x = arange_f({8, 4});
  auto f = one([](const std::vector<Tensor>& in) {
    EXPECT_EQ(in[0].sizes(), IntArrayRef({4}));
    return in[0] * 2 + 1;
  });
  EXPECT_TRUE(same(vmap(f)({x})[0], x * 2 + 1));
  EXPECT_TRUE(func::transform_stack().empty());
  EXPECT_FALSE(front_key_included());
}

TEST(Vmap, InDimsNoneSharesATensorAndOutDimsPlaceTheBatch) {
  const Tensor x = arange_f({3, 5});  // batch along dim 1
  const Tensor w = arange_f({3});
  auto f = one([](const std::vector<Tensor>& in) { return in[0] * in[1]; });
  const Tensor out = vmap(f, {1, std::nullopt}, {1})({x, w})[0];
  EXPECT_TRUE(same(out, x * w.unsqueeze(1)));
  // An output that does not depend on the batch is expanded to it.
  auto g = one([](const std::vector<Tensor>& in) { return in[1] + 1; });
  EXPECT_TRUE(same(vmap(g, {1, std::nullopt})({x, w})[0], (w + 1).unsqueeze(0).expand({5, 3})));
}

TEST(Vmap, MatmulWithASharedWeightEqualsOneBigMatmul) {
  const Tensor x = arange_f({6, 4}) / 10;
  const Tensor w = arange_f({4, 3}) / 7;
  auto f =
      one([](const std::vector<Tensor>& in) { return mm(in[0].unsqueeze(0), in[1]).squeeze(0); });
  EXPECT_TRUE(same(vmap(f, {0, std::nullopt})({x, w})[0], mm(x, w)));
  auto g = one([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]).relu().sum(); });
  EXPECT_TRUE(same(vmap(g, {0, std::nullopt})({x, w})[0], mm(x, w).relu().sum({1})));
}

TEST(Vmap, NestedLevelsEachTakeTheirOwnDim) {
  const Tensor x = arange_f({2, 3, 4});
  const Tensor y = arange_f({3, 4}) + 100;
  // Outer over x's dim 0, inner over dim 0 of what is left (x's dim 1) and y's dim 0.
  auto inner = vmap(one([](const std::vector<Tensor>& in) {
                      EXPECT_EQ(func::transform_stack().size(), 2u);
                      return (in[0] * in[1]).sum();
                    }),
                    {0, 0});
  auto outer = vmap([&](const std::vector<Tensor>& in) { return inner(in); }, {0, std::nullopt});
  EXPECT_TRUE(same(outer({x, y})[0], (x * y).sum({-1})));
}

TEST(Vmap, EmptyBatchGivesEmptyResults) {
  const Tensor x = zeros({0, 3});
  EXPECT_EQ(vmap(one([](const std::vector<Tensor>& in) { return in[0].sum(); }))({x})[0].sizes(),
            IntArrayRef({0}));
  EXPECT_EQ(
      vmap(one([](const std::vector<Tensor>& in) { return in[0].cumprod(0); }))({x})[0].sizes(),
      IntArrayRef({0, 3}));
}

TEST(Vmap, RandomnessErrorSameAndDifferent) {
  const Tensor x = zeros({4, 3});
  auto f = one([](const std::vector<Tensor>& in) { return in[0] + rand({3}); });
  try {
    vmap(f)({x});
    ADD_FAILURE() << "rand inside vmap with randomness='error' ran";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("sy::rand"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("vmap(level 1)"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(func::transform_stack().empty());
  const Tensor same_rows = vmap(f, {}, {}, Randomness::Same)({x})[0];
  EXPECT_TRUE(same(same_rows.select(0, 0), same_rows.select(0, 3)));
  const Tensor different = vmap(f, {}, {}, Randomness::Different)({x})[0];
  EXPECT_EQ(different.sizes(), IntArrayRef({4, 3}));
  EXPECT_FALSE(same(different.select(0, 0), different.select(0, 3)));
  auto g = one([](const std::vector<Tensor>& in) { return rand_like(in[0]); });
  EXPECT_FALSE(same(vmap(g, {}, {}, Randomness::Different)({x})[0].select(0, 1),
                    vmap(g, {}, {}, Randomness::Different)({x})[0].select(0, 2)));
}

TEST(Vmap, InPlaceOpsWriteTheBatchAndRefuseToWriteIntoAnUnbatchedTensor) {
  const Tensor x = arange_f({3, 2});
  const Tensor before = x.clone();
  auto f = one([](const std::vector<Tensor>& in) { return in[0].mul_(2); });
  vmap(f)({x});
  EXPECT_TRUE(same(x, before * 2));
  const Tensor captured = zeros({2});
  auto g = one([&](const std::vector<Tensor>& in) { return captured.add_(in[0]); });
  try {
    vmap(g)({x});
    ADD_FAILURE() << "wrote a batch into an unbatched tensor";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("sy::add_"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("vmap(level 1)"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(same(captured, zeros({2})));
}

TEST(Vmap, DataDependentControlFlowIsAnErrorNamingTheLevel) {
  auto f = one([](const std::vector<Tensor>& in) {
    return in[0].sum().item<double>() > 0 ? in[0] : -in[0];
  });
  try {
    vmap(f)({ones({2, 3})});
    ADD_FAILURE();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("item()"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("vmap(level 1)"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("where"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(func::transform_stack().empty());
  EXPECT_FALSE(front_key_included());
}

TEST(Vmap, AWrapperThatEscapesIsAnErrorWhenUsed) {
  Tensor leaked;
  auto f = one([&](const std::vector<Tensor>& in) {
    leaked = in[0] * 1;
    return in[0];
  });
  vmap(f)({ones({2, 3})});
  try {
    (leaked + 1).sum();
    ADD_FAILURE();
  } catch (const DispatchError& e) {
    EXPECT_NE(std::string(e.what()).find("escaped"), std::string::npos) << e.what();
  }
  EXPECT_NE(leaked.to_string().find("BatchedTensor(level=1"), std::string::npos);
}

// `call` throws E whose message contains `words`.
template <typename E>
void expect_error(const std::function<void()>& call, const std::string& words) {
  try {
    call();
    ADD_FAILURE() << "no error; expected one saying: " << words;
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

TEST(Vmap, BadArgumentsNameWhatWasWrong) {
  auto f = one([](const std::vector<Tensor>& in) { return in[0] + in[1]; });
  expect_error<ValueError>(
      [&] {
        vmap(f)({ones({2, 3}), ones({3, 3})});
      },
      "different sizes along their in_dims (input 0: 2 (dim 0), input 1: 3");
  expect_error<IndexError>(
      [&] {
        vmap(f, {2, 0})({ones({2, 3}), ones({2, 3})});
      },
      "in_dim of input 0 is 2 but that tensor has 2 dims");
  expect_error<IndexError>(
      [&] {
        vmap(f, {0, -3})({ones({2, 3}), ones({2, 3})});
      },
      "in_dim of input 1 is -3");
  expect_error<ValueError>(
      [&] {
        vmap(f, {std::nullopt, std::nullopt})({ones({2}), ones({2})});
      },
      "no input is batched");
  expect_error<ValueError>(
      [&] {
        vmap(f, {0})({ones({2}), ones({2})});
      },
      "in_dims has 1 entries for 2 inputs");
  expect_error<ValueError>(
      [&] {
        vmap(f, {}, {std::nullopt})({ones({2, 3}), ones({2, 3})});
      },
      "output 0 is batched but its out_dim is None");
  expect_error<IndexError>(
      [&] {
        vmap(f, {}, {2})({ones({2, 3}), ones({2, 3})});
      },
      "out_dim of output 0 is 2");
  expect_error<ValueError>(
      [&] {
        vmap(f, {}, {0, 0})({ones({2, 3}), ones({2, 3})});
      },
      "out_dims has 2 entries for 1 outputs");
  // A C++ function's outputs are tensors; an undefined one is the "non-tensor output".
  auto undefined = one([](const std::vector<Tensor>&) { return Tensor(); });
  expect_error<ValueError>([&] { vmap(undefined)({ones({2})}); },
                           "output 0 is an undefined tensor");
  EXPECT_TRUE(func::transform_stack().empty());
}

TEST(Vmap, TheStackIsRestoredWhenTheFunctionThrows) {
  auto f = one([](const std::vector<Tensor>&) -> Tensor { throw ValueError("boom"); });
  const LocalDispatchKeySet before = tls_local_dispatch_key_set();
  EXPECT_THROW(vmap(f)({ones({2})}), ValueError);
  EXPECT_TRUE(func::transform_stack().empty());
  EXPECT_EQ(tls_local_dispatch_key_set().included, before.included);
  EXPECT_EQ(tls_local_dispatch_key_set().excluded, before.excluded);
}

// An op with only a CPU kernel and no rule: vmap runs it once per example.
Tensor twice_kernel(const Tensor& x) { return x * 2; }

TEST(VmapFallback, CountsWarnsAndCanBeAnError) {
  Library def(Library::DEF, "vmap_test");
  def.def("twice(Tensor x) -> Tensor");
  Library cpu(Library::IMPL, "vmap_test", DispatchKey::CPU);
  cpu.impl("twice", twice_kernel);
  auto op = Dispatcher::singleton().find_op("vmap_test::twice").typed<Tensor(const Tensor&)>();
  func::reset_vmap_fallback_counts();
  auto f = one([&](const std::vector<Tensor>& in) { return op.call(in[0]); });
  const Tensor x = arange_f({3, 2});
  EXPECT_TRUE(same(vmap(f)({x})[0], x * 2));
  vmap(f)({x});
  EXPECT_EQ(func::vmap_fallback_counts()["vmap_test::twice"], 2);
  func::set_vmap_fallback_error(true);
  try {
    vmap(f)({x});
    ADD_FAILURE();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("vmap_test::twice"), std::string::npos) << e.what();
  }
  func::set_vmap_fallback_error(false);
  EXPECT_EQ(func::vmap_fallback_counts()["vmap_test::twice"], 2);
}

}  // namespace
}  // namespace sy
