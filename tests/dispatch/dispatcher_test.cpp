// Calls through the dispatcher: kernels of every form called both ways, the
// computed table's precedence, fallbacks, fallthroughs, redispatch and the
// per-thread keys.
#include <gtest/gtest.h>

#include <optional>

#include <atomic>
#include <string>

#include "switchyard/switchyard.h"

namespace sy {
namespace {

using UnarySig = Tensor(const Tensor&);

Tensor cpu_tensor() { return make_tensor({2}, kFloat32, kCPU); }
Tensor meta_tensor() { return make_tensor({2}, kFloat32, kMeta); }

// Records which kernel ran last on this thread.
thread_local std::string g_ran;

Tensor identity_fn(const Tensor& t) {
  g_ran = "function";
  return t;
}

struct CountingFunctor {
  std::shared_ptr<int> calls = std::make_shared<int>(0);
  Tensor operator()(const Tensor& t) const {
    ++*calls;
    g_ran = "functor";
    return t;
  }
};

TEST(TypedCall, RunsAPlainFunctionUnboxed) {
  Library def(Library::DEF, "tc_fn");
  def.def("f(Tensor self) -> Tensor");
  Library cpu(Library::IMPL, "tc_fn", DispatchKey::CPU);
  cpu.impl("f", identity_fn);
  auto op = Dispatcher::singleton().find_op("tc_fn::f").typed<UnarySig>();
  Tensor x = cpu_tensor();
  g_ran.clear();
  EXPECT_TRUE(op.call(x).is_same(x));
  EXPECT_EQ(g_ran, "function");
}

TEST(TypedCall, RunsACompileTimeFunction) {
  Library def(Library::DEF, "tc_sfn");
  def.def("f(Tensor self) -> Tensor");
  Library cpu(Library::IMPL, "tc_sfn", DispatchKey::CPU);
  cpu.impl("f", SY_FN(identity_fn));
  Tensor x = cpu_tensor();
  g_ran.clear();
  EXPECT_TRUE(Dispatcher::singleton().find_op("tc_sfn::f").typed<UnarySig>().call(x).is_same(x));
  EXPECT_EQ(g_ran, "function");
}

TEST(TypedCall, RunsAStatefulFunctorAndKeepsItsState) {
  Library def(Library::DEF, "tc_functor");
  def.def("f(Tensor self) -> Tensor");
  CountingFunctor functor;
  auto calls = functor.calls;
  Library cpu(Library::IMPL, "tc_functor", DispatchKey::CPU);
  cpu.impl("f", functor);
  auto op = Dispatcher::singleton().find_op("tc_functor::f").typed<UnarySig>();
  op.call(cpu_tensor());
  op.call(cpu_tensor());
  EXPECT_EQ(*calls, 2);
}

TEST(TypedCall, RunsALambdaWithCaptures) {
  Library def(Library::DEF, "tc_lambda");
  def.def("scale(int x, int factor=2) -> int");
  int64_t offset = 100;
  Library impl(Library::IMPL, "tc_lambda", DispatchKey::CompositeExplicitAutograd);
  impl.impl("scale", [offset](int64_t x, int64_t f) { return x * f + offset; });
  auto op = Dispatcher::singleton().find_op("tc_lambda::scale").typed<int64_t(int64_t, int64_t)>();
  EXPECT_EQ(op.call(3, 2), 106);
}

TEST(BoxedCall, RunsAnUnboxedKernel) {
  Library def(Library::DEF, "bc_unboxed");
  def.def("add3(int a, float b, Scalar c) -> float");
  Library impl(Library::IMPL, "bc_unboxed", DispatchKey::CompositeExplicitAutograd);
  impl.impl("add3", [](int64_t a, double b, const Scalar& c) { return a + b + c.to<double>(); });
  Stack stack{IValue(1), IValue(2.5), IValue(true)};
  Dispatcher::singleton().find_op("bc_unboxed::add3").call_boxed(stack);
  ASSERT_EQ(stack.size(), 1u);
  EXPECT_DOUBLE_EQ(stack[0].to_double(), 4.5);
}

TEST(TypedCall, RunsABoxedKernel) {
  Library def(Library::DEF, "tc_boxed");
  def.def("twice(Tensor self, int n) -> (Tensor, int)");
  Library cpu(Library::IMPL, "tc_boxed", DispatchKey::CPU);
  cpu.impl("twice", CppFunction::boxed([](const OperatorHandle&, Stack* s) {
             const int64_t n = s->back().to_int();
             s->pop_back();
             s->push_back(IValue(n * 2));
           }));
  auto op = Dispatcher::singleton()
                .find_op("tc_boxed::twice")
                .typed<std::tuple<Tensor, int64_t>(const Tensor&, int64_t)>();
  Tensor x = cpu_tensor();
  auto [t, n] = op.call(x, 21);
  EXPECT_TRUE(t.is_same(x));
  EXPECT_EQ(n, 42);
}

TEST(TypedCall, KernelMayTakeTheKeySet) {
  Library def(Library::DEF, "tc_keys");
  def.def("keys(Tensor self) -> int");
  Library cpu(Library::IMPL, "tc_keys", DispatchKey::CPU);
  cpu.impl("keys", [](DispatchKeySet ks, const Tensor&) { return static_cast<int64_t>(ks.raw()); });
  auto op = Dispatcher::singleton().find_op("tc_keys::keys").typed<int64_t(const Tensor&)>();
  // Every tensor outside inference mode carries ADInplaceOrView, which this op
  // falls through: the CPU kernel sees the call's whole key set.
  EXPECT_EQ(static_cast<uint64_t>(op.call(cpu_tensor())),
            (DispatchKeySet{DispatchKey::CPU, DispatchKey::ADInplaceOrView}).raw());
}

TEST(TypedCall, WrongSignatureIsAnErrorNamingBoth) {
  Library def(Library::DEF, "tc_sig");
  def.def("f(Tensor self, float x) -> Tensor");
  try {
    Dispatcher::singleton().find_op("tc_sig::f").typed<Tensor(const Tensor&, int64_t)>();
    FAIL() << "expected a DispatchError";
  } catch (const DispatchError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("(Tensor, int) -> Tensor"), std::string::npos) << msg;
    EXPECT_NE(msg.find("tc_sig::f(Tensor self, float x) -> Tensor"), std::string::npos) << msg;
  }
}

TEST(Registration, KernelWhoseSignatureDoesNotMatchTheSchemaIsRejected) {
  Library def(Library::DEF, "reg_sig");
  def.def("f(Tensor self) -> Tensor");
  Library cpu(Library::IMPL, "reg_sig", DispatchKey::CPU);
  EXPECT_THROW(cpu.impl("f", [](const Tensor& t, int64_t) { return t; }), DispatchError);
}

TEST(Registration, KernelRegisteredBeforeItsDefIsCheckedAtTheDef) {
  Library cpu(Library::IMPL, "reg_early", DispatchKey::CPU);
  cpu.impl("f", [](const Tensor& t, int64_t) { return t; });
  Library def(Library::DEF, "reg_early");
  try {
    def.def("f(Tensor self) -> Tensor");
    FAIL() << "expected a DispatchError";
  } catch (const DispatchError& e) {
    EXPECT_NE(std::string(e.what()).find("dispatcher_test.cpp"), std::string::npos) << e.what();
  }
  // The failed def left nothing behind.
  EXPECT_FALSE(Dispatcher::singleton().find_op_or_null("reg_early::f").has_value());
}

TEST(Registration, DefiningAnOpTwiceNamesBothSites) {
  Library a(Library::DEF, "reg_twice");
  a.def("f(Tensor self) -> Tensor");
  Library b(Library::FRAGMENT, "reg_twice");
  try {
    b.def("f(Tensor self) -> Tensor");
    FAIL() << "expected a DispatchError";
  } catch (const DispatchError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("defined twice"), std::string::npos) << msg;
    // Both sites: two different lines of this file.
    const auto first = msg.find("dispatcher_test.cpp:");
    ASSERT_NE(first, std::string::npos) << msg;
    EXPECT_NE(msg.find("dispatcher_test.cpp:", first + 1), std::string::npos) << msg;
  }
}

