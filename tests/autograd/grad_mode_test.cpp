// Grad mode and inference mode: defaults on every thread, the guards' nesting
// and restoring, the keys InferenceMode excludes, inference tensors, and calls
// that skip autograd's kernels.
#include "switchyard/autograd/grad_mode.h"

#include <atomic>
#include <ostream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "switchyard/dispatch/dispatcher.h"
#include "switchyard/dispatch/library.h"
#include "switchyard/ops/ops.h"

namespace sy {

static void PrintTo(DispatchKeySet s, std::ostream* os) { *os << to_string(s); }

namespace {

using K = DispatchKey;

const DispatchKeySet kInferenceExcluded = kAutogradKeys | DispatchKeySet(K::ADInplaceOrView);

DispatchKeySet included() { return tls_local_dispatch_key_set().included; }
DispatchKeySet excluded() { return tls_local_dispatch_key_set().excluded; }

class CleanModes : public ::testing::Test {
 protected:
  void SetUp() override {
    tls_set_local_dispatch_key_set({});
    tls_set_autograd_state({});
  }
  void TearDown() override { SetUp(); }
};

// ---------------------------------------------------------------------------
// GradMode, AutoGradMode, NoGradGuard.

class GradModeTest : public CleanModes {};

TEST_F(GradModeTest, OnByDefaultOnEveryNewThread) {
  NoGradGuard off_here;  // a new thread must not inherit it
  tls_set_dispatch_key_excluded(K::AutogradCPU, true);
  std::vector<int> seen(4, -1);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      seen[i] = GradMode::is_enabled() && !is_inference_mode_enabled() && excluded().empty();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(seen, (std::vector<int>{1, 1, 1, 1}));
  EXPECT_FALSE(GradMode::is_enabled());
}

TEST_F(GradModeTest, SetEnabledActsOnTheCallingThreadOnly) {
  GradMode::set_enabled(false);
  bool other_thread_sees = false;
  std::thread([&] { other_thread_sees = GradMode::is_enabled(); }).join();
  EXPECT_TRUE(other_thread_sees);
  EXPECT_FALSE(GradMode::is_enabled());
}

TEST_F(GradModeTest, NoGradGuardTurnsGradOffAndRestores) {
  {
    NoGradGuard guard;
    EXPECT_FALSE(GradMode::is_enabled());
  }
  EXPECT_TRUE(GradMode::is_enabled());
}

TEST_F(GradModeTest, GuardsNestAndRestoreInOrder) {
  {
    NoGradGuard no_grad;
    {
      AutoGradMode enable(true);
      EXPECT_TRUE(GradMode::is_enabled());
      {
        AutoGradMode disable(false);
        EXPECT_FALSE(GradMode::is_enabled());
        {
          NoGradGuard again;
          EXPECT_FALSE(GradMode::is_enabled());
        }
        EXPECT_FALSE(GradMode::is_enabled());
      }
      EXPECT_TRUE(GradMode::is_enabled());
    }
    EXPECT_FALSE(GradMode::is_enabled());
  }
  EXPECT_TRUE(GradMode::is_enabled());
}

TEST_F(GradModeTest, AutoGradModeRestoresTheModeItFoundNotTheDefault) {
  GradMode::set_enabled(false);
  {
    AutoGradMode enable(true);
    EXPECT_TRUE(GradMode::is_enabled());
  }
  EXPECT_FALSE(GradMode::is_enabled());
}

TEST_F(GradModeTest, GuardsRestoreWhenAnExceptionPassesThrough) {
  try {
    NoGradGuard no_grad;
    try {
      AutoGradMode enable(true);
      throw std::runtime_error("inner");
    } catch (const std::runtime_error&) {
    }
    EXPECT_FALSE(GradMode::is_enabled());
    throw std::runtime_error("outer");
  } catch (const std::runtime_error&) {
  }
  EXPECT_TRUE(GradMode::is_enabled());
}

TEST_F(GradModeTest, GuardsLeaveTheKeysAlone) {
  NoGradGuard no_grad;
  AutoGradMode enable(true);
  EXPECT_TRUE(included().empty());
  EXPECT_TRUE(excluded().empty());
  EXPECT_FALSE(is_inference_mode_enabled());
}

// ---------------------------------------------------------------------------
// InferenceMode.

class InferenceModeTest : public CleanModes {};

TEST_F(InferenceModeTest, TurnsGradOffAndInferenceOn) {
  InferenceMode guard;
  EXPECT_FALSE(GradMode::is_enabled());
  EXPECT_TRUE(is_inference_mode_enabled());
}

TEST_F(InferenceModeTest, ExcludesTheAutogradKeysAndADInplaceOrView) {
  InferenceMode guard;
  for (DispatchKey k : kAutogradKeys) EXPECT_TRUE(excluded().has(k)) << to_string(k);
  EXPECT_TRUE(excluded().has(K::ADInplaceOrView));
  EXPECT_EQ(excluded(), kInferenceExcluded) << "nothing else is excluded";
  EXPECT_TRUE(included().empty());
}

TEST_F(InferenceModeTest, RestoresExactlyWhatItFound) {
  // Excluded before: one autograd key (must stay excluded) and an unrelated key.
  const LocalDispatchKeySet mine{DispatchKeySet(K::Tracer),
                                 DispatchKeySet{K::AutogradCPU, K::Python}};
  tls_set_local_dispatch_key_set(mine);
  GradMode::set_enabled(false);
  {
    InferenceMode guard;
    EXPECT_EQ(excluded(), kInferenceExcluded | DispatchKeySet(K::Python));
    EXPECT_EQ(included(), DispatchKeySet(K::Tracer));
  }
  EXPECT_EQ(included(), mine.included);
  EXPECT_EQ(excluded(), mine.excluded);
  EXPECT_EQ(tls_autograd_state(), (AutogradState{/*grad_disabled=*/true, false}));
}

TEST_F(InferenceModeTest, RestoresWhenAnExceptionPassesThrough) {
  try {
    InferenceMode guard;
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  EXPECT_TRUE(GradMode::is_enabled());
  EXPECT_FALSE(is_inference_mode_enabled());
  EXPECT_TRUE(excluded().empty());
}

TEST_F(InferenceModeTest, TensorsMadeInsideAreInferenceTensors) {
  Tensor inside_op, inside_raw;
  {
    InferenceMode guard;
    inside_op = ones({2, 2});
    inside_raw = make_tensor({3}, kFloat32, kCPU);
  }
  const Tensor outside_op = ones({2, 2});
  const Tensor outside_raw = make_tensor({3}, kFloat32, kCPU);
  EXPECT_TRUE(inside_op.is_inference());
  EXPECT_TRUE(inside_raw.is_inference());
  EXPECT_FALSE(outside_op.is_inference());
  EXPECT_FALSE(outside_raw.is_inference());
}

TEST_F(InferenceModeTest, NoGradAloneDoesNotMakeInferenceTensors) {
  NoGradGuard no_grad;
  EXPECT_FALSE(zeros({2}).is_inference());
}

TEST_F(InferenceModeTest, DisabledInsideEnabledTurnsInferenceOff) {
  InferenceMode on;
  {
    InferenceMode off(false);
    EXPECT_FALSE(is_inference_mode_enabled());
    for (DispatchKey k : kInferenceExcluded) EXPECT_FALSE(excluded().has(k)) << to_string(k);
    EXPECT_FALSE(ones({2}).is_inference());
  }
  EXPECT_TRUE(is_inference_mode_enabled());
  EXPECT_FALSE(GradMode::is_enabled());
  EXPECT_EQ(excluded(), kInferenceExcluded);
  EXPECT_TRUE(ones({2}).is_inference());
}

// As in PyTorch (c10/core/InferenceMode.h): "disabling inference mode means
// enabling grad modes", so InferenceMode(false) turns grad mode back on.
TEST_F(InferenceModeTest, DisabledInsideEnabledTurnsGradModeBackOn) {
  InferenceMode on;
  {
    InferenceMode off(false);
    EXPECT_TRUE(GradMode::is_enabled());
  }
  EXPECT_FALSE(GradMode::is_enabled());
}

TEST_F(InferenceModeTest, RequiresGradOnAnInferenceTensorOutsideIsAnAutogradError) {
  Tensor t;
  {
    InferenceMode guard;
    t = ones({2});
  }
  EXPECT_THROW(t.requires_grad_(true), AutogradError);
  EXPECT_FALSE(t.requires_grad());
  const Tensor normal = ones({2});
  normal.requires_grad_(true);
  EXPECT_TRUE(normal.requires_grad());
}

TEST_F(InferenceModeTest, RequiresGradOnAnInferenceTensorInsideIsAllowed) {
  InferenceMode guard;
  const Tensor t = ones({2});
  t.requires_grad_(true);
  EXPECT_TRUE(t.requires_grad());
}

// ---------------------------------------------------------------------------
// AutoDispatchBelowADInplaceOrView.

class BelowADInplaceOrView : public CleanModes {};

TEST_F(BelowADInplaceOrView, ExcludesTheKeysAndRestores) {
  tls_set_dispatch_key_excluded(K::Python, true);
  {
    AutoDispatchBelowADInplaceOrView guard;
    EXPECT_EQ(excluded(), kInferenceExcluded | DispatchKeySet(K::Python));
    EXPECT_TRUE(GradMode::is_enabled()) << "it changes keys, not modes";
    EXPECT_FALSE(is_inference_mode_enabled());
  }
  EXPECT_EQ(excluded(), DispatchKeySet(K::Python));
}

TEST_F(BelowADInplaceOrView, RestoresWhenAnExceptionPassesThrough) {
  try {
    AutoDispatchBelowADInplaceOrView guard;
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  EXPECT_TRUE(excluded().empty());
}

// ---------------------------------------------------------------------------
// Calls: an op with an Autograd kernel, called on a tensor that requires grad.

class SkipsAutograd : public CleanModes {
 protected:
  SkipsAutograd() {
    def_.def("probe(Tensor self) -> int");
    cpu_.impl("probe", [](const Tensor&) -> int64_t { return 1; });
    autograd_.impl("probe", [this](const Tensor&) -> int64_t {
      autograd_calls_.fetch_add(1);
      return 2;
    });
  }
  int64_t call(const Tensor& t) {
    return Dispatcher::singleton()
        .find_op("grad_mode_test::probe")
        .typed<int64_t(const Tensor&)>()
        .call(t);
  }

  std::atomic<int> autograd_calls_{0};
  Library def_{Library::DEF, "grad_mode_test"};
  Library cpu_{Library::IMPL, "grad_mode_test", DispatchKey::CPU};
  Library autograd_{Library::IMPL, "grad_mode_test", DispatchKey::Autograd};
};

TEST_F(SkipsAutograd, OutsideInferenceModeTheAutogradKernelRuns) {
  const Tensor t = ones({2}, TensorOptions().requires_grad(true));
  EXPECT_EQ(call(t), 2);
  EXPECT_EQ(autograd_calls_.load(), 1);
}

TEST_F(SkipsAutograd, InsideInferenceModeTheAutogradKernelDoesNotRun) {
  const Tensor t = ones({2}, TensorOptions().requires_grad(true));
  InferenceMode guard;
  EXPECT_EQ(call(t), 1);
  EXPECT_EQ(autograd_calls_.load(), 0);
}

TEST_F(SkipsAutograd, BelowADInplaceOrViewTheAutogradKernelDoesNotRun) {
  const Tensor t = ones({2}, TensorOptions().requires_grad(true));
  AutoDispatchBelowADInplaceOrView guard;
  EXPECT_EQ(call(t), 1);
  EXPECT_EQ(autograd_calls_.load(), 0);
}

TEST_F(SkipsAutograd, NoGradAloneStillReachesTheAutogradKernel) {
  // Grad mode is the autograd kernel's business (it records nothing); only the
  // keys decide which kernel runs.
  const Tensor t = ones({2}, TensorOptions().requires_grad(true));
  NoGradGuard no_grad;
  EXPECT_EQ(call(t), 2);
  EXPECT_EQ(autograd_calls_.load(), 1);
}

}  // namespace
}  // namespace sy
