// Tracing: the three switches, outermost-op recording, state restored on every
// exit, replay equal to eager, and tracing across threads.
#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

#include "switchyard/switchyard.h"

namespace sy {
namespace {

Tensor random_tensor(IntArrayRef sizes, uint32_t seed) {
  Tensor t = empty(sizes);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  float* p = t.data_ptr<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = dist(gen);
  return t;
}

void expect_same(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.sizes(), b.sizes());
  ASSERT_EQ(a.dtype(), b.dtype());
  ASSERT_TRUE(a.is_contiguous() && b.is_contiguous());
  const Tensor& ca = a;
  const Tensor& cb = b;
  for (int64_t i = 0; i < a.numel(); ++i) {
    EXPECT_EQ(ca.data_ptr<float>()[i], cb.data_ptr<float>()[i]) << "element " << i;
  }
}

// A composite defined the way users define theirs: twice_plus(x, y) = x + y + y.
Tensor twice_plus(const Tensor& x, const Tensor& y) { return add(add(x, y), y); }
SY_LIBRARY(trace_test, m) {
  m.def("twice_plus(Tensor x, Tensor y) -> Tensor");
  m.def("count_calls(Tensor x) -> Tensor");
}
SY_LIBRARY_IMPL(trace_test, CompositeImplicitAutograd, m) {
  m.impl("twice_plus", SY_FN(twice_plus));
}
std::atomic<int> g_calls{0};
SY_LIBRARY_IMPL(trace_test, CPU, m) {
  m.impl("count_calls", [](const Tensor& x) {
    ++g_calls;
    return add(x, x);
  });
}

std::vector<Tensor> add_chain(const std::vector<Tensor>& in) {
  Tensor s = add(in[0], in[1]);
  return {add(s, in[0], 2)};
}

TEST(Trace, RecordsEachOpAsANode) {
  Graph g = trace(add_chain, {ones({2, 3}), ones({3})});
  ASSERT_EQ(g.num_nodes(), 2u);
  EXPECT_EQ(g.inputs().size(), 2u);
  EXPECT_EQ(g.outputs().size(), 1u);
  EXPECT_EQ(g.nodes()[0]->schema().full_name(), "sy::add.Tensor");
  EXPECT_TRUE(g.warnings().empty());
  g.check();
}

TEST(Trace, PrintsAStableText) {
  Graph g = trace(add_chain, {ones({2, 3}), ones({3})});
  EXPECT_EQ(g.to_string(),
            "graph(%0 : float32[2, 3],\n"
            "      %1 : float32[3]):\n"
            "  %2 : float32[2, 3] = sy::add(%0, %1, alpha=1)\n"
            "  %3 : float32[2, 3] = sy::add(%2, %0, alpha=2)\n"
            "  return (%3)\n");
}

TEST(Trace, ReplayEqualsEagerOnNewInputs) {
  Graph g = trace(add_chain, {ones({2, 3}), ones({3})});
  for (uint32_t seed = 1; seed < 6; ++seed) {
    std::vector<Tensor> in = {random_tensor({2, 3}, seed), random_tensor({3}, seed + 100)};
    expect_same(g.run(in)[0], add_chain(in)[0]);
  }
}

TEST(Trace, CompositeRecordsOnlyTheOutermostOp) {
  static const auto op = Dispatcher::singleton()
                             .find_op("trace_test::twice_plus")
                             .typed<Tensor(const Tensor&, const Tensor&)>();
  Graph g = trace(
      [](const std::vector<Tensor>& in) { return std::vector<Tensor>{op.call(in[0], in[1])}; },
      {ones({4}), ones({4})});
  ASSERT_EQ(g.num_nodes(), 1u) << g.to_string();
  EXPECT_EQ(g.nodes()[0]->schema().full_name(), "trace_test::twice_plus");
  std::vector<Tensor> in = {random_tensor({4}, 7), random_tensor({4}, 8)};
  expect_same(g.run(in)[0], twice_plus(in[0], in[1]));
}

TEST(Trace, KernelCallingOpsRecordsOneNode) {
  static const auto op =
      Dispatcher::singleton().find_op("trace_test::count_calls").typed<Tensor(const Tensor&)>();
  Graph g = trace([](const std::vector<Tensor>& in) { return std::vector<Tensor>{op.call(in[0])}; },
                  {ones({2})});
  EXPECT_EQ(g.num_nodes(), 1u) << g.to_string();
}

TEST(Trace, FactoriesInsideAreRecordedWithConstantArguments) {
  Graph g = trace(
      [](const std::vector<Tensor>& in) { return std::vector<Tensor>{add(in[0], ones({3}))}; },
      {ones({3})});
  ASSERT_EQ(g.num_nodes(), 2u) << g.to_string();
  EXPECT_EQ(g.nodes()[0]->schema().name(), "ones");
  EXPECT_TRUE(g.warnings().empty());
}

TEST(Trace, TensorFromOutsideBecomesAConstantWithAWarning) {
  const Tensor outside = full({3}, 2.0f);
  Graph g =
      trace([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{add(in[0], outside)}; },
            {ones({3})});
  ASSERT_EQ(g.warnings().size(), 1u);
  EXPECT_NE(g.warnings()[0].find("constant"), std::string::npos) << g.warnings()[0];
  EXPECT_NE(g.to_string().find("= constant(tensor([2., 2., 2.]))"), std::string::npos)
      << g.to_string();
  expect_same(g.run({random_tensor({3}, 3)})[0], add(random_tensor({3}, 3), outside));
}

TEST(Trace, InPlaceOpGivesTheInputANewVersion) {
  auto fn = [](const std::vector<Tensor>& in) {
    Tensor x = add(in[0], in[0], 0);  // a fresh tensor equal to in[0]
    x.add_(in[1]);
    return std::vector<Tensor>{add(x, in[1])};
  };
  std::vector<Tensor> example = {ones({3}), ones({3})};
  Graph g = trace(fn, example);
  std::vector<Tensor> in = {random_tensor({3}, 11), random_tensor({3}, 12)};
  expect_same(g.run(in)[0], fn(in)[0]);
}

TEST(Trace, InPlaceOnAnInputMutatesItOnReplayAsEagerDoes) {
  auto fn = [](const std::vector<Tensor>& in) {
    in[0].add_(in[1]);
    return std::vector<Tensor>{in[0]};
  };
  Graph g = trace(fn, {ones({3}), ones({3})});
  Tensor a = random_tensor({3}, 21), b = random_tensor({3}, 22);
  Tensor a2 = add(a, a, 0);
  std::vector<Tensor> out = g.run({a, b});
  fn({a2, b});
  expect_same(a, a2);
  EXPECT_TRUE(out[0].is_same(a)) << "the output is the mutated input itself";
}

TEST(Trace, SameTensorPassedTwiceGivesTwoGraphInputs) {
  auto fn = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{add(in[0], in[1])}; };
  const Tensor t = ones({3});
  Graph g = trace(fn, {t, t});
  EXPECT_EQ(g.to_string(),
            "graph(%0 : float32[3],\n"
            "      %1 : float32[3]):\n"
            "  %2 : float32[3] = sy::add(%0, %1, alpha=1)\n"
            "  return (%2)\n");
  const Tensor out = g.run({ones({3}), zeros({3})})[0];
  for (int64_t i = 0; i < 3; ++i) EXPECT_EQ(out.data_ptr<float>()[i], 1.0f) << "element " << i;
}