// A second kernel for one op and key overrides the first (kernel_override_test.cpp);
// the warning names both sites.
TEST(Registration, TwoKernelsForOneOpAndKeyNameBothSites) {
  Library def(Library::DEF, "reg_dup");
  def.def("f(Tensor self) -> Tensor");
  Library a(Library::IMPL, "reg_dup", DispatchKey::CPU);
  a.impl("f", identity_fn);
  Library b(Library::IMPL, "reg_dup", DispatchKey::CPU);
  static std::string msg;
  const WarningHandler previous = set_warning_handler([](const std::string& m) { msg = m; });
  b.impl("f", identity_fn);
  set_warning_handler(previous);
  EXPECT_NE(msg.find("already has a kernel for CPU"), std::string::npos) << msg;
  EXPECT_NE(msg.find("first:"), std::string::npos);
  EXPECT_NE(msg.find("second:"), std::string::npos);
}

TEST(Registration, TwoDefLibrariesForOneNamespaceAreRejected) {
  Library a(Library::DEF, "reg_two_defs");
  EXPECT_THROW(Library(Library::DEF, "reg_two_defs"), DispatchError);
}

TEST(Registration, ImplForAnOpNeverDefinedIsReportedWhenLookedUp) {
  Library cpu(Library::IMPL, "reg_nodef", DispatchKey::CPU);
  cpu.impl("f", identity_fn);
  try {
    Dispatcher::singleton().find_op("reg_nodef::f");
    FAIL() << "expected a DispatchError";
  } catch (const DispatchError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("never defined"), std::string::npos) << msg;
    EXPECT_NE(msg.find("CPU at"), std::string::npos) << msg;
  }
}

