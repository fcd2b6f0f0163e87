// The thread-state snapshot: what a capture holds, what ThreadLocalStateGuard
// installs and restores, and the extension slots with their deep copies and
// check hooks.
#include "switchyard/core/thread_local_state.h"

#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "switchyard/core/error.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

static void PrintTo(DispatchKeySet s, std::ostream* os) { *os << to_string(s); }

namespace {

using K = DispatchKey;

// A component's error, thrown by its vetoes: callers must see this type, not a
// generic one.
class ComponentError : public Error {
 public:
  using Error::Error;
};

// A component's per-thread state: a value to watch copies by, and switches for
// the check hooks.
struct TestState : ThreadLocalSlot {
  explicit TestState(int v = 0) : value(v) {}
  std::unique_ptr<ThreadLocalSlot> deepcopy() const override {
    return std::make_unique<TestState>(*this);
  }
  int64_t check_supports_single_level_autograd_function() const override { return level; }
  void check_supports_inplace_requires_grad() const override {
    if (veto) throw ComponentError("test component: requires_grad_() is not allowed here");
  }
  void check_supports_retain_grad() const override {
    if (veto) throw ComponentError("test component: retain_grad() is not allowed here");
  }
  void check_supports_cpp_autograd_function() const override {
    if (veto) throw ComponentError("test component: C++ autograd functions are not allowed");
  }