TEST(Trace, SameTensorPassedTwiceSharesItsMemoryWhileTracing) {
  // The traced function sees what eager code sees: writing one argument
  // changes the other, since both are the caller's one tensor.
  float seen = 0;
  auto fn = [&](const std::vector<Tensor>& in) {
    in[0].add_(in[0]);
    seen = in[1].data_ptr<float>()[0];
    return std::vector<Tensor>{in[1]};
  };
  const Tensor t = ones({2});
  Graph g = trace(fn, {t, t});
  EXPECT_EQ(seen, 2.0f);
  EXPECT_EQ(t.data_ptr<float>()[0], 2.0f);
  EXPECT_EQ(g.inputs().size(), 2u);
  EXPECT_EQ(g.outputs()[0], g.inputs()[1]);
}

// ---- switches ---------------------------------------------------------------------------

struct SwitchCase {
  bool state;
  bool enabled;
  bool no_tracer_guard;
};

TEST(TraceSwitches, RecordsOnlyWithStateEnabledAndNoGuard) {
  for (int bits = 0; bits < 8; ++bits) {
    const SwitchCase c{(bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0};
    SCOPED_TRACE(testing::Message() << "state=" << c.state << " enabled=" << c.enabled
                                    << " guard=" << c.no_tracer_guard);
    auto state = std::make_shared<TracingState>();
    Tensor x = ones({2});
    {
      TracingState::Lock lock(*state);
      state->set_value(x, state->graph().add_input(x));
    }
    if (c.state) set_tracing_state(state);
    if (c.enabled) tracer::set_dispatch_enabled(true);
    {
      std::optional<tracer::NoTracerDispatchMode> guard;
      if (c.no_tracer_guard) guard.emplace();
      EXPECT_EQ(is_tracing(), c.state && c.enabled && !c.no_tracer_guard);
      add(x, x);
    }
    tracer::set_dispatch_enabled(false);
    set_tracing_state(nullptr);
    const size_t expected = (c.state && c.enabled && !c.no_tracer_guard) ? 1 : 0;
    EXPECT_EQ(state->graph().num_nodes(), expected);
  }
}

TEST(TraceSwitches, EnablingInsideNoTracerGuardThrowsAndChangesNothing) {
  tracer::NoTracerDispatchMode guard;
  EXPECT_THROW(tracer::set_dispatch_enabled(true), DispatchError);
  EXPECT_FALSE(tls_is_dispatch_key_included(DispatchKey::Tracer));
  try {
    trace(add_chain, {ones({1}), ones({1})});
    FAIL() << "trace() inside NoTracerDispatchMode must throw";
  } catch (const DispatchError& e) {
    EXPECT_NE(std::string(e.what()).find("NoTracerDispatchMode"), std::string::npos);
  }
  EXPECT_EQ(get_tracing_state(), nullptr);
  EXPECT_FALSE(tls_is_dispatch_key_included(DispatchKey::Tracer));
}

TEST(TraceSwitches, ThrowingFunctionLeavesNoStateBehind) {
  const LocalDispatchKeySet before = tls_local_dispatch_key_set();
  EXPECT_THROW(trace(
                   [](const std::vector<Tensor>& in) -> std::vector<Tensor> {
                     add(in[0], in[0]);
                     throw std::runtime_error("boom");
                   },
                   {ones({1})}),
               std::runtime_error);
  EXPECT_EQ(get_tracing_state(), nullptr);
  EXPECT_EQ(tls_local_dispatch_key_set().included, before.included);
  EXPECT_EQ(tls_local_dispatch_key_set().excluded, before.excluded);
  EXPECT_FALSE(is_tracing());
}

TEST(TraceSwitches, OpErrorInsideTraceLeavesNoStateBehind) {
  EXPECT_THROW(
      trace([](const std::vector<Tensor>& in) { return std::vector<Tensor>{add(in[0], in[1])}; },
            {ones({2}), ones({3})}),
      ValueError);
  EXPECT_EQ(get_tracing_state(), nullptr);
  EXPECT_FALSE(tls_is_dispatch_key_included(DispatchKey::Tracer));
}

TEST(TraceSwitches, NestedTraceRestoresTheOuterState) {
  Graph inner;
  Graph outer = trace(
      [&](const std::vector<Tensor>& in) {
        auto outer_state = get_tracing_state();
        inner = trace(add_chain, {in[0], in[0]});
        EXPECT_EQ(get_tracing_state(), outer_state);
        EXPECT_TRUE(is_tracing());
        return std::vector<Tensor>{add(in[0], in[0])};
      },
      {ones({2})});
  EXPECT_EQ(inner.num_nodes(), 2u);
  EXPECT_EQ(outer.num_nodes(), 1u) << outer.to_string();
}

TEST(TraceSwitches, SnapshotTakenWhileTracingCarriesTheState) {
  std::optional<ThreadLocalState> snap;
  Graph g = trace(
      [&](const std::vector<Tensor>& in) {
        snap.emplace();
        return std::vector<Tensor>{in[0]};
      },
      {ones({1})});
  EXPECT_EQ(get_tracing_state(), nullptr);
  {
    ThreadLocalStateGuard guard(*snap);
    EXPECT_NE(get_tracing_state(), nullptr);
    EXPECT_TRUE(tls_is_dispatch_key_included(DispatchKey::Tracer));
  }
  EXPECT_EQ(get_tracing_state(), nullptr);
}

// ---- threads ----------------------------------------------------------------------------

TEST(TraceThreads, OpsOnLaunchedTasksAreRecordedInTheSameGraph) {
  Graph g = trace(
      [](const std::vector<Tensor>& in) {
        Future<Tensor> f = launch([x = in[0]] { return add(x, x); });
        Tensor y = f.get();
        return std::vector<Tensor>{add(y, in[0])};
      },
      {ones({4})});
  ASSERT_EQ(g.num_nodes(), 2u) << g.to_string();
  g.check();
  Tensor x = random_tensor({4}, 5);
  expect_same(g.run({x})[0], add(add(x, x), x));
}

TEST(TraceThreads, OpsInsideParallelForBodiesAreRecorded) {
  Graph g = trace(
      [](const std::vector<Tensor>& in) {
        std::vector<Tensor> parts(8);
        parallel_for(0, 8, 1, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) parts[i] = add(in[0], in[0], static_cast<double>(i));
        });
        Tensor acc = parts[0];
        for (int i = 1; i < 8; ++i) acc = add(acc, parts[i]);
        return std::vector<Tensor>{acc};
      },
      {ones({3})});
  EXPECT_EQ(g.num_nodes(), 15u) << g.to_string();
  g.check();
  Tensor x = random_tensor({3}, 9);
  Tensor want = add(x, x, 0.0);
  for (int i = 1; i < 8; ++i) want = add(want, add(x, x, static_cast<double>(i)));
  Tensor got = g.run({x})[0];
  for (int64_t i = 0; i < 3; ++i)
    EXPECT_NEAR(got.data_ptr<float>()[i], want.data_ptr<float>()[i], 1e-5);
}