TEST(FindOp, UnknownNameSuggestsNearNames) {
  Library def(Library::DEF, "find_near");
  def.def("relu(Tensor self) -> Tensor");
  try {
    Dispatcher::singleton().find_op("find_near::rel");
    FAIL() << "expected a DispatchError";
  } catch (const DispatchError& e) {
    EXPECT_NE(std::string(e.what()).find("find_near::relu"), std::string::npos) << e.what();
  }
}

TEST(FindOp, MalformedNameIsADispatchErrorNamingFindOp) {
  for (const char* bad : {"", "::", "a::b::c", "a::b.", "a b"}) {
    try {
      Dispatcher::singleton().find_op(bad);
      FAIL() << "expected a DispatchError for '" << bad << "'";
    } catch (const DispatchError& e) {
      EXPECT_NE(std::string(e.what()).find("find_op"), std::string::npos) << e.what();
    }
  }
}

TEST(TypedCall, BoxedKernelLeavingAWrongTypeIsATypeErrorNamingTheOp) {
  Library def(Library::DEF, "tc_badres");
  def.def("f(Tensor self) -> Tensor");
  Library cpu(Library::IMPL, "tc_badres", DispatchKey::CPU);
  cpu.impl("f", CppFunction::boxed([](const OperatorHandle&, Stack* s) {
             s->back() = IValue(int64_t{3});  // an int where a Tensor belongs
           }));
  try {
    Dispatcher::singleton().find_op("tc_badres::f").typed<UnarySig>().call(cpu_tensor());
    FAIL() << "expected a TypeError";
  } catch (const TypeError& e) {
    EXPECT_NE(std::string(e.what()).find("tc_badres::f"), std::string::npos) << e.what();
  }
}

