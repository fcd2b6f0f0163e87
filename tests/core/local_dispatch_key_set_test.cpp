// The calling thread's included / excluded key sets, their guards, and the
// tracer's switches on top of them.
#include "switchyard/core/local_dispatch_key_set.h"

#include <latch>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>

#include <gtest/gtest.h>

#include "switchyard/core/error.h"
#include "switchyard/core/tracer_mode.h"

namespace sy {

static void PrintTo(DispatchKeySet s, std::ostream* os) { *os << to_string(s); }

namespace {

using K = DispatchKey;

DispatchKeySet included() { return tls_local_dispatch_key_set().included; }
DispatchKeySet excluded() { return tls_local_dispatch_key_set().excluded; }

// Runs `f` on a new thread and returns what it returned.
template <typename F>
auto on_new_thread(F f) {
  decltype(f()) result{};
  std::thread t([&] { result = f(); });
  t.join();
  return result;
}

// Every test starts and ends with nothing included or excluded on the main
// thread, so one failing test cannot leak state into the next.
class CleanThreadState : public ::testing::Test {
 protected:
  void SetUp() override { tls_set_local_dispatch_key_set({}); }
  void TearDown() override { tls_set_local_dispatch_key_set({}); }
};

// ---------------------------------------------------------------------------
// Per-thread state.

class ThreadState : public CleanThreadState {};

TEST_F(ThreadState, MainThreadStartsEmptyAfterReset) {
  EXPECT_TRUE(included().empty());
  EXPECT_TRUE(excluded().empty());
}

TEST_F(ThreadState, FreshThreadStartsWithEmptySets) {
  const LocalDispatchKeySet seen = on_new_thread([] { return tls_local_dispatch_key_set(); });
  EXPECT_TRUE(seen.included.empty());
  EXPECT_TRUE(seen.excluded.empty());
}

TEST_F(ThreadState, FreshThreadStartsEmptyEvenAfterMainThreadChangedItsSets) {
  IncludeDispatchKeyGuard include({K::CPU, K::Tracer});
  ExcludeDispatchKeyGuard exclude({K::Python, K::AutogradCPU});
  ASSERT_FALSE(included().empty());
  ASSERT_FALSE(excluded().empty());

  const LocalDispatchKeySet seen = on_new_thread([] { return tls_local_dispatch_key_set(); });

  EXPECT_TRUE(seen.included.empty());
  EXPECT_TRUE(seen.excluded.empty());
}

TEST_F(ThreadState, ChangesOnOneThreadAreNotSeenByAnother) {
  const DispatchKeySet worker_included{K::Batched, K::Meta};
  const DispatchKeySet worker_excluded{K::ADInplaceOrView};
  const DispatchKeySet main_included{K::Tracer};
  std::latch worker_changed(1);
  std::latch main_changed(1);
  LocalDispatchKeySet main_saw_after_worker_changed{};
  LocalDispatchKeySet worker_saw_after_main_changed{};

  std::thread worker([&] {
    tls_set_local_dispatch_key_set({worker_included, worker_excluded});
    worker_changed.count_down();
    main_changed.wait();
    worker_saw_after_main_changed = tls_local_dispatch_key_set();
  });
  worker_changed.wait();
  main_saw_after_worker_changed = tls_local_dispatch_key_set();
  tls_set_dispatch_key_included(K::Tracer, true);
  main_changed.count_down();
  worker.join();

  EXPECT_TRUE(main_saw_after_worker_changed.included.empty());
  EXPECT_TRUE(main_saw_after_worker_changed.excluded.empty());
  EXPECT_EQ(worker_saw_after_main_changed.included, worker_included);
  EXPECT_EQ(worker_saw_after_main_changed.excluded, worker_excluded);
  EXPECT_EQ(included(), main_included);
}

TEST_F(ThreadState, SetLocalDispatchKeySetReplacesBothSets) {
  tls_set_local_dispatch_key_set({DispatchKeySet{K::CPU}, DispatchKeySet{K::Python}});
  tls_set_local_dispatch_key_set({DispatchKeySet{K::Meta}, DispatchKeySet{K::Tracer}});
  EXPECT_EQ(included(), DispatchKeySet(K::Meta));
  EXPECT_EQ(excluded(), DispatchKeySet(K::Tracer));
}

// ---------------------------------------------------------------------------
// The setters.

class KeySetters : public CleanThreadState {};

TEST_F(KeySetters, IncludingAKeyAddsOnlyThatKey) {
  for (int i = 1; i < kNumRuntimeKeys; ++i) {
    const auto k = static_cast<DispatchKey>(i);
    tls_set_local_dispatch_key_set({});
    tls_set_dispatch_key_included(k, true);
    EXPECT_EQ(included(), DispatchKeySet(k)) << to_string(k);
    EXPECT_TRUE(tls_is_dispatch_key_included(k)) << to_string(k);
    EXPECT_TRUE(excluded().empty()) << to_string(k);
  }
}

TEST_F(KeySetters, ExcludingAKeyAddsOnlyThatKey) {
  for (int i = 1; i < kNumRuntimeKeys; ++i) {
    const auto k = static_cast<DispatchKey>(i);
    tls_set_local_dispatch_key_set({});
    tls_set_dispatch_key_excluded(k, true);
    EXPECT_EQ(excluded(), DispatchKeySet(k)) << to_string(k);
    EXPECT_TRUE(tls_is_dispatch_key_excluded(k)) << to_string(k);
    EXPECT_TRUE(included().empty()) << to_string(k);
  }
}

TEST_F(KeySetters, UnincludingAKeyRemovesOnlyThatKey) {
  for (int i = 1; i < kNumRuntimeKeys; ++i) {
    const auto k = static_cast<DispatchKey>(i);
    tls_set_local_dispatch_key_set({DispatchKeySet::full(), DispatchKeySet::full()});
    tls_set_dispatch_key_included(k, false);
    EXPECT_EQ(included(), DispatchKeySet::full().remove(k)) << to_string(k);
    EXPECT_FALSE(tls_is_dispatch_key_included(k)) << to_string(k);
    EXPECT_EQ(excluded(), DispatchKeySet::full()) << to_string(k);
  }
}

TEST_F(KeySetters, UnexcludingAKeyRemovesOnlyThatKey) {
  for (int i = 1; i < kNumRuntimeKeys; ++i) {
    const auto k = static_cast<DispatchKey>(i);
    tls_set_local_dispatch_key_set({DispatchKeySet::full(), DispatchKeySet::full()});
    tls_set_dispatch_key_excluded(k, false);
    EXPECT_EQ(excluded(), DispatchKeySet::full().remove(k)) << to_string(k);
    EXPECT_FALSE(tls_is_dispatch_key_excluded(k)) << to_string(k);
    EXPECT_EQ(included(), DispatchKeySet::full()) << to_string(k);
  }
}

TEST_F(KeySetters, SettingAnIncludedKeyAgainIsIdempotent) {
  tls_set_dispatch_key_included(K::CPU, true);
  tls_set_dispatch_key_included(K::CPU, true);
  EXPECT_EQ(included(), DispatchKeySet(K::CPU));
  tls_set_dispatch_key_included(K::CPU, false);
  tls_set_dispatch_key_included(K::CPU, false);
  EXPECT_TRUE(included().empty());
}

TEST_F(KeySetters, AliasKeysChangeNothing) {
  for (DispatchKey alias :
       {K::Autograd, K::CompositeImplicitAutograd, K::CompositeExplicitAutograd, K::CatchAll}) {
    tls_set_dispatch_key_included(alias, true);
    tls_set_dispatch_key_excluded(alias, true);
    EXPECT_TRUE(included().empty()) << to_string(alias);
    EXPECT_TRUE(excluded().empty()) << to_string(alias);
  }
}

// ---------------------------------------------------------------------------
// IncludeDispatchKeyGuard and ExcludeDispatchKeyGuard behave alike on their
// own set; the typed suite runs every case against both.

struct IncludeSide {
  using Guard = IncludeDispatchKeyGuard;
  static DispatchKeySet mine() { return included(); }
  static DispatchKeySet other() { return excluded(); }
  static void set(DispatchKey k, bool on) { tls_set_dispatch_key_included(k, on); }
};
struct ExcludeSide {
  using Guard = ExcludeDispatchKeyGuard;
  static DispatchKeySet mine() { return excluded(); }
  static DispatchKeySet other() { return included(); }
  static void set(DispatchKey k, bool on) { tls_set_dispatch_key_excluded(k, on); }
};

template <typename Side>
class KeyGuard : public CleanThreadState {};

class SideNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, IncludeSide> ? "Include" : "Exclude";
  }
};
using Sides = ::testing::Types<IncludeSide, ExcludeSide>;
TYPED_TEST_SUITE(KeyGuard, Sides, SideNames);

