// The computed table does not depend on the order of registrations or of
// removals: every permutation of a set of registrations gives one table, and
// removing libraries in any order gives the table of what remains.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <memory>
#include <random>
#include <tuple>

#include "switchyard/switchyard.h"

namespace sy {
namespace {

constexpr int kRegistrations = 6;

// Registration i of the set, each in a library of its own. The sites are the
// same lines whatever the order, so dumps compare as text.
std::unique_ptr<Library> make_registration(int i) {
  auto kernel = [](const char* tag) {
    return CppFunction::boxed([tag](const OperatorHandle&, Stack* s) {
      s->pop_back();
      s->push_back(IValue(tag));
    });
  };
  switch (i) {
    case 0: {
      auto lib = std::make_unique<Library>(Library::FRAGMENT, "perm", std::nullopt, "perm.cpp", 1);
      lib->def("f(Tensor self) -> str");
      return lib;
    }
    case 1: {
      auto lib = std::make_unique<Library>(Library::IMPL, "perm", DispatchKey::CPU, "perm.cpp", 2);
      lib->impl("f", kernel("cpu"));
      return lib;
    }
    case 2: {
      auto lib = std::make_unique<Library>(Library::IMPL, "perm",
                                           DispatchKey::CompositeExplicitAutograd, "perm.cpp", 3);
      lib->impl("f", kernel("explicit"));
      return lib;
    }
    case 3: {
      auto lib = std::make_unique<Library>(Library::IMPL, "perm",
                                           DispatchKey::CompositeImplicitAutograd, "perm.cpp", 4);
      lib->impl("f", kernel("implicit"));
      return lib;
    }
    case 4: {
      auto lib =
          std::make_unique<Library>(Library::IMPL, "perm", DispatchKey::Autograd, "perm.cpp", 5);
      lib->impl("f", kernel("autograd"));
      return lib;
    }
    default: {
      auto lib =
          std::make_unique<Library>(Library::IMPL, "_", DispatchKey::GradWrapper, "perm.cpp", 6);
      lib->fallback(CppFunction::fallthrough());
      return lib;
    }
  }
}

std::string table_text() {
  // The op may be undefined (the def not registered yet): dump_table still works.
  return Dispatcher::singleton().dump_table("perm::f");
}

// The table with exactly `present` registered, made fresh in index order.
std::string reference_table(const std::array<bool, kRegistrations>& present) {
  std::vector<std::unique_ptr<Library>> libs;
  for (int i = 0; i < kRegistrations; ++i) {
    if (present[i]) libs.push_back(make_registration(i));
  }
  return table_text();
}

TEST(ComputedTable, EveryPermutationOfRegistrationsGivesTheSameTable) {
  const std::string expected = reference_table({true, true, true, true, true, true});
  std::array<int, kRegistrations> order{0, 1, 2, 3, 4, 5};
  int permutations = 0;
  do {
    std::vector<std::unique_ptr<Library>> libs;
    for (int i : order) libs.push_back(make_registration(i));
    ASSERT_EQ(table_text(), expected)
        << "registration order differs at permutation " << permutations;
    ++permutations;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(permutations, 720);
}

TEST(ComputedTable, RemovingLibrariesInAnyOrderLeavesTheTableOfWhatRemains) {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 200; ++trial) {
    std::array<int, kRegistrations> order{0, 1, 2, 3, 4, 5};
    std::shuffle(order.begin(), order.end(), rng);
    std::array<std::unique_ptr<Library>, kRegistrations> libs;
    for (int i : order) libs[i] = make_registration(i);
    std::array<bool, kRegistrations> present{true, true, true, true, true, true};
    std::shuffle(order.begin(), order.end(), rng);
    for (int i : order) {
      libs[i].reset();
      present[i] = false;
      const std::string actual = table_text();
      // Compare against a fresh build of the remaining set (libs are still
      // alive, so build the reference with the current ones removed first).
      std::array<std::unique_ptr<Library>, kRegistrations> saved;
      for (int j = 0; j < kRegistrations; ++j) saved[j] = std::move(libs[j]);
      for (auto& l : saved) l.reset();
      ASSERT_EQ(actual, reference_table(present)) << "trial " << trial;
      for (int j = 0; j < kRegistrations; ++j) {
        if (present[j]) libs[j] = make_registration(j);
      }
    }
  }
}

// The line of the table dump for `key`.
std::string line_for(const std::string& table, const std::string& key) {
  const auto start = table.find("\n  " + key + ":");
  if (start == std::string::npos) return "";
  return table.substr(start + 1, table.find('\n', start + 1) - start - 1);
}

TEST(ComputedTable, ChosenKernelsFollowThePrecedence) {
  std::vector<std::unique_ptr<Library>> libs;
  for (int i = 0; i < kRegistrations; ++i) libs.push_back(make_registration(i));
  const std::string t = table_text();
  // Each expectation: the slot's source, and the library (by its fake line) it came from.
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"CPU", "the kernel for CPU", "perm.cpp:2)"},
      {"Meta", "CompositeExplicitAutograd kernel", "perm.cpp:3)"},
      {"Undefined (no tensor arguments)", "CompositeExplicitAutograd kernel", "perm.cpp:3)"},
      {"AutogradCPU", "Autograd kernel", "perm.cpp:5)"},
      {"AutogradMeta", "Autograd kernel", "perm.cpp:5)"},
      {"AutogradOther", "CompositeImplicitAutograd kernel", "perm.cpp:4)"},
      {"GradWrapper", "fallthrough backend fallback for GradWrapper", "perm.cpp:6)"},
      {"ADInplaceOrView", "fallthrough (default for this key)", ""},
      {"Tracer", "backend fallback for Tracer", "trace/tracer.cpp"},
      {"Batched", "backend fallback for Batched", "transforms/interpreter.cpp"},
      {"DynamicLayerBackMode", "missing", ""},
  };
  for (const auto& [key, source, library] : cases) {
    const std::string line = line_for(t, key);
    EXPECT_NE(line.find(source), std::string::npos) << key << " -> " << line;
    EXPECT_NE(line.find(library), std::string::npos) << key << " -> " << line;
  }
}