TEST(Handle, CallAfterTheOpWasRemovedIsAClearErrorAndWorksAfterRedefinition) {
  auto def = std::make_unique<Library>(Library::DEF, "handle_removed");
  def->def("f(Tensor self) -> Tensor");
  Library cpu(Library::IMPL, "handle_removed", DispatchKey::CPU);
  cpu.impl("f", identity_fn);
  auto typed = Dispatcher::singleton().find_op("handle_removed::f").typed<UnarySig>();
  OperatorHandle handle = typed;
  def.reset();
  Tensor x = cpu_tensor();
  try {
    typed.call(x);
    FAIL() << "expected a DispatchError";
  } catch (const DispatchError& e) {
    EXPECT_NE(std::string(e.what()).find("not defined"), std::string::npos) << e.what();
  }
  Stack stack{IValue(x)};
  EXPECT_THROW(handle.call_boxed(stack), DispatchError);

  Library again(Library::DEF, "handle_removed");
  again.def("f(Tensor self) -> Tensor");
  EXPECT_TRUE(typed.call(x).is_same(x));
}

TEST(Handle, TypedHandleRechecksItsSignatureWhenTheOpIsRedefined) {
  auto def = std::make_unique<Library>(Library::DEF, "handle_resig");
  def->def("f(Tensor self) -> Tensor");
  Library cpu(Library::IMPL, "handle_resig", DispatchKey::CompositeImplicitAutograd);
  auto typed = Dispatcher::singleton().find_op("handle_resig::f").typed<UnarySig>();
  def.reset();
  Library again(Library::DEF, "handle_resig");
  again.def("f(Tensor self, int n) -> Tensor");
  EXPECT_THROW(typed.call(cpu_tensor()), DispatchError);
}

// ---- which kernel serves a key ------------------------------------------------

struct Tagged {
  std::string tag;
  std::string operator()(const Tensor&) const { return tag; }
};

// An op `f(Tensor) -> str` whose kernels return their own names.
class Precedence : public ::testing::Test {
 protected:
  void SetUp() override { def_.def("f(Tensor self) -> str"); }
  void add(DispatchKey key, const std::string& tag) {
    libs_.push_back(std::make_unique<Library>(Library::IMPL, "prec", key));
    libs_.back()->impl("f", key, CppFunction::boxed([tag](const OperatorHandle&, Stack* s) {
                         s->pop_back();
                         s->push_back(IValue(tag));
                       }));
  }
  std::string run(const Tensor& t) {
    Stack s{IValue(t)};
    Dispatcher::singleton().find_op("prec::f").call_boxed(s);
    return s.back().to_string_ref();
  }
  Library def_{Library::DEF, "prec"};
  std::vector<std::unique_ptr<Library>> libs_;
};

TEST_F(Precedence, KernelForTheKeyBeatsCompositeExplicitWhichBeatsCompositeImplicit) {
  add(DispatchKey::CompositeImplicitAutograd, "implicit");
  EXPECT_EQ(run(cpu_tensor()), "implicit");
  add(DispatchKey::CompositeExplicitAutograd, "explicit");
  EXPECT_EQ(run(cpu_tensor()), "explicit");
  add(DispatchKey::CPU, "cpu");
  EXPECT_EQ(run(cpu_tensor()), "cpu");
  EXPECT_EQ(run(meta_tensor()), "explicit");
}

TEST_F(Precedence, CpuOnlyOpWithAutogradOnReachesItsCpuKernel) {
  add(DispatchKey::CPU, "cpu");
  Tensor t = cpu_tensor().requires_grad_(true);
  ASSERT_TRUE(t.key_set().has(DispatchKey::AutogradCPU));
  EXPECT_EQ(run(t), "cpu");
}

TEST_F(Precedence, CompositeImplicitServesMetaWhenOnlyCpuHasAKernel) {
  add(DispatchKey::CPU, "cpu");
  add(DispatchKey::CompositeImplicitAutograd, "implicit");
  EXPECT_EQ(run(meta_tensor()), "implicit");
}