TYPED_TEST(KeyGuard, AddsOneKey) {
  typename TypeParam::Guard guard(K::Tracer);
  EXPECT_EQ(TypeParam::mine(), DispatchKeySet(K::Tracer));
}

TYPED_TEST(KeyGuard, AddsEveryKeyOfASet) {
  const DispatchKeySet keys{K::CPU, K::ADInplaceOrView, K::AutogradCPU};
  typename TypeParam::Guard guard(keys);
  EXPECT_EQ(TypeParam::mine(), keys);
}

TYPED_TEST(KeyGuard, KeepsKeysThatWereAlreadyThere) {
  TypeParam::set(K::Python, true);
  typename TypeParam::Guard guard(K::Tracer);
  EXPECT_EQ(TypeParam::mine(), DispatchKeySet({K::Python, K::Tracer}));
}

TYPED_TEST(KeyGuard, LeavesTheOtherSetAlone) {
  const DispatchKeySet other_before{K::Batched};
  tls_set_local_dispatch_key_set(std::is_same_v<TypeParam, IncludeSide>
                                     ? LocalDispatchKeySet{{}, other_before}
                                     : LocalDispatchKeySet{other_before, {}});
  {
    typename TypeParam::Guard guard({K::Batched, K::Tracer});
    EXPECT_EQ(TypeParam::other(), other_before);
  }
  EXPECT_EQ(TypeParam::other(), other_before);
}