TEST(ComputedTable, CompositeImplicitFillsAutogradOnlyWhereTheBackendHasNoKernel) {
  // def, CPU, CompositeImplicit: AutogradCPU falls through to the CPU kernel;
  // AutogradMeta decomposes through the composite.
  auto def = make_registration(0);
  auto cpu = make_registration(1);
  auto implicit = make_registration(3);
  const std::string t = table_text();
  EXPECT_NE(line_for(t, "AutogradCPU").find("fallthrough"), std::string::npos) << t;
  EXPECT_NE(line_for(t, "AutogradMeta").find("CompositeImplicitAutograd"), std::string::npos) << t;
  EXPECT_NE(line_for(t, "Meta").find("CompositeImplicitAutograd"), std::string::npos) << t;
}

TEST(ComputedTable, CompositeImplicitServesThePythonKeyOnlyForAPureComposite) {
  // A dispatch mode sees the ops a pure composite decomposes into; an op with a
  // backend kernel or a CompositeExplicit kernel reaches the Python key itself.
  auto def = make_registration(0);
  auto implicit = make_registration(3);
  EXPECT_NE(line_for(table_text(), "Python").find("CompositeImplicitAutograd"), std::string::npos)
      << table_text();
  {
    auto cpu = make_registration(1);
    EXPECT_EQ(line_for(table_text(), "Python").find("CompositeImplicitAutograd"), std::string::npos)
        << table_text();
  }
  {
    auto explicit_composite = make_registration(2);
    EXPECT_EQ(line_for(table_text(), "Python").find("CompositeImplicitAutograd"), std::string::npos)
        << table_text();
  }
}

}  // namespace
}  // namespace sy
