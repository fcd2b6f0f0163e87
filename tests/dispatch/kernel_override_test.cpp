// A kernel registered at a key that already has one overrides it, with a
// warning naming both (See Note [Overriding a kernel]); removing the newer
// registration brings back the older, in any order of removals.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "switchyard/switchyard.h"

namespace sy {
namespace {

std::vector<std::string>& warnings() {
  static std::vector<std::string> seen;
  return seen;
}

// Collects the warnings given while it lives (tests here run on one thread).
class CaptureWarnings {
 public:
  CaptureWarnings()
      : previous_(set_warning_handler([](const std::string& m) { warnings().push_back(m); })) {
    warnings().clear();
  }
  ~CaptureWarnings() { set_warning_handler(previous_); }

 private:
  WarningHandler previous_;
};

Tensor run(const char* op, const Tensor& t) {
  return Dispatcher::singleton().find_op(op).typed<Tensor(const Tensor&)>().call(t);
}

TEST(KernelOverride, WarnsNamingBothSitesAndTheNewKernelRuns) {
  Library def(Library::DEF, "ovr_warn");
  def.def("f(Tensor self) -> Tensor");
  Library a(Library::IMPL, "ovr_warn", DispatchKey::CPU);
  a.impl("f", [](const Tensor& t) { return add(t, 1); });
  CaptureWarnings capture;
  Library b(Library::IMPL, "ovr_warn", DispatchKey::CPU);
  b.impl("f", [](const Tensor& t) { return add(t, 2); });
  ASSERT_EQ(warnings().size(), 1u);
  const std::string& msg = warnings()[0];
  EXPECT_NE(msg.find("ovr_warn::f already has a kernel for CPU"), std::string::npos) << msg;
  EXPECT_NE(msg.find("first:  " __FILE__), std::string::npos) << msg;
  EXPECT_NE(msg.find("second: " __FILE__), std::string::npos) << msg;
  EXPECT_EQ(run("ovr_warn::f", zeros({1})).item<float>(), 2.0f);
}

TEST(KernelOverride, RemovingTheOverrideRestoresTheOriginal) {
  Library def(Library::DEF, "ovr_restore");
  def.def("f(Tensor self) -> Tensor");
  Library a(Library::IMPL, "ovr_restore", DispatchKey::CPU);
  a.impl("f", [](const Tensor& t) { return add(t, 1); });
  CaptureWarnings capture;
  {
    Library b(Library::IMPL, "ovr_restore", DispatchKey::CPU);
    b.impl("f", [](const Tensor& t) { return add(t, 2); });
    EXPECT_NE(Dispatcher::singleton().dump("ovr_restore::f").find("(overridden)"),
              std::string::npos);
  }
  EXPECT_EQ(run("ovr_restore::f", zeros({1})).item<float>(), 1.0f);
  EXPECT_EQ(Dispatcher::singleton().dump("ovr_restore::f").find("(overridden)"), std::string::npos);
}

TEST(KernelOverride, TheLatestRemainingRegistrationWinsWhateverTheRemovalOrder) {
  Library def(Library::DEF, "ovr_order");
  def.def("f(Tensor self) -> Tensor");
  CaptureWarnings capture;
  auto a = std::make_unique<Library>(Library::IMPL, "ovr_order", DispatchKey::CPU);
  a->impl("f", [](const Tensor& t) { return add(t, 1); });
  auto b = std::make_unique<Library>(Library::IMPL, "ovr_order", DispatchKey::CPU);
  b->impl("f", [](const Tensor& t) { return add(t, 2); });
  auto c = std::make_unique<Library>(Library::IMPL, "ovr_order", DispatchKey::CPU);
  c->impl("f", [](const Tensor& t) { return add(t, 3); });
  EXPECT_EQ(warnings().size(), 2u);
  b.reset();  // the middle one: c still wins
  EXPECT_EQ(run("ovr_order::f", zeros({1})).item<float>(), 3.0f);
  c.reset();
  EXPECT_EQ(run("ovr_order::f", zeros({1})).item<float>(), 1.0f);
}

TEST(KernelOverride, ABuiltInOpsCpuKernelCanBeOverriddenAndRestored) {
  const Tensor x = tensor({1.0f, 2.0f});
  CaptureWarnings capture;
  {
    Library mine(Library::IMPL, "sy", DispatchKey::CPU);
    mine.impl("neg", [](const Tensor& t) { return zeros_like(t); });
    ASSERT_EQ(warnings().size(), 1u);
    EXPECT_NE(warnings()[0].find("sy::neg already has a kernel for CPU"), std::string::npos);
    EXPECT_NE(warnings()[0].find("switchyard/ops/unary_ops.yaml"), std::string::npos)
        << "the first kernel's site is its op table entry: " << warnings()[0];
    EXPECT_EQ(neg(x).sum().item<float>(), 0.0f);
  }
  EXPECT_EQ(neg(x).sum().item<float>(), -3.0f);
}

TEST(KernelOverride, AKernelWhoseSignatureDoesNotMatchIsRejectedWithoutAWarning) {
  Library def(Library::DEF, "ovr_sig");
  def.def("f(Tensor self) -> Tensor");
  Library a(Library::IMPL, "ovr_sig", DispatchKey::CPU);
  a.impl("f", [](const Tensor& t) { return t; });
  CaptureWarnings capture;
  Library b(Library::IMPL, "ovr_sig", DispatchKey::CPU);
  EXPECT_THROW(b.impl("f", [](const Tensor& t, int64_t) { return t; }), DispatchError);
  EXPECT_TRUE(warnings().empty());
}

}  // namespace
}  // namespace sy