TEST_F(Precedence, AutogradKernelAppliesWhereTheBackendHasAKernel) {
  add(DispatchKey::CPU, "cpu");
  add(DispatchKey::CompositeImplicitAutograd, "implicit");
  add(DispatchKey::Autograd, "autograd");
  // CPU has a kernel: AutogradCPU takes the Autograd kernel.
  EXPECT_EQ(run(cpu_tensor().requires_grad_(true)), "autograd");
  // Meta has none: AutogradMeta decomposes through the composite instead.
  EXPECT_EQ(run(meta_tensor().requires_grad_(true)), "implicit");
}

TEST_F(Precedence, AutogradOtherDecomposesWhenEveryBackendKernelHasItsOwnAutogradKey) {
  // CPU has AutogradCPU, so a CPU kernel does not make AutogradOther ambiguous.
  add(DispatchKey::CPU, "cpu");
  add(DispatchKey::CompositeImplicitAutograd, "implicit");
  IncludeDispatchKeyGuard include(DispatchKey::AutogradOther);
  EXPECT_EQ(run(cpu_tensor()), "implicit");
}

TEST_F(Precedence, MissingKernelNamesOpKeyAndKeysWithKernels) {
  add(DispatchKey::CPU, "cpu");
  try {
    run(meta_tensor());
    FAIL() << "expected a DispatchError";
  } catch (const DispatchError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("no kernel for prec::f at key Meta"), std::string::npos) << msg;
    EXPECT_NE(msg.find("kernels exist for: CPU"), std::string::npos) << msg;
  }
}

TEST_F(Precedence, FallthroughKernelSkipsItsKeyForThisOpOnly) {
  add(DispatchKey::CPU, "cpu");
  Library tracer(Library::IMPL, "prec", DispatchKey::Tracer);
  tracer.impl("f", CppFunction::fallthrough());
  IncludeDispatchKeyGuard include(DispatchKey::Tracer);
  EXPECT_EQ(run(cpu_tensor()), "cpu");
}

TEST(Fallback, BoxedFallbackServesEveryOpAtItsKeyAndRedispatches) {
  Library def(Library::DEF, "fb_ops");
  def.def("f(Tensor self) -> Tensor");
  def.def("g(Tensor self, int n) -> Tensor");
  Library cpu(Library::IMPL, "fb_ops", DispatchKey::CPU);
  cpu.impl("f", identity_fn);
  cpu.impl("g", [](const Tensor& t, int64_t) { return t; });
  std::vector<std::string> seen;
  Library fallback(Library::IMPL, "_", DispatchKey::Batched);
  fallback.fallback(
      CppFunction::boxed([&seen](const OperatorHandle& op, DispatchKeySet ks, Stack* s) {
        seen.push_back(op.name());
        op.redispatch_boxed(ks.remove_from_and_above(DispatchKey::Batched), *s);
      }));
  IncludeDispatchKeyGuard include(DispatchKey::Batched);
  Tensor x = cpu_tensor();
  EXPECT_TRUE(Dispatcher::singleton().find_op("fb_ops::f").typed<UnarySig>().call(x).is_same(x));
  Dispatcher::singleton().find_op("fb_ops::g").typed<Tensor(const Tensor&, int64_t)>().call(x, 1);
  EXPECT_EQ(seen, (std::vector<std::string>{"fb_ops::f", "fb_ops::g"}));
}

TEST(Fallback, UnboxedFallbackIsRejected) {
  Library fallback(Library::IMPL, "_", DispatchKey::Batched);
  EXPECT_THROW(fallback.fallback(identity_fn), DispatchError);
}