TEST(TraceThreads, ParallelForInsideAKernelIsNotRecorded) {
  // A 64K-element add runs its loop through parallel_for on worker threads;
  // those threads inherit the excluded Tracer key, so only the add is recorded.
  Graph g =
      trace([](const std::vector<Tensor>& in) { return std::vector<Tensor>{add(in[0], in[0])}; },
            {ones({1 << 16})});
  EXPECT_EQ(g.num_nodes(), 1u);
}

TEST(TraceDecompose, RecordsTheOpsOfADecompositionInsteadOfTheOp) {
  const auto fn = [](const std::vector<Tensor>& in) -> std::vector<Tensor> {
    return {in[0].sigmoid()};
  };
  const Tensor x = tensor({0.5, -1.0});
  const Graph plain = trace(fn, {x});
  EXPECT_NE(plain.to_string().find("sy::sigmoid"), std::string::npos) << plain.to_string();
  const Graph decomposed = trace(fn, {x}, TraceOptions{true});
  const std::string text = decomposed.to_string();
  EXPECT_EQ(text.find("sy::sigmoid"), std::string::npos) << text;
  EXPECT_NE(text.find("sy::exp"), std::string::npos) << text;
  // Replaying the decomposed graph computes the same values.
  const Tensor again = decomposed.run({x})[0];
  const Tensor expected = x.sigmoid();
  EXPECT_NEAR(again.data_ptr<float>()[0], expected.data_ptr<float>()[0], 1e-6);
  EXPECT_NEAR(again.data_ptr<float>()[1], expected.data_ptr<float>()[1], 1e-6);
}

}  // namespace
}  // namespace sy
