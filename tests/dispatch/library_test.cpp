// Libraries remove exactly what they registered, in any order, and their
// kernels' state is released once no call uses it.
#include <gtest/gtest.h>

#include "switchyard/switchyard.h"

namespace sy {
namespace {

TEST(Library, DestroyingRemovesExactlyItsRegistrations) {
  Library def(Library::DEF, "lib_exact");
  def.def("f(Tensor self) -> Tensor");
  def.def("g(Tensor self) -> Tensor");
  auto cpu = std::make_unique<Library>(Library::IMPL, "lib_exact", DispatchKey::CPU);
  cpu->impl("f", [](const Tensor& t) { return t; });
  Library meta(Library::IMPL, "lib_exact", DispatchKey::Meta);
  meta.impl("f", [](const Tensor& t) { return t; });
  cpu.reset();
  const std::string dump = Dispatcher::singleton().dump("lib_exact::f");
  EXPECT_EQ(dump.find("CPU:"), std::string::npos) << dump;
  EXPECT_NE(dump.find("Meta:"), std::string::npos) << dump;
  EXPECT_TRUE(Dispatcher::singleton().find_op_or_null("lib_exact::g").has_value());
}

TEST(Library, KernelStateIsReleasedWhenItsLibraryGoes) {
  Library def(Library::DEF, "lib_state");
  def.def("f(Tensor self) -> Tensor");
  auto state = std::make_shared<int>(7);
  std::weak_ptr<int> watch = state;
  {
    Library cpu(Library::IMPL, "lib_state", DispatchKey::CPU);
    cpu.impl("f", [state](const Tensor& t) { return t; });
    state.reset();
    EXPECT_FALSE(watch.expired());
  }
  EXPECT_TRUE(watch.expired()) << "no call was running, so the kernel is freed at once";
}

TEST(Library, ResetKeepsTheLibraryUsable) {
  Library def(Library::DEF, "lib_reset");
  def.def("f(Tensor self) -> Tensor");
  def.reset();
  EXPECT_FALSE(Dispatcher::singleton().find_op_or_null("lib_reset::f").has_value());
  def.def("f(Tensor self) -> Tensor");
  EXPECT_TRUE(Dispatcher::singleton().find_op_or_null("lib_reset::f").has_value());
}

TEST(Library, ImplLibraryCannotDefine) {
  Library impl(Library::IMPL, "lib_nodef", DispatchKey::CPU);
  EXPECT_THROW(impl.def("f(Tensor self) -> Tensor"), DispatchError);
}

TEST(Library, NamespacesAreIdentifiers) {
  for (const char* bad : {"", "a b::c", "1abc", "a.b", "a-b", "a::b"}) {
    EXPECT_THROW(Library(Library::DEF, bad), DispatchError) << '"' << bad << '"';
    EXPECT_THROW(Library(Library::IMPL, bad, DispatchKey::CPU), DispatchError) << bad;
  }
  EXPECT_NO_THROW(Library(Library::DEF, "lib_Ok_2"));
}

TEST(Library, FallbacksComeFromNamespaceUnderscoreOnly) {
  Library impl(Library::IMPL, "lib_fb", DispatchKey::Python);
  try {
    impl.fallback(CppFunction::fallthrough());
    ADD_FAILURE() << "a fallback from namespace lib_fb was accepted";
  } catch (const DispatchError& e) {
    EXPECT_NE(std::string(e.what()).find("namespace \"_\""), std::string::npos) << e.what();
  }
  Library any(Library::IMPL, "_", DispatchKey::Python);
  EXPECT_NO_THROW(any.fallback(CppFunction::fallthrough()));
}

TEST(Library, OpOutsideTheNamespaceIsRejected) {
  Library def(Library::DEF, "lib_ns");
  EXPECT_THROW(def.def("other_ns::f(Tensor self) -> Tensor"), DispatchError);
}

TEST(Library, DefWithFunctionRegistersACompositeImplicitKernel) {
  Library def(Library::DEF, "lib_defn");
  def.def("double_it(int x) -> int", [](int64_t x) { return 2 * x; });
  const std::string dump = Dispatcher::singleton().dump("lib_defn::double_it");
  EXPECT_NE(dump.find("CompositeImplicitAutograd: kernel"), std::string::npos) << dump;
  EXPECT_EQ(
      Dispatcher::singleton().find_op("lib_defn::double_it").typed<int64_t(int64_t)>().call(4), 8);
}

TEST(Library, BadSchemaIsASchemaErrorAndRegistersNothing) {
  Library def(Library::DEF, "lib_bad");
  EXPECT_THROW(def.def("f(Tensor self -> Tensor"), SchemaError);
  EXPECT_EQ(Dispatcher::singleton().find_op_or_null("lib_bad::f"), std::nullopt);
}

}  // namespace
}  // namespace sy

namespace sy {
namespace {

// A kernel for a schema written as native_functions.yaml writes it: SymInt as
// int64_t, Generator? as std::nullopt_t, Layout? and MemoryFormat? as optionals.
Tensor native_style(IntArrayRef size, std::nullopt_t, std::optional<ScalarType> dtype,
                    std::optional<Layout> layout, std::optional<MemoryFormat> memory_format) {
  SY_CHECK(!layout || *layout == Layout::Strided, ValueError, "strided only");
  Tensor t = zeros(size, TensorOptions().dtype(dtype.value_or(kFloat32)));
  return memory_format == MemoryFormat::ChannelsLast ? add(t, 1) : t;
}

TEST(Library, KernelsTakeTheTypesOfNativeFunctionsYaml) {
  Library lib(Library::DEF, "lib_native");
  lib.def(
      "make(SymInt[] size, *, Generator? generator=None, ScalarType? dtype=None, "
      "Layout? layout=None, MemoryFormat? memory_format=None) -> Tensor",
      SY_FN(native_style));
  auto op = Dispatcher::singleton()
                .find_op("lib_native::make")
                .typed<Tensor(IntArrayRef, std::nullopt_t, std::optional<ScalarType>,
                              std::optional<Layout>, std::optional<MemoryFormat>)>();
  EXPECT_EQ(op.call({2}, std::nullopt, kInt64, Layout::Strided, MemoryFormat::ChannelsLast)
                .sum()
                .item<int64_t>(),
            2);
  Stack stack{IValue(std::vector<int64_t>{3}), IValue(), IValue(), IValue(), IValue(int64_t{0})};
  op.call_boxed(stack);
  EXPECT_EQ(stack.at(0).to_tensor().sizes(), IntArrayRef({3}));
  Stack bad{IValue(std::vector<int64_t>{3}), IValue(), IValue(), IValue(int64_t{5}), IValue()};
  EXPECT_THROW(op.call_boxed(bad), ValueError);
}

}  // namespace
}  // namespace sy