TEST(Fallback, ALaterFallbackOverridesAndRemovingItRestoresTheEarlierOne) {
  Library def(Library::DEF, "fb_override");
  def.def("f(Tensor self) -> str");
  auto tagging = [](const char* tag) {
    return CppFunction::boxed([tag](const OperatorHandle&, Stack* s) {
      s->pop_back();
      s->push_back(IValue(tag));
    });
  };
  static std::vector<std::string> warnings;
  warnings.clear();
  const WarningHandler previous =
      set_warning_handler([](const std::string& m) { warnings.push_back(m); });
  auto first = std::make_unique<Library>(Library::IMPL, "_", DispatchKey::GradWrapper);
  first->fallback(tagging("first"));
  auto second = std::make_unique<Library>(Library::IMPL, "_", DispatchKey::GradWrapper);
  second->fallback(tagging("second"));
  auto third = std::make_unique<Library>(Library::IMPL, "_", DispatchKey::GradWrapper);
  third->fallback(tagging("third"));
  set_warning_handler(previous);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("already has a fallback"), std::string::npos) << warnings[0];

  IncludeDispatchKeyGuard include(DispatchKey::GradWrapper);
  const OperatorHandle op = Dispatcher::singleton().find_op("fb_override::f");
  auto run = [&] {
    Stack s{IValue(cpu_tensor())};
    op.call_boxed(s);
    return s[0].to_string_ref();
  };
  EXPECT_EQ(run(), "third");
  second.reset();  // a shadowed one goes without changing the current one
  EXPECT_EQ(run(), "third");
  third.reset();
  EXPECT_EQ(run(), "first");
  first.reset();
  EXPECT_THROW(run(), DispatchError);
}

TEST(Fallback, IncludedKeyWithoutAnyKernelIsAMissingKernelError) {
  Library def(Library::DEF, "fb_tracer");
  def.def("f(Tensor self) -> Tensor");
  Library cpu(Library::IMPL, "fb_tracer", DispatchKey::CPU);
  cpu.impl("f", identity_fn);
  // GradWrapper has no fallback (Tracer and Batched have their layers'), so nothing runs there.
  std::optional<IncludeDispatchKeyGuard> wrapper(std::in_place, DispatchKey::GradWrapper);
  const LocalDispatchKeySet before = tls_local_dispatch_key_set();
  EXPECT_THROW(Dispatcher::singleton().find_op("fb_tracer::f").typed<UnarySig>().call(cpu_tensor()),
               DispatchError);
  // The failed call left the thread's state as it was.
  EXPECT_EQ(tls_local_dispatch_key_set().included, before.included);
  EXPECT_EQ(tls_local_dispatch_key_set().excluded, before.excluded);
  wrapper.reset();
}

TEST(Redispatch, KernelAboveTheBackendHandlesThenContinuesBelowItself) {
  Library def(Library::DEF, "redisp");
  def.def("f(Tensor self) -> Tensor");
  Library cpu(Library::IMPL, "redisp", DispatchKey::CPU);
  cpu.impl("f", identity_fn);
  std::vector<std::string> order;
  Library tracer(Library::IMPL, "redisp", DispatchKey::Tracer);
  tracer.impl("f", [&order](DispatchKeySet ks, const Tensor& t) {
    order.push_back("tracer");
    static const auto op = Dispatcher::singleton().find_op("redisp::f").typed<UnarySig>();
    Tensor r = op.redispatch(ks.remove_from_and_above(DispatchKey::Tracer), t);
    order.push_back(g_ran);
    return r;
  });
  Tensor x = cpu_tensor();
  auto op = Dispatcher::singleton().find_op("redisp::f").typed<UnarySig>();
  op.call(x);
  EXPECT_TRUE(order.empty()) << "Tracer is off unless included";
  tracer::set_dispatch_enabled(true);
  op.call(x);
  tracer::set_dispatch_enabled(false);
  EXPECT_EQ(order, (std::vector<std::string>{"tracer", "function"}));
}