  int value;
  int64_t level = 0;
  bool veto = false;
};

// Slots are process-wide and few: this binary registers all it uses here, at
// start-up, before any test runs (the overflow test takes the rest).
const SlotId kSlotA = register_thread_local_slot("thread_local_state_test.a");
const SlotId kSlotB = register_thread_local_slot("thread_local_state_test.b");
const SlotId kAllSlots[] = {kSlotA, kSlotB};

// The calling thread's value in `slot`; -1 when unset.
int value_in(SlotId slot) {
  const auto* s = dynamic_cast<const TestState*>(slot_accessor(slot));
  return s ? s->value : -1;
}
int value_of(const ThreadLocalSlot* s) {
  const auto* t = dynamic_cast<const TestState*>(s);
  return t ? t->value : -1;
}
void set_value(SlotId slot, int v) {
  const TestState s(v);
  set_slot(slot, &s);
}
TestState& state_in(SlotId slot) { return dynamic_cast<TestState&>(*slot_accessor(slot)); }

void reset_thread_state() {
  tls_set_local_dispatch_key_set({});
  tls_set_autograd_state({});
  for (SlotId s : kAllSlots) set_slot(s, nullptr);
}

// Every test starts and ends with the main thread's state at its defaults.
class ThreadStateTest : public ::testing::Test {
 protected:
  void SetUp() override { reset_thread_state(); }
  void TearDown() override { reset_thread_state(); }
};

// A snapshot taken with `setup` applied; the thread is reset afterwards.
template <typename F>
ThreadLocalState capture_with(F setup) {
  setup();
  ThreadLocalState s;
  reset_thread_state();
  return s;
}

// ---------------------------------------------------------------------------
// Capture.

class Capture : public ThreadStateTest {};

TEST_F(Capture, HoldsTheKeysAsTheyWere) {
  IncludeDispatchKeyGuard inc(K::Tracer);
  ExcludeDispatchKeyGuard exc(K::AutogradCPU);
  const ThreadLocalState snapshot;
  tls_set_local_dispatch_key_set({DispatchKeySet(K::Batched), DispatchKeySet(K::Python)});
  EXPECT_EQ(snapshot.dispatch_keys().included, DispatchKeySet(K::Tracer));
  EXPECT_EQ(snapshot.dispatch_keys().excluded, DispatchKeySet(K::AutogradCPU));
}

TEST_F(Capture, HoldsTheAutogradStateAsItWas) {
  tls_set_autograd_state({/*grad_disabled=*/true, /*inference_mode=*/true});
  const ThreadLocalState snapshot;
  tls_set_autograd_state({});
  EXPECT_EQ(snapshot.autograd_state(), (AutogradState{true, true}));
}

TEST_F(Capture, FreshThreadCapturesTheDefaults) {
  set_value(kSlotA, 1);
  tls_set_autograd_state({true, true});
  std::unique_ptr<ThreadLocalState> seen;
  std::thread([&] { seen = std::make_unique<ThreadLocalState>(); }).join();
  EXPECT_TRUE(seen->dispatch_keys().included.empty());
  EXPECT_TRUE(seen->dispatch_keys().excluded.empty());
  EXPECT_EQ(seen->autograd_state(), AutogradState{});
  EXPECT_EQ(seen->slot(kSlotA), nullptr);
}

TEST_F(Capture, HoldsACopyOfEachSlot) {
  set_value(kSlotA, 5);
  const ThreadLocalState snapshot;
  state_in(kSlotA).value = 6;
  EXPECT_EQ(value_of(snapshot.slot(kSlotA)), 5);
  EXPECT_NE(snapshot.slot(kSlotA), slot_accessor(kSlotA));
}

TEST_F(Capture, ReplacingTheThreadsSlotLeavesTheSnapshot) {
  set_value(kSlotA, 5);
  const ThreadLocalState snapshot;
  set_value(kSlotA, 7);
  set_slot(kSlotA, nullptr);
  EXPECT_EQ(value_of(snapshot.slot(kSlotA)), 5);
}

TEST_F(Capture, UnsetSlotIsNull) {
  set_value(kSlotB, 1);
  const ThreadLocalState snapshot;
  EXPECT_EQ(snapshot.slot(kSlotA), nullptr);
  EXPECT_EQ(value_of(snapshot.slot(kSlotB)), 1);
}

// ---------------------------------------------------------------------------
// ThreadLocalStateGuard.

class StateGuard : public ThreadStateTest {};

TEST_F(StateGuard, InstallsAndRestoresTheKeys) {
  const ThreadLocalState snapshot = capture_with([] {
    tls_set_local_dispatch_key_set({DispatchKeySet(K::Tracer), DispatchKeySet(K::Python)});
  });
  const LocalDispatchKeySet mine{DispatchKeySet(K::Batched), DispatchKeySet(K::Meta)};
  tls_set_local_dispatch_key_set(mine);
  {
    ThreadLocalStateGuard guard(snapshot);
    EXPECT_EQ(tls_local_dispatch_key_set().included, DispatchKeySet(K::Tracer));
    EXPECT_EQ(tls_local_dispatch_key_set().excluded, DispatchKeySet(K::Python));
  }
  EXPECT_EQ(tls_local_dispatch_key_set().included, mine.included);
  EXPECT_EQ(tls_local_dispatch_key_set().excluded, mine.excluded);
}

TEST_F(StateGuard, InstallsAndRestoresTheAutogradState) {
  const ThreadLocalState snapshot = capture_with([] { tls_set_autograd_state({true, true}); });
  tls_set_autograd_state({/*grad_disabled=*/true, /*inference_mode=*/false});
  {
    ThreadLocalStateGuard guard(snapshot);
    EXPECT_EQ(tls_autograd_state(), (AutogradState{true, true}));
  }
  EXPECT_EQ(tls_autograd_state(), (AutogradState{true, false}));
}

TEST_F(StateGuard, InstallsFreshCopiesAndRestoresTheVerySlotObjects) {
  const ThreadLocalState snapshot = capture_with([] { set_value(kSlotA, 7); });
  set_value(kSlotA, 1);
  ThreadLocalSlot* const mine = slot_accessor(kSlotA);
  {
    ThreadLocalStateGuard guard(snapshot);
    EXPECT_EQ(value_in(kSlotA), 7);
    EXPECT_NE(slot_accessor(kSlotA), mine);
    EXPECT_NE(slot_accessor(kSlotA), snapshot.slot(kSlotA));
  }
  EXPECT_EQ(slot_accessor(kSlotA), mine);
  EXPECT_EQ(value_in(kSlotA), 1);
}

TEST_F(StateGuard, SnapshotWithoutSlotsHidesTheThreadsSlotsThenRestoresThem) {
  const ThreadLocalState snapshot;  // no slot set
  set_value(kSlotA, 1);
  set_value(kSlotB, 2);
  ThreadLocalSlot* const mine_a = slot_accessor(kSlotA);
  ThreadLocalSlot* const mine_b = slot_accessor(kSlotB);
  {
    ThreadLocalStateGuard guard(snapshot);
    EXPECT_EQ(slot_accessor(kSlotA), nullptr);
    EXPECT_EQ(slot_accessor(kSlotB), nullptr);
  }
  EXPECT_EQ(slot_accessor(kSlotA), mine_a);
  EXPECT_EQ(slot_accessor(kSlotB), mine_b);
}

TEST_F(StateGuard, RestoresEverythingWhenAnExceptionPassesThrough) {
  const ThreadLocalState snapshot = capture_with([] {
    tls_set_local_dispatch_key_set({DispatchKeySet(K::Tracer), DispatchKeySet(K::Python)});
    tls_set_autograd_state({true, true});
    set_value(kSlotA, 7);
  });
  const LocalDispatchKeySet mine{DispatchKeySet(K::Batched), DispatchKeySet(K::Meta)};
  tls_set_local_dispatch_key_set(mine);
  set_value(kSlotA, 1);
  ThreadLocalSlot* const mine_slot = slot_accessor(kSlotA);
  try {
    ThreadLocalStateGuard guard(snapshot);
    ASSERT_EQ(value_in(kSlotA), 7);
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(tls_local_dispatch_key_set().included, mine.included);
  EXPECT_EQ(tls_local_dispatch_key_set().excluded, mine.excluded);
  EXPECT_EQ(tls_autograd_state(), AutogradState{});
  EXPECT_EQ(slot_accessor(kSlotA), mine_slot);
  EXPECT_EQ(value_in(kSlotA), 1);
}

TEST_F(StateGuard, NestedGuardsRestoreInOrder) {
  const ThreadLocalState outer = capture_with([] {
    tls_set_local_dispatch_key_set({DispatchKeySet(K::Tracer), {}});
    set_value(kSlotA, 10);
  });
  const ThreadLocalState inner = capture_with([] {
    tls_set_local_dispatch_key_set({DispatchKeySet(K::Batched), {}});
    tls_set_autograd_state({true, false});
    set_value(kSlotB, 20);
  });
  set_value(kSlotA, 1);
  ThreadLocalSlot* const mine = slot_accessor(kSlotA);
  {
    ThreadLocalStateGuard g1(outer);
    ThreadLocalSlot* const outer_a = slot_accessor(kSlotA);
    {
      ThreadLocalStateGuard g2(inner);
      EXPECT_EQ(tls_local_dispatch_key_set().included, DispatchKeySet(K::Batched));
      EXPECT_EQ(tls_autograd_state(), (AutogradState{true, false}));
      EXPECT_EQ(value_in(kSlotA), -1);
      EXPECT_EQ(value_in(kSlotB), 20);
    }
    EXPECT_EQ(tls_local_dispatch_key_set().included, DispatchKeySet(K::Tracer));
    EXPECT_EQ(tls_autograd_state(), AutogradState{});
    EXPECT_EQ(slot_accessor(kSlotA), outer_a);
    EXPECT_EQ(value_in(kSlotA), 10);
    EXPECT_EQ(value_in(kSlotB), -1);
  }
  EXPECT_TRUE(tls_local_dispatch_key_set().included.empty());
  EXPECT_EQ(slot_accessor(kSlotA), mine);
  EXPECT_EQ(value_in(kSlotB), -1);
}

TEST_F(StateGuard, ChangesMadeUnderItToKeysAndModesAreUndone) {
  const ThreadLocalState snapshot;
  {
    ThreadLocalStateGuard guard(snapshot);
    tls_set_dispatch_key_included(K::Tracer, true);
    tls_set_dispatch_key_excluded(K::Python, true);
    tls_set_autograd_state({true, true});
  }
  EXPECT_TRUE(tls_local_dispatch_key_set().included.empty());
  EXPECT_TRUE(tls_local_dispatch_key_set().excluded.empty());
  EXPECT_EQ(tls_autograd_state(), AutogradState{});
}

TEST_F(StateGuard, ASlotSetUnderItIsGoneAfterIt) {
  // Neither the thread nor the snapshot has a slot set: the guard must still
  // restore "no slot" when the work under it sets one.
  const ThreadLocalState snapshot;
  {
    ThreadLocalStateGuard guard(snapshot);
    set_value(kSlotA, 3);
    ASSERT_EQ(value_in(kSlotA), 3);
  }
  EXPECT_EQ(slot_accessor(kSlotA), nullptr) << "the slot set under the guard leaked out of it";
}

TEST_F(StateGuard, ASlotReplacedUnderItIsRestoredAfterIt) {
  const ThreadLocalState snapshot;
  set_value(kSlotA, 1);
  ThreadLocalSlot* const mine = slot_accessor(kSlotA);
  {
    ThreadLocalStateGuard guard(snapshot);
    set_value(kSlotA, 3);
  }
  EXPECT_EQ(slot_accessor(kSlotA), mine);
  EXPECT_EQ(value_in(kSlotA), 1);
}

TEST_F(StateGuard, AChangeUnderItReachesNeitherTheSnapshotNorTheThread) {
  const ThreadLocalState snapshot = capture_with([] { set_value(kSlotA, 5); });
  set_value(kSlotA, 2);
  {
    ThreadLocalStateGuard guard(snapshot);
    state_in(kSlotA).value = 9;
  }
  EXPECT_EQ(value_of(snapshot.slot(kSlotA)), 5);
  EXPECT_EQ(value_in(kSlotA), 2);
  ThreadLocalStateGuard again(snapshot);
  EXPECT_EQ(value_in(kSlotA), 5) << "installing the snapshot again gives its own value";
}

TEST_F(StateGuard, ConcurrentInstallsOfOneSnapshotGetSeparateCopies) {
  const ThreadLocalState snapshot = capture_with([] { set_value(kSlotA, 5); });
  std::vector<int> seen(4, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      ThreadLocalStateGuard guard(snapshot);
      state_in(kSlotA).value += i + 1;
      seen[i] = value_in(kSlotA);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(seen, (std::vector<int>{6, 7, 8, 9}));
  EXPECT_EQ(value_of(snapshot.slot(kSlotA)), 5);
}

TEST_F(StateGuard, SetThreadLocalStateInstallsCopiesAndClearsOtherSlots) {
  const ThreadLocalState snapshot = capture_with([] {
    tls_set_autograd_state({true, false});
    set_value(kSlotA, 4);
  });
  set_value(kSlotB, 8);
  ThreadLocalState::set_thread_local_state(snapshot);
  EXPECT_EQ(tls_autograd_state(), (AutogradState{true, false}));
  EXPECT_EQ(value_in(kSlotA), 4);
  EXPECT_NE(slot_accessor(kSlotA), snapshot.slot(kSlotA));
  EXPECT_EQ(slot_accessor(kSlotB), nullptr);
}

// ---------------------------------------------------------------------------
// Extension slots.

class Slots : public ThreadStateTest {};

TEST_F(Slots, SettingDeepCopies) {
  TestState original(4);
  set_slot(kSlotA, &original);
  original.value = 8;
  EXPECT_EQ(value_in(kSlotA), 4);
  EXPECT_NE(slot_accessor(kSlotA), &original);
}

TEST_F(Slots, SettingNullClears) {
  set_value(kSlotA, 4);
  set_slot(kSlotA, nullptr);
  EXPECT_EQ(slot_accessor(kSlotA), nullptr);
  EXPECT_EQ(get_slot_copy(kSlotA), nullptr);
}

TEST_F(Slots, GetSlotCopyIsIndependent) {
  set_value(kSlotA, 4);
  auto copy = get_slot_copy(kSlotA);
  ASSERT_NE(copy, nullptr);
  EXPECT_NE(copy.get(), slot_accessor(kSlotA));
  dynamic_cast<TestState&>(*copy).value = 9;
  EXPECT_EQ(value_in(kSlotA), 4);
  state_in(kSlotA).value = 5;
  EXPECT_EQ(value_of(copy.get()), 9);
}

TEST_F(Slots, AccessorChangesTheThreadsStateInPlace) {
  set_value(kSlotA, 4);
  ThreadLocalSlot* const before = slot_accessor(kSlotA);
  state_in(kSlotA).value = 6;
  EXPECT_EQ(slot_accessor(kSlotA), before);
  EXPECT_EQ(value_of(get_slot_copy(kSlotA).get()), 6);
}

TEST_F(Slots, TwoComponentsKeepSeparateState) {
  set_value(kSlotA, 1);
  set_value(kSlotB, 2);
  state_in(kSlotA).value = 10;
  EXPECT_EQ(value_in(kSlotB), 2);
  set_slot(kSlotB, nullptr);
  EXPECT_EQ(value_in(kSlotA), 10);
  set_value(kSlotB, 3);
  const ThreadLocalState snapshot;
  EXPECT_EQ(value_of(snapshot.slot(kSlotA)), 10);
  EXPECT_EQ(value_of(snapshot.slot(kSlotB)), 3);
}

TEST_F(Slots, RegistrationGivesEachComponentItsOwnSlot) {
  EXPECT_NE(kSlotA.index, kSlotB.index);
  EXPECT_GE(kSlotA.index, 0);
  EXPECT_GE(kSlotB.index, 0);
}

TEST_F(Slots, EachThreadHasItsOwn) {
  set_value(kSlotA, 1);
  int seen_on_new_thread = 0;
  std::thread([&] {
    seen_on_new_thread = value_in(kSlotA);
    set_value(kSlotA, 2);
  }).join();
  EXPECT_EQ(seen_on_new_thread, -1);
  EXPECT_EQ(value_in(kSlotA), 1);
}

TEST_F(Slots, UnregisteredIdIsAValueError) {
  EXPECT_THROW(slot_accessor(SlotId{}), ValueError);
  EXPECT_THROW(get_slot_copy(SlotId{kMaxThreadLocalSlots}), ValueError);
  EXPECT_THROW(set_slot(SlotId{-1}, nullptr), ValueError);
  const ThreadLocalState snapshot;
  EXPECT_THROW(snapshot.slot(SlotId{kMaxThreadLocalSlots}), ValueError);
}

// ---------------------------------------------------------------------------
// Check hooks.

class SlotHooks : public ThreadStateTest {};

void set_veto(SlotId slot) {
  TestState s;
  s.veto = true;
  set_slot(slot, &s);
}

TEST_F(SlotHooks, VetoOfInplaceRequiresGradThrowsTheComponentsError) {
  set_veto(kSlotA);
  const Tensor t = make_tensor({2}, kFloat32, kCPU);
  try {
    t.requires_grad_(true);
    ADD_FAILURE() << "requires_grad_ ran despite the veto";
  } catch (const ComponentError& e) {
    EXPECT_STREQ(e.what(), "test component: requires_grad_() is not allowed here");
  }
  EXPECT_FALSE(t.requires_grad());
}

TEST_F(SlotHooks, RequiresGradWorksWithoutTheVetoingSlot) {
  set_value(kSlotB, 1);  // a slot whose hooks allow everything
  const Tensor t = make_tensor({2}, kFloat32, kCPU);
  t.requires_grad_(true);
  EXPECT_TRUE(t.requires_grad());
  set_veto(kSlotA);
  set_slot(kSlotA, nullptr);
  const Tensor u = make_tensor({2}, kFloat32, kCPU);
  u.requires_grad_(true);
  EXPECT_TRUE(u.requires_grad());
}

TEST_F(SlotHooks, VetoAppliesUnderAnInstalledSnapshotOnly) {
  const ThreadLocalState vetoing = capture_with([] { set_veto(kSlotA); });
  const Tensor t = make_tensor({2}, kFloat32, kCPU);
  {
    ThreadLocalStateGuard guard(vetoing);
    EXPECT_THROW(t.requires_grad_(true), ComponentError);
  }
  t.requires_grad_(true);
  EXPECT_TRUE(t.requires_grad());
}

TEST_F(SlotHooks, OtherHooksRunOnEverySetSlot) {
  EXPECT_NO_THROW(check_slots_support_retain_grad());
  EXPECT_NO_THROW(check_slots_support_cpp_autograd_function());
  set_value(kSlotA, 1);
  set_veto(kSlotB);
  EXPECT_THROW(check_slots_support_retain_grad(), ComponentError);
  EXPECT_THROW(check_slots_support_cpp_autograd_function(), ComponentError);
  EXPECT_THROW(check_slots_support_inplace_requires_grad(), ComponentError);
}

TEST_F(SlotHooks, SingleLevelAutogradFunctionGivesTheHighestLevel) {
  EXPECT_EQ(check_slots_support_single_level_autograd_function(), 0);
  TestState a;
  a.level = 5;
  TestState b;
  b.level = 3;
  set_slot(kSlotA, &a);
  set_slot(kSlotB, &b);
  EXPECT_EQ(check_slots_support_single_level_autograd_function(), 5);
  state_in(kSlotA).level = 1;
  EXPECT_EQ(check_slots_support_single_level_autograd_function(), 3);
  set_slot(kSlotB, nullptr);
  EXPECT_EQ(check_slots_support_single_level_autograd_function(), 1);
}

// ---------------------------------------------------------------------------
// Registration. Takes every remaining slot of the process: all other
// registrations in this binary happen at start-up, before this runs.

TEST(SlotRegistry, MoreThanTheMaximumIsAnError) {
  int last = -1;
  bool threw = false;
  for (int i = 0; i <= kMaxThreadLocalSlots; ++i) {
    try {
      last = register_thread_local_slot("filler." + std::to_string(i)).index;
    } catch (const Error& e) {
      threw = true;
      EXPECT_NE(std::string(e.what()).find("filler." + std::to_string(i)), std::string::npos)
          << e.what();
      break;
    }
  }
  EXPECT_TRUE(threw);
  EXPECT_EQ(last, kMaxThreadLocalSlots - 1) << "every slot up to the last is usable";
  // The last slot works like any other.
  const TestState s(3);
  set_slot(SlotId{last}, &s);
  EXPECT_EQ(value_in(SlotId{last}), 3);
  set_slot(SlotId{last}, nullptr);
}

}  // namespace
}  // namespace sy