TYPED_TEST(KeyGuard, RestoresOnScopeExit) {
  const DispatchKeySet before{K::CPU, K::Python};
  for (DispatchKey k : before) TypeParam::set(k, true);
  { typename TypeParam::Guard guard({K::Tracer, K::AutogradCPU}); }
  EXPECT_EQ(TypeParam::mine(), before);
}

TYPED_TEST(KeyGuard, RestoresExactlyTheSetItFoundEvenIfChangedInside) {
  const DispatchKeySet before{K::CPU, K::Python};
  for (DispatchKey k : before) TypeParam::set(k, true);
  {
    typename TypeParam::Guard guard(K::Tracer);
    TypeParam::set(K::Batched, true);
    TypeParam::set(K::Python, false);
  }
  EXPECT_EQ(TypeParam::mine(), before);
}

TYPED_TEST(KeyGuard, KeyAlreadyPresentStaysAfterExit) {
  TypeParam::set(K::Tracer, true);
  { typename TypeParam::Guard guard(K::Tracer); }
  EXPECT_EQ(TypeParam::mine(), DispatchKeySet(K::Tracer));
}

TYPED_TEST(KeyGuard, NestedGuardsRestoreEachLevel) {
  using Guard = typename TypeParam::Guard;
  {
    Guard outer(K::CPU);
    {
      Guard middle({K::Python, K::Meta});
      {
        Guard inner(K::Tracer);
        EXPECT_EQ(TypeParam::mine(), DispatchKeySet({K::CPU, K::Python, K::Meta, K::Tracer}));
      }
      EXPECT_EQ(TypeParam::mine(), DispatchKeySet({K::CPU, K::Python, K::Meta}));
    }
    EXPECT_EQ(TypeParam::mine(), DispatchKeySet(K::CPU));
  }
  EXPECT_TRUE(TypeParam::mine().empty());
}

TYPED_TEST(KeyGuard, LeavingInnerGuardOfSameKeyKeepsItForOuter) {
  using Guard = typename TypeParam::Guard;
  {
    Guard outer(K::Tracer);
    { Guard inner({K::Tracer, K::Batched}); }
    EXPECT_EQ(TypeParam::mine(), DispatchKeySet(K::Tracer));
    {
      Guard inner_again(K::Tracer);
      { Guard innermost(K::Tracer); }
      EXPECT_EQ(TypeParam::mine(), DispatchKeySet(K::Tracer));
    }
    EXPECT_EQ(TypeParam::mine(), DispatchKeySet(K::Tracer));
  }
  EXPECT_TRUE(TypeParam::mine().empty());
}