TEST(ThreadKeys, ExcludedBackendKeyMakesTheCallFallToTheNextKey) {
  Library def(Library::DEF, "tk_excl");
  def.def("f(Tensor self) -> str");
  Library cpu(Library::IMPL, "tk_excl", DispatchKey::CPU);
  cpu.impl("f", [](const Tensor&) { return std::string("cpu"); });
  Library any(Library::IMPL, "tk_excl", DispatchKey::CompositeExplicitAutograd);
  any.impl("f", [](const Tensor&) { return std::string("explicit"); });
  auto op = Dispatcher::singleton().find_op("tk_excl::f").typed<std::string(const Tensor&)>();
  Tensor t = make_tensor({1}, kFloat32, kCPU);
  EXPECT_EQ(op.call(t), "cpu");
  {
    // Both CPU and Meta on the tensor side: exclude CPU, included Meta wins.
    IncludeDispatchKeyGuard include(DispatchKey::Meta);
    ExcludeDispatchKeyGuard exclude(DispatchKey::CPU);
    EXPECT_EQ(op.call(t), "explicit");
  }
  EXPECT_EQ(op.call(t), "cpu");
}

TEST(BoxedCall, WrongArgumentTypesNameExpectedAndActual) {
  Library def(Library::DEF, "bc_bad");
  def.def("f(Tensor self, int n) -> Tensor");
  Stack stack{IValue(cpu_tensor()), IValue(2.5)};
  try {
    Dispatcher::singleton().find_op("bc_bad::f").call_boxed(stack);
    FAIL() << "expected a TypeError";
  } catch (const TypeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("expected: (Tensor self, int n)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("got:      (Tensor[2] float32 cpu, float)"), std::string::npos) << msg;
  }
  Stack too_few{IValue(cpu_tensor())};
  EXPECT_THROW(Dispatcher::singleton().find_op("bc_bad::f").call_boxed(too_few), TypeError);
}

TEST(Explain, NamesKeysFallthroughsAndTheChosenKernel) {
  Library def(Library::DEF, "explain_op");
  def.def("f(Tensor self) -> Tensor");
  Library cpu(Library::IMPL, "explain_op", DispatchKey::CPU);
  cpu.impl("f", identity_fn);
  Tensor t = cpu_tensor().requires_grad_(true);
  ExcludeDispatchKeyGuard exclude(DispatchKey::Python);
  const std::string text = explain_dispatch("explain_op::f", Stack{IValue(t)});
  EXPECT_NE(text.find("keys from tensors:   {AutogradCPU, ADInplaceOrView, CPU}"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("thread excluded:     {Python}"), std::string::npos) << text;
  EXPECT_NE(text.find("AutogradCPU: fallthrough"), std::string::npos) << text;
  EXPECT_NE(text.find("chosen key:          CPU"), std::string::npos) << text;
  EXPECT_NE(text.find("the kernel for CPU [" __FILE__), std::string::npos) << text;
}

TEST(Dump, ListsRegistrationsAndTheComputedTable) {
  Library def(Library::DEF, "dump_op");
  def.def("f(Tensor self) -> Tensor");
  Library cpu(Library::IMPL, "dump_op", DispatchKey::CPU);
  cpu.impl("f", identity_fn);
  const std::string dump = Dispatcher::singleton().dump("dump_op::f");
  EXPECT_NE(dump.find("schema: dump_op::f(Tensor self) -> Tensor"), std::string::npos) << dump;
  EXPECT_NE(dump.find("CPU: kernel (unboxed and boxed)"), std::string::npos) << dump;
  const std::string table = Dispatcher::singleton().dump_table("dump_op::f");
  EXPECT_NE(table.find("  CPU: the kernel for CPU"), std::string::npos) << table;
  EXPECT_NE(table.find("  Meta: missing"), std::string::npos) << table;
  EXPECT_NE(table.find("  AutogradCPU: fallthrough (default for this key)"), std::string::npos)
      << table;
}

}  // namespace
}  // namespace sy
