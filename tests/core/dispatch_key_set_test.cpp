// Key-set algebra, tested exhaustively: every runtime key and every pair of keys.
#include "switchyard/core/dispatch_key_set.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "switchyard/core/dispatch_key.h"

namespace sy {

// Readable failure messages: "AutogradCPU" and "{AutogradCPU, CPU}" instead of bytes.
static void PrintTo(DispatchKey k, std::ostream* os) { *os << to_string(k); }
static void PrintTo(DispatchKeySet s, std::ostream* os) { *os << to_string(s); }

namespace {

using K = DispatchKey;

int num(DispatchKey k) { return static_cast<int>(k); }

// Every runtime key, lowest priority first.
std::vector<DispatchKey> runtime_keys() {
  std::vector<DispatchKey> keys;
  for (int i = 1; i < kNumRuntimeKeys; ++i) keys.push_back(static_cast<DispatchKey>(i));
  return keys;
}

const std::vector<DispatchKey> kAliasKeys = {K::Autograd, K::CompositeImplicitAutograd,
                                             K::CompositeExplicitAutograd, K::CatchAll};

// Every key that has a name users can write: Undefined, the runtime keys, the aliases.
std::vector<DispatchKey> named_keys() {
  std::vector<DispatchKey> keys = {K::Undefined};
  for (DispatchKey k : runtime_keys()) keys.push_back(k);
  for (DispatchKey k : kAliasKeys) keys.push_back(k);
  return keys;
}

// The set holding exactly the runtime keys for which `pred` holds.
template <typename Pred>
DispatchKeySet keys_where(Pred pred) {
  DispatchKeySet s;
  for (DispatchKey k : runtime_keys()) {
    if (pred(k)) s = s.add(k);
  }
  return s;
}

std::string name(DispatchKey k) { return std::string(to_string(k)); }

// ---------------------------------------------------------------------------
// Single keys and pairs of keys.

TEST(KeySet, DefaultIsEmpty) {
  const DispatchKeySet s;
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.size(), 0);
  EXPECT_EQ(s.raw(), 0u);
  EXPECT_EQ(s.begin(), s.end());
}

TEST(KeySet, SingleKeyHoldsOnlyThatKey) {
  for (DispatchKey k : runtime_keys()) {
    SCOPED_TRACE(name(k));
    const DispatchKeySet s(k);
    EXPECT_FALSE(s.empty());
    EXPECT_EQ(s.size(), 1);
    EXPECT_EQ(s.raw(), uint64_t{1} << num(k));
    for (DispatchKey other : runtime_keys()) {
      EXPECT_EQ(s.has(other), other == k) << name(other);
    }
  }
}

TEST(KeySet, AddPutsBothKeysAndNothingElse) {
  for (DispatchKey a : runtime_keys()) {
    for (DispatchKey b : runtime_keys()) {
      SCOPED_TRACE(name(a) + " + " + name(b));
      const DispatchKeySet s = DispatchKeySet(a).add(b);
      EXPECT_EQ(s.size(), a == b ? 1 : 2);
      for (DispatchKey k : runtime_keys()) {
        EXPECT_EQ(s.has(k), k == a || k == b) << name(k);
      }
    }
  }
}

TEST(KeySet, AddDoesNotChangeTheOriginal) {
  for (DispatchKey a : runtime_keys()) {
    for (DispatchKey b : runtime_keys()) {
      const DispatchKeySet s(a);
      (void)s.add(b);
      EXPECT_EQ(s, DispatchKeySet(a)) << name(a) << " + " << name(b);
    }
  }
}

TEST(KeySet, RemoveTakesOutOnlyThatKey) {
  for (DispatchKey a : runtime_keys()) {
    for (DispatchKey b : runtime_keys()) {
      SCOPED_TRACE(name(a) + ", " + name(b));
      const DispatchKeySet s = DispatchKeySet{a, b}.remove(a);
      for (DispatchKey k : runtime_keys()) {
        EXPECT_EQ(s.has(k), k == b && b != a) << name(k);
      }
    }
  }
}

TEST(KeySet, RemoveFromFullLeavesEveryOtherKey) {
  for (DispatchKey a : runtime_keys()) {
    const DispatchKeySet s = DispatchKeySet::full().remove(a);
    EXPECT_EQ(s.size(), kNumRuntimeKeys - 2) << name(a);
    EXPECT_FALSE(s.has(a)) << name(a);
  }
}

TEST(KeySet, UnionOfTwoSingleKeySetsHoldsBoth) {
  for (DispatchKey a : runtime_keys()) {
    for (DispatchKey b : runtime_keys()) {
      SCOPED_TRACE(name(a) + " | " + name(b));
      const DispatchKeySet s = DispatchKeySet(a) | DispatchKeySet(b);
      EXPECT_EQ(s.raw(), (uint64_t{1} << num(a)) | (uint64_t{1} << num(b)));
      EXPECT_EQ(s, DispatchKeySet(a).add(b));
    }
  }
}

TEST(KeySet, IntersectionOfTwoSingleKeySetsIsEmptyUnlessSameKey) {
  for (DispatchKey a : runtime_keys()) {
    for (DispatchKey b : runtime_keys()) {
      const DispatchKeySet s = DispatchKeySet(a) & DispatchKeySet(b);
      EXPECT_EQ(s, a == b ? DispatchKeySet(a) : DispatchKeySet()) << name(a) << " & " << name(b);
    }
  }
}

TEST(KeySet, DifferenceOfTwoSingleKeySetsKeepsLeftUnlessSameKey) {
  for (DispatchKey a : runtime_keys()) {
    for (DispatchKey b : runtime_keys()) {
      const DispatchKeySet s = DispatchKeySet(a) - DispatchKeySet(b);
      EXPECT_EQ(s, a == b ? DispatchKeySet() : DispatchKeySet(a)) << name(a) << " - " << name(b);
    }
  }
}

TEST(KeySet, PairMinusOneKeyLeavesTheOther) {
  for (DispatchKey a : runtime_keys()) {
    for (DispatchKey b : runtime_keys()) {
      if (a == b) continue;
      EXPECT_EQ(DispatchKeySet({a, b}) - DispatchKeySet(a), DispatchKeySet(b))
          << name(a) << ", " << name(b);
    }
  }
}

TEST(KeySet, CompoundAssignmentsMatchOperators) {
  for (DispatchKey a : runtime_keys()) {
    for (DispatchKey b : runtime_keys()) {
      SCOPED_TRACE(name(a) + ", " + name(b));
      const DispatchKeySet left{a, K::CPU};
      const DispatchKeySet right(b);
      DispatchKeySet u = left, i = left, d = left;
      u |= right;
      i &= right;
      d -= right;
      EXPECT_EQ(u, left | right);
      EXPECT_EQ(i, left & right);
      EXPECT_EQ(d, left - right);
    }
  }
}

TEST(KeySet, HasAnyIsTrueExactlyWhenSetsShareAKey) {
  for (DispatchKey a : runtime_keys()) {
    for (DispatchKey b : runtime_keys()) {
      EXPECT_EQ(DispatchKeySet(a).has_any(DispatchKeySet(b)), a == b) << name(a) << ", " << name(b);
      EXPECT_TRUE(DispatchKeySet({a, b}).has_any(DispatchKeySet(b)));
    }
  }
}

TEST(KeySet, IsSupersetOfHoldsForSubsetsOnly) {
  for (DispatchKey a : runtime_keys()) {
    for (DispatchKey b : runtime_keys()) {
      SCOPED_TRACE(name(a) + ", " + name(b));
      const DispatchKeySet pair{a, b};
      EXPECT_TRUE(pair.is_superset_of(DispatchKeySet(a)));
      EXPECT_TRUE(pair.is_superset_of(DispatchKeySet(b)));
      EXPECT_TRUE(pair.is_superset_of(DispatchKeySet()));
      EXPECT_EQ(DispatchKeySet(a).is_superset_of(pair), a == b);
    }
  }
}

TEST(KeySet, HighestPriorityKeyOfPairIsTheHigherNumberedKey) {
  for (DispatchKey a : runtime_keys()) {
    for (DispatchKey b : runtime_keys()) {
      SCOPED_TRACE(name(a) + ", " + name(b));
      const DispatchKeySet s{a, b};
      const DispatchKey expected = num(a) > num(b) ? a : b;
      EXPECT_EQ(s.highest_priority_key(), expected);
      EXPECT_EQ(s.highest_index(), num(expected));
    }
  }
}

TEST(KeySet, HighestPriorityKeyOfEmptySetIsUndefined) {
  EXPECT_EQ(DispatchKeySet().highest_priority_key(), K::Undefined);
  EXPECT_EQ(DispatchKeySet().highest_index(), 0);
}

TEST(KeySet, HighestPriorityKeyOfFullSetIsLastRuntimeKey) {
  EXPECT_EQ(DispatchKeySet::full().highest_priority_key(),
            static_cast<DispatchKey>(kNumRuntimeKeys - 1));
}

TEST(KeySet, RemoveFromAndAboveKeepsOnlyStrictlyLowerKeys) {
  for (DispatchKey k : runtime_keys()) {
    const DispatchKeySet below = DispatchKeySet::full().remove_from_and_above(k);
    for (DispatchKey j : runtime_keys()) {
      EXPECT_EQ(below.has(j), num(j) < num(k)) << name(k) << " vs " << name(j);
    }
  }
}

TEST(KeySet, RemoveFromAndAboveOnPairDropsKeysAtOrAboveTheCut) {
  for (DispatchKey a : runtime_keys()) {
    for (DispatchKey b : runtime_keys()) {
      for (DispatchKey cut : runtime_keys()) {
        const DispatchKeySet s = DispatchKeySet{a, b}.remove_from_and_above(cut);
        const DispatchKeySet expected =
            keys_where([&](DispatchKey k) { return (k == a || k == b) && num(k) < num(cut); });
        ASSERT_EQ(s, expected) << name(a) << ", " << name(b) << " cut at " << name(cut);
      }
    }
  }
}

TEST(KeySet, RemoveFromAndAboveTheHighestKeyGivesTheRedispatchSet) {
  // What a kernel at the highest key redispatches to: every key below it.
  for (DispatchKey a : runtime_keys()) {
    for (DispatchKey b : runtime_keys()) {
      if (num(a) >= num(b)) continue;
      const DispatchKeySet s{a, b};
      EXPECT_EQ(s.remove_from_and_above(s.highest_priority_key()), DispatchKeySet(a))
          << name(a) << ", " << name(b);
    }
  }
}

TEST(KeySet, KeepAtAndBelowKeepsTheKeyAndLowerKeys) {
  for (DispatchKey k : runtime_keys()) {
    const DispatchKeySet kept = DispatchKeySet::full().keep_at_and_below(k);
    for (DispatchKey j : runtime_keys()) {
      EXPECT_EQ(kept.has(j), num(j) <= num(k)) << name(k) << " vs " << name(j);
    }
  }
}

TEST(KeySet, KeepAtAndBelowOnPairDropsKeysAboveTheCut) {
  for (DispatchKey a : runtime_keys()) {
    for (DispatchKey b : runtime_keys()) {
      for (DispatchKey cut : runtime_keys()) {
        const DispatchKeySet s = DispatchKeySet{a, b}.keep_at_and_below(cut);
        const DispatchKeySet expected =
            keys_where([&](DispatchKey k) { return (k == a || k == b) && num(k) <= num(cut); });
        ASSERT_EQ(s, expected) << name(a) << ", " << name(b) << " cut at " << name(cut);
      }
    }
  }
}

TEST(KeySet, KeepAtAndBelowAndRemoveFromAndAbovePartitionTheSet) {
  for (DispatchKey k : runtime_keys()) {
    const DispatchKeySet full = DispatchKeySet::full();
    const DispatchKeySet below = full.remove_from_and_above(k);
    const DispatchKeySet at_and_below = full.keep_at_and_below(k);
    EXPECT_EQ(at_and_below - below, DispatchKeySet(k)) << name(k);
  }
}

TEST(KeySet, IterationVisitsPairInRisingPriority) {
  for (DispatchKey a : runtime_keys()) {
    for (DispatchKey b : runtime_keys()) {
      const DispatchKeySet s{a, b};
      const std::vector<DispatchKey> seen(s.begin(), s.end());
      std::vector<DispatchKey> expected;
      if (a == b) {
        expected = {a};
      } else {
        expected = {num(a) < num(b) ? a : b, num(a) < num(b) ? b : a};
      }
      EXPECT_EQ(seen, expected) << name(a) << ", " << name(b);
    }
  }
}

TEST(KeySet, IterationOverFullSetVisitsEveryRuntimeKeyInOrder) {
  const DispatchKeySet full = DispatchKeySet::full();
  const std::vector<DispatchKey> seen(full.begin(), full.end());
  EXPECT_EQ(seen, runtime_keys());
}

TEST(KeySet, PostIncrementReturnsThePreviousPosition) {
  const DispatchKeySet s{K::CPU, K::Tracer};
  auto it = s.begin();
  auto old = it++;
  EXPECT_EQ(*old, K::CPU);
  EXPECT_EQ(*it, K::Tracer);
  ++it;
  EXPECT_EQ(it, s.end());
}

TEST(KeySet, SizeCountsKeysAsTheyAreAdded) {
  DispatchKeySet s;
  int expected = 0;
  for (DispatchKey k : runtime_keys()) {
    s = s.add(k);
    ++expected;
    EXPECT_EQ(s.size(), expected) << name(k);
  }
  EXPECT_EQ(s, DispatchKeySet::full());
  EXPECT_EQ(DispatchKeySet::full().size(), kNumRuntimeKeys - 1);
}

// ---------------------------------------------------------------------------
// from_raw and what can never be in a set.

TEST(KeySet, FromRawKeepsExactlyTheRuntimeKeyBits) {
  for (int bit = 0; bit < 64; ++bit) {
    const DispatchKeySet s = DispatchKeySet::from_raw(uint64_t{1} << bit);
    const bool runtime_bit = bit >= 1 && bit < kNumRuntimeKeys;
    EXPECT_EQ(s.empty(), !runtime_bit) << "bit " << bit;
    if (runtime_bit) {
      EXPECT_EQ(s, DispatchKeySet(static_cast<DispatchKey>(bit))) << "bit " << bit;
    }
  }
}

TEST(KeySet, FromRawOfAllOnesIsFull) {
  EXPECT_EQ(DispatchKeySet::from_raw(~uint64_t{0}), DispatchKeySet::full());
  EXPECT_EQ(DispatchKeySet::full().raw() & 1u, 0u);
  EXPECT_EQ(DispatchKeySet::full().raw() >> kNumRuntimeKeys, 0u);
}

TEST(KeySet, FromRawRoundTripsRaw) {
  for (DispatchKey a : runtime_keys()) {
    for (DispatchKey b : runtime_keys()) {
      const DispatchKeySet s{a, b};
      EXPECT_EQ(DispatchKeySet::from_raw(s.raw()), s) << name(a) << ", " << name(b);
    }
  }
}

TEST(KeySet, AliasKeysNeverEnterASet) {
  for (DispatchKey alias : kAliasKeys) {
    SCOPED_TRACE(name(alias));
    EXPECT_TRUE(DispatchKeySet(alias).empty());
    EXPECT_EQ(DispatchKeySet({K::CPU, alias}), DispatchKeySet(K::CPU));
    EXPECT_EQ(DispatchKeySet(K::CPU).add(alias), DispatchKeySet(K::CPU));
    EXPECT_FALSE(DispatchKeySet::full().has(alias));
    EXPECT_EQ(DispatchKeySet::full().remove(alias), DispatchKeySet::full());
  }
}

TEST(KeySet, UndefinedAndEndMarkerNeverEnterASet) {
  for (DispatchKey k : {K::Undefined, K::EndOfRuntimeKeys}) {
    SCOPED_TRACE(name(k));
    EXPECT_TRUE(DispatchKeySet(k).empty());
    EXPECT_FALSE(DispatchKeySet::full().has(k));
    EXPECT_EQ(DispatchKeySet(K::Meta).add(k), DispatchKeySet(K::Meta));
  }
}

// ---------------------------------------------------------------------------
// Key classification and the key-set constants.

TEST(KeyKind, RuntimeKeysAreExactlyOneToEndMarker) {
  for (int i = 0; i < 256; ++i) {
    const auto k = static_cast<DispatchKey>(i);
    EXPECT_EQ(is_runtime_key(k), i >= 1 && i < kNumRuntimeKeys) << i;
  }
}

TEST(KeyKind, AliasKeysAreExactlyTheFourAliases) {
  for (int i = 0; i < 256; ++i) {
    const auto k = static_cast<DispatchKey>(i);
    const bool expected = std::find(kAliasKeys.begin(), kAliasKeys.end(), k) != kAliasKeys.end();
    EXPECT_EQ(is_alias_key(k), expected) << i;
  }
}

TEST(KeyKind, BackendKeysConstantMatchesIsBackendKey) {
  EXPECT_EQ(kBackendKeys, keys_where([](DispatchKey k) { return is_backend_key(k); }));
  EXPECT_EQ(kBackendKeys, DispatchKeySet({K::CPU, K::CUDA, K::Meta, K::PrivateUse1}));
}

TEST(KeyKind, AutogradKeysConstantMatchesIsAutogradKey) {
  EXPECT_EQ(kAutogradKeys, keys_where([](DispatchKey k) { return is_autograd_key(k); }));
  EXPECT_EQ(kAutogradKeys.size(), 5);
}

TEST(RuntimeKeysOf, AliasExpandsToItsRuntimeKeys) {
  struct Case {
    DispatchKey alias;
    DispatchKeySet expected;
  };
  const DispatchKeySet autograd{K::AutogradOther, K::AutogradCPU, K::AutogradCUDA, K::AutogradMeta,
                                K::AutogradPrivateUse1};
  const DispatchKeySet backends{K::CPU, K::CUDA, K::Meta, K::PrivateUse1};
  const Case cases[] = {
      {K::Autograd, autograd},
      {K::CompositeImplicitAutograd, DispatchKeySet::full()},
      {K::CompositeExplicitAutograd, backends},
      {K::CatchAll, DispatchKeySet::full()},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(runtime_keys_of(c.alias), c.expected) << name(c.alias);
  }
}

TEST(RuntimeKeysOf, RuntimeKeyStandsForItself) {
  for (DispatchKey k : runtime_keys()) {
    EXPECT_EQ(runtime_keys_of(k), DispatchKeySet(k)) << name(k);
  }
}

TEST(RuntimeKeysOf, UndefinedStandsForNothing) {
  EXPECT_TRUE(runtime_keys_of(K::Undefined).empty());
}

TEST(HighestBackendKey, IsTheBackendWhateverFeatureKeysAreAlsoPresent) {
  for (DispatchKey backend : kBackendKeys) {
    for (DispatchKey other : runtime_keys()) {
      if (is_backend_key(other)) continue;
      EXPECT_EQ(DispatchKeySet({backend, other}).highest_backend_key(), backend)
          << name(backend) << ", " << name(other);
    }
  }
}

TEST(HighestBackendKey, OfTwoBackendsIsTheHigherOne) {
  for (DispatchKey a : kBackendKeys) {
    for (DispatchKey b : kBackendKeys) {
      EXPECT_EQ(DispatchKeySet({a, b}).highest_backend_key(), num(a) > num(b) ? a : b)
          << name(a) << ", " << name(b);
    }
  }
}

TEST(HighestBackendKey, IsUndefinedWithoutABackend) {
  EXPECT_EQ(DispatchKeySet().highest_backend_key(), K::Undefined);
  EXPECT_EQ((DispatchKeySet::full() - kBackendKeys).highest_backend_key(), K::Undefined);
}

// ---------------------------------------------------------------------------
// Names.

TEST(KeyName, ToStringNamesEveryKey) {
  struct Case {
    DispatchKey key;
    std::string_view name;
  };
  const Case cases[] = {
      {K::Undefined, "Undefined"},
      {K::CPU, "CPU"},
      {K::CUDA, "CUDA"},
      {K::Meta, "Meta"},
      {K::PrivateUse1, "PrivateUse1"},
      {K::Python, "Python"},
      {K::DynamicLayerBackMode, "DynamicLayerBackMode"},
      {K::ADInplaceOrView, "ADInplaceOrView"},
      {K::AutogradOther, "AutogradOther"},
      {K::AutogradCPU, "AutogradCPU"},
      {K::AutogradCUDA, "AutogradCUDA"},
      {K::AutogradMeta, "AutogradMeta"},
      {K::AutogradPrivateUse1, "AutogradPrivateUse1"},
      {K::Tracer, "Tracer"},
      {K::Batched, "Batched"},
      {K::GradWrapper, "GradWrapper"},
      {K::PythonTLSSnapshot, "PythonTLSSnapshot"},
      {K::DynamicLayerFrontMode, "DynamicLayerFrontMode"},
      {K::Autograd, "Autograd"},
      {K::CompositeImplicitAutograd, "CompositeImplicitAutograd"},
      {K::CompositeExplicitAutograd, "CompositeExplicitAutograd"},
      {K::CatchAll, "CatchAll"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(to_string(c.key), c.name);
  }
  EXPECT_EQ(std::size(cases), named_keys().size()) << "a key is missing from the table";
}

TEST(KeyName, NamesAreDistinct) {
  std::set<std::string_view> names;
  for (DispatchKey k : named_keys()) {
    EXPECT_TRUE(names.insert(to_string(k)).second) << to_string(k);
  }
}

TEST(KeyName, ParseRoundTripsEveryKey) {
  for (DispatchKey k : named_keys()) {
    const std::optional<DispatchKey> parsed = parse_dispatch_key(to_string(k));
    ASSERT_TRUE(parsed.has_value()) << name(k);
    EXPECT_EQ(*parsed, k) << name(k);
  }
}

TEST(KeyName, ParseRejectsUnknownNames) {
  for (std::string_view bad : {"", "cpu", "CPU ", " CPU", "Autograd CPU", "EndOfRuntimeKeys",
                               "UnknownKey", "AutogradXLA", "Composite"}) {
    EXPECT_FALSE(parse_dispatch_key(bad).has_value()) << '"' << bad << '"';
  }
}

TEST(KeySetName, ToStringListsKeysHighestFirst) {
  struct Case {
    DispatchKeySet set;
    std::string_view text;
  };
  const Case cases[] = {
      {DispatchKeySet(), "{}"},
      {DispatchKeySet(K::CPU), "{CPU}"},
      {DispatchKeySet{K::CPU, K::AutogradCPU}, "{AutogradCPU, CPU}"},
      {DispatchKeySet{K::Meta, K::ADInplaceOrView, K::AutogradMeta},
       "{AutogradMeta, ADInplaceOrView, Meta}"},
      {DispatchKeySet{K::Tracer, K::DynamicLayerFrontMode, K::Python},
       "{DynamicLayerFrontMode, Tracer, Python}"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(to_string(c.set), c.text);
  }
}

TEST(KeySetName, ToStringOfEveryPairNamesBothHigherFirst) {
  for (DispatchKey a : runtime_keys()) {
    for (DispatchKey b : runtime_keys()) {
      const DispatchKeySet s{a, b};
      std::string expected;
      if (a == b) {
        expected = "{" + name(a) + "}";
      } else {
        const DispatchKey hi = num(a) > num(b) ? a : b;
        const DispatchKey lo = num(a) > num(b) ? b : a;
        expected = "{" + name(hi) + ", " + name(lo) + "}";
      }
      EXPECT_EQ(to_string(s), expected);
    }
  }
}

// ---------------------------------------------------------------------------
// Priority order. Each fact is checked through highest_priority_key, which is
// what decides whose kernel runs.

DispatchKey winner(DispatchKey a, DispatchKey b) {
  return DispatchKeySet{a, b}.highest_priority_key();
}

TEST(KeyPriority, TracerIsAboveEveryAutogradKey) {
  for (DispatchKey k : kAutogradKeys) EXPECT_EQ(winner(K::Tracer, k), K::Tracer) << name(k);
}

TEST(KeyPriority, EveryAutogradKeyIsAboveADInplaceOrView) {
  for (DispatchKey k : kAutogradKeys) EXPECT_EQ(winner(k, K::ADInplaceOrView), k) << name(k);
}

TEST(KeyPriority, ADInplaceOrViewIsAbovePython) {
  EXPECT_EQ(winner(K::ADInplaceOrView, K::Python), K::ADInplaceOrView);
}

TEST(KeyPriority, PythonIsAboveEveryBackend) {
  for (DispatchKey k : kBackendKeys) EXPECT_EQ(winner(K::Python, k), K::Python) << name(k);
}

TEST(KeyPriority, BackendsAreBelowEveryFeatureKey) {
  for (DispatchKey backend : kBackendKeys) {
    for (DispatchKey feature : runtime_keys()) {
      if (is_backend_key(feature)) continue;
      EXPECT_EQ(winner(backend, feature), feature) << name(backend) << ", " << name(feature);
    }
  }
}

TEST(KeyPriority, DynamicLayerFrontModeIsAboveEveryOtherKey) {
  for (DispatchKey k : runtime_keys()) {
    EXPECT_EQ(winner(K::DynamicLayerFrontMode, k), K::DynamicLayerFrontMode) << name(k);
  }
}

TEST(KeyPriority, PythonTLSSnapshotIsAboveEveryKeyButDynamicLayerFrontMode) {
  for (DispatchKey k : runtime_keys()) {
    if (k == K::DynamicLayerFrontMode) continue;
    EXPECT_EQ(winner(K::PythonTLSSnapshot, k), K::PythonTLSSnapshot) << name(k);
  }
}

TEST(KeyPriority, TensorKeysOfAGradTensorRunAutogradFirst) {
  // The key set of a CPU tensor that requires grad, as the tensor layer builds it.
  const DispatchKeySet s{K::CPU, K::ADInplaceOrView, K::AutogradCPU};
  EXPECT_EQ(s.highest_priority_key(), K::AutogradCPU);
  EXPECT_EQ(s.remove_from_and_above(K::AutogradCPU).highest_priority_key(), K::ADInplaceOrView);
  EXPECT_EQ(s.remove_from_and_above(K::ADInplaceOrView).highest_priority_key(), K::CPU);
}

// ---------------------------------------------------------------------------
// Autograd keys and backends.

TEST(AutogradKey, AutogradKeyForEachBackend) {
  struct Case {
    DispatchKey backend;
    DispatchKey autograd;
  };
  const Case cases[] = {
      {K::CPU, K::AutogradCPU},
      {K::CUDA, K::AutogradCUDA},
      {K::Meta, K::AutogradMeta},
      {K::PrivateUse1, K::AutogradPrivateUse1},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(autograd_key_for(c.backend), c.autograd) << name(c.backend);
    EXPECT_EQ(backend_for_autograd_key(c.autograd), c.backend) << name(c.autograd);
  }
}

TEST(AutogradKey, BackendRoundTripsThroughItsAutogradKey) {
  for (DispatchKey backend : kBackendKeys) {
    EXPECT_EQ(backend_for_autograd_key(autograd_key_for(backend)), backend) << name(backend);
  }
}

TEST(AutogradKey, PerBackendAutogradKeyRoundTripsThroughItsBackend) {
  for (DispatchKey k : kAutogradKeys) {
    if (k == K::AutogradOther) continue;
    EXPECT_EQ(autograd_key_for(backend_for_autograd_key(k)), k) << name(k);
  }
}

TEST(AutogradKey, NonBackendKeysGetAutogradOther) {
  for (DispatchKey k : named_keys()) {
    if (is_backend_key(k)) continue;
    EXPECT_EQ(autograd_key_for(k), K::AutogradOther) << name(k);
  }
}

TEST(AutogradKey, NonPerBackendAutogradKeysHaveNoBackend) {
  for (DispatchKey k : named_keys()) {
    if (is_autograd_key(k) && k != K::AutogradOther) continue;
    EXPECT_EQ(backend_for_autograd_key(k), K::Undefined) << name(k);
  }
}

TEST(AutogradKey, AutogradKeyForEveryBackendIsAnAutogradKey) {
  for (DispatchKey backend : kBackendKeys) {
    EXPECT_TRUE(kAutogradKeys.has(autograd_key_for(backend))) << name(backend);
  }
}

// The algebra is usable at compile time (the per-thread defaults rely on it).
static_assert(DispatchKeySet{K::CPU, K::AutogradCPU}.highest_priority_key() == K::AutogradCPU);
static_assert(DispatchKeySet(K::Autograd).empty());
static_assert(DispatchKeySet::from_raw(1).empty());

}  // namespace
}  // namespace sy