TYPED_TEST(KeyGuard, RestoresOnException) {
  TypeParam::set(K::CPU, true);
  try {
    typename TypeParam::Guard outer(K::Python);
    typename TypeParam::Guard inner({K::Tracer, K::AutogradCPU});
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(TypeParam::mine(), DispatchKeySet(K::CPU));
}

TYPED_TEST(KeyGuard, EmptySetChangesNothing) {
  TypeParam::set(K::Meta, true);
  {
    typename TypeParam::Guard guard(DispatchKeySet{});
    EXPECT_EQ(TypeParam::mine(), DispatchKeySet(K::Meta));
  }
  EXPECT_EQ(TypeParam::mine(), DispatchKeySet(K::Meta));
}

TYPED_TEST(KeyGuard, AffectsOnlyTheCallingThread) {
  typename TypeParam::Guard guard(K::Tracer);
  const DispatchKeySet seen = on_new_thread([] { return TypeParam::mine(); });
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(TypeParam::mine(), DispatchKeySet(K::Tracer));
}

// ---------------------------------------------------------------------------
// ForceDispatchKeyGuard.

class ForceGuard : public CleanThreadState {};

TEST_F(ForceGuard, ReplacesBothSets) {
  tls_set_local_dispatch_key_set({DispatchKeySet{K::CPU}, DispatchKeySet{K::Python}});
  ForceDispatchKeyGuard guard({DispatchKeySet{K::Meta}, DispatchKeySet{K::Tracer}});
  EXPECT_EQ(included(), DispatchKeySet(K::Meta));
  EXPECT_EQ(excluded(), DispatchKeySet(K::Tracer));
}

TEST_F(ForceGuard, CanClearBothSets) {
  tls_set_local_dispatch_key_set({DispatchKeySet{K::CPU}, DispatchKeySet{K::Python}});
  ForceDispatchKeyGuard guard(LocalDispatchKeySet{});
  EXPECT_TRUE(included().empty());
  EXPECT_TRUE(excluded().empty());
}

TEST_F(ForceGuard, RestoresBothSetsOnScopeExit) {
  const LocalDispatchKeySet before{DispatchKeySet{K::CPU, K::Tracer}, DispatchKeySet{K::Python}};
  tls_set_local_dispatch_key_set(before);
  {
    ForceDispatchKeyGuard guard({DispatchKeySet{K::Meta}, DispatchKeySet{K::Batched}});
    tls_set_dispatch_key_included(K::GradWrapper, true);
  }
  EXPECT_EQ(included(), before.included);
  EXPECT_EQ(excluded(), before.excluded);
}

TEST_F(ForceGuard, NestedGuardsRestoreEachLevel) {
  {
    ForceDispatchKeyGuard outer({DispatchKeySet{K::CPU}, DispatchKeySet{K::Python}});
    { ForceDispatchKeyGuard inner({DispatchKeySet{K::Meta}, DispatchKeySet{K::Tracer}}); }
    EXPECT_EQ(included(), DispatchKeySet(K::CPU));
    EXPECT_EQ(excluded(), DispatchKeySet(K::Python));
  }
  EXPECT_TRUE(included().empty());
  EXPECT_TRUE(excluded().empty());
}

TEST_F(ForceGuard, RestoresOnException) {
  const LocalDispatchKeySet before{DispatchKeySet{K::CPU}, DispatchKeySet{K::Python}};
  tls_set_local_dispatch_key_set(before);
  try {
    ForceDispatchKeyGuard guard({DispatchKeySet{K::Meta}, DispatchKeySet{K::Tracer}});
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(included(), before.included);
  EXPECT_EQ(excluded(), before.excluded);
}

// ---------------------------------------------------------------------------
// The tracer's switches.

class TracerDispatch : public CleanThreadState {};

TEST_F(TracerDispatch, IsDisabledOnAFreshThread) {
  const bool enabled = on_new_thread([] { return tracer::is_dispatch_enabled(); });
  EXPECT_FALSE(enabled);
}

TEST_F(TracerDispatch, EnablingIncludesTheTracerKey) {
  tracer::set_dispatch_enabled(true);
  EXPECT_TRUE(tracer::is_dispatch_enabled());
  EXPECT_EQ(included(), DispatchKeySet(K::Tracer));
  EXPECT_TRUE(excluded().empty());
}

TEST_F(TracerDispatch, DisablingRemovesOnlyTheTracerKey) {
  tls_set_dispatch_key_included(K::CPU, true);
  tracer::set_dispatch_enabled(true);
  tracer::set_dispatch_enabled(false);
  EXPECT_FALSE(tracer::is_dispatch_enabled());
  EXPECT_EQ(included(), DispatchKeySet(K::CPU));
}

TEST_F(TracerDispatch, IncludedButExcludedIsNotEnabled) {
  tls_set_dispatch_key_included(K::Tracer, true);
  tls_set_dispatch_key_excluded(K::Tracer, true);
  EXPECT_FALSE(tracer::is_dispatch_enabled());
}

TEST_F(TracerDispatch, NoTracerDispatchModeDisablesDispatch) {
  tracer::set_dispatch_enabled(true);
  tracer::NoTracerDispatchMode no_tracer;
  EXPECT_FALSE(tracer::is_dispatch_enabled());
  EXPECT_TRUE(excluded().has(K::Tracer));
}

TEST_F(TracerDispatch, EnablingInsideNoTracerDispatchModeThrowsDispatchError) {
  tracer::NoTracerDispatchMode no_tracer;
  try {
    tracer::set_dispatch_enabled(true);
    FAIL() << "set_dispatch_enabled(true) did not throw";
  } catch (const DispatchError& e) {
    EXPECT_NE(std::string(e.what()).find("NoTracerDispatchMode"), std::string::npos) << e.what();
  }
}

TEST_F(TracerDispatch, FailedEnableLeavesTheThreadsSetsUnchanged) {
  tls_set_dispatch_key_included(K::CPU, true);
  tracer::NoTracerDispatchMode no_tracer;
  const LocalDispatchKeySet before = tls_local_dispatch_key_set();

  EXPECT_THROW(tracer::set_dispatch_enabled(true), DispatchError);

  EXPECT_EQ(included(), before.included);
  EXPECT_EQ(excluded(), before.excluded);
  EXPECT_FALSE(tls_is_dispatch_key_included(K::Tracer));
}

TEST_F(TracerDispatch, DisablingInsideNoTracerDispatchModeIsAllowed) {
  tracer::set_dispatch_enabled(true);
  {
    tracer::NoTracerDispatchMode no_tracer;
    EXPECT_NO_THROW(tracer::set_dispatch_enabled(false));
  }
  EXPECT_FALSE(tracer::is_dispatch_enabled());
}

TEST_F(TracerDispatch, LeavingNoTracerDispatchModeRestoresDispatch) {
  tracer::set_dispatch_enabled(true);
  {
    tracer::NoTracerDispatchMode no_tracer;
    ASSERT_FALSE(tracer::is_dispatch_enabled());
  }
  EXPECT_TRUE(tracer::is_dispatch_enabled());
  EXPECT_TRUE(excluded().empty());
}

TEST_F(TracerDispatch, LeavingNoTracerDispatchModeAllowsEnablingAgain) {
  {
    tracer::NoTracerDispatchMode no_tracer;
    EXPECT_THROW(tracer::set_dispatch_enabled(true), DispatchError);
  }
  tracer::set_dispatch_enabled(true);
  EXPECT_TRUE(tracer::is_dispatch_enabled());
}

TEST_F(TracerDispatch, NestedNoTracerDispatchModeKeepsTracerExcludedUntilOutermostExits) {
  tracer::set_dispatch_enabled(true);
  {
    tracer::NoTracerDispatchMode outer;
    { tracer::NoTracerDispatchMode inner; }
    EXPECT_FALSE(tracer::is_dispatch_enabled());
  }
  EXPECT_TRUE(tracer::is_dispatch_enabled());
}

TEST_F(TracerDispatch, EnablingOnOneThreadDoesNotEnableAnother) {
  std::latch enabled_on_worker(1);
  std::latch main_checked(1);
  bool main_saw_enabled = true;
  bool worker_still_enabled = false;

  std::thread worker([&] {
    tracer::set_dispatch_enabled(true);
    enabled_on_worker.count_down();
    main_checked.wait();
    worker_still_enabled = tracer::is_dispatch_enabled();
  });
  enabled_on_worker.wait();
  main_saw_enabled = tracer::is_dispatch_enabled();
  main_checked.count_down();
  worker.join();

  EXPECT_FALSE(main_saw_enabled);
  EXPECT_TRUE(worker_still_enabled);
}

TEST_F(TracerDispatch, NoTracerDispatchModeOnOneThreadDoesNotAffectAnother) {
  tracer::set_dispatch_enabled(true);
  tracer::NoTracerDispatchMode no_tracer;
  const bool worker_could_enable = on_new_thread([] {
    tracer::set_dispatch_enabled(true);
    return tracer::is_dispatch_enabled();
  });
  EXPECT_TRUE(worker_could_enable);
  EXPECT_FALSE(tracer::is_dispatch_enabled());
}

}  // namespace
}  // namespace sy
