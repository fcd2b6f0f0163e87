// Tags given at definition are the op's while it is defined.
#include <gtest/gtest.h>

#include "switchyard/switchyard.h"

namespace sy {
namespace {

TEST(OpTags, DefineWithTagsAndReadThemFromTheHandle) {
  Library lib(Library::DEF, "tags_def");
  lib.def("f(Tensor self) -> Tensor", {Tag::pointwise, Tag::nondeterministic});
  lib.def("g(Tensor self) -> Tensor");
  const OperatorHandle f = Dispatcher::singleton().find_op("tags_def::f");
  EXPECT_TRUE(f.has_tag(Tag::pointwise));
  EXPECT_TRUE(f.has_tag(Tag::nondeterministic));
  EXPECT_FALSE(f.has_tag(Tag::view));
  EXPECT_EQ(f.tags().to_string(), "[pointwise, nondeterministic]");
  EXPECT_TRUE(Dispatcher::singleton().find_op("tags_def::g").tags().empty());
}

TEST(OpTags, RemovedOpHasNoTags) {
  auto lib = std::make_unique<Library>(Library::DEF, "tags_gone");
  lib->def("f(Tensor self) -> Tensor", {Tag::reduction});
  const OperatorHandle f = Dispatcher::singleton().find_op("tags_gone::f");
  lib.reset();
  EXPECT_TRUE(f.tags().empty());
}

TEST(OpTags, BuiltInOpsCarryTheTablesTags) {
  auto& d = Dispatcher::singleton();
  EXPECT_TRUE(d.find_op("sy::add.Tensor").has_tag(Tag::pointwise));
  EXPECT_TRUE(d.find_op("sy::add_.Tensor").has_tag(Tag::inplace));
  EXPECT_TRUE(d.find_op("sy::add.out").has_tag(Tag::out));
  EXPECT_TRUE(d.find_op("sy::view").has_tag(Tag::view));
  EXPECT_TRUE(d.find_op("sy::sum").has_tag(Tag::reduction));
  EXPECT_TRUE(d.find_op("sy::rand").has_tag(Tag::random));
}

TEST(OpTags, NamesRoundTrip) {
  for (int i = 0; i < kNumTags; ++i) {
    const auto t = static_cast<Tag>(i);
    EXPECT_EQ(parse_tag(to_string(t)), t);
  }
  EXPECT_FALSE(parse_tag("fast").has_value());
}

}  // namespace
}  // namespace sy
