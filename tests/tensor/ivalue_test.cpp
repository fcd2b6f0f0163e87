// IValue: every kind's construction, tag, checked access, copy / move
// semantics and reference counting, repr() and equality.
#include "switchyard/tensor/ivalue.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "switchyard/core/error.h"
#include "switchyard/tensor/device.h"
#include "switchyard/tensor/scalar.h"
#include "switchyard/tensor/scalar_type.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

static void PrintTo(IValue::Tag t, std::ostream* os) { *os << to_string(t); }

namespace {

using Tag = IValue::Tag;

// A float32 cpu tensor holding `values`.
Tensor float_tensor(std::vector<float> values) {
  Tensor t = make_tensor({static_cast<int64_t>(values.size())}, kFloat32, kCPU);
  for (size_t i = 0; i < values.size(); ++i) t.data_ptr<float>()[i] = values[i];
  return t;
}

// Whether `message` names the type `name` as a whole word ("int" but not the
// "int" inside "int[]").
bool names_type(std::string_view message, std::string_view name) {
  for (size_t at = message.find(name); at != std::string_view::npos;
       at = message.find(name, at + 1)) {
    const size_t end = at + name.size();
    const bool starts_word = at == 0 || message[at - 1] == ' ';
    const bool ends_word = end == message.size() || message[end] == ' ' || message[end] == ',';
    if (starts_word && ends_word) return true;
  }
  return false;
}

// One value of every kind.
struct Sample {
  IValue value;
  Tag tag;
  std::string_view type_name;
};
std::vector<Sample> samples() {
  const Tensor t = float_tensor({1, 2});
  return {
      {IValue(), Tag::None, "None"},
      {IValue(true), Tag::Bool, "bool"},
      {IValue(7), Tag::Int, "int"},
      {IValue(2.5), Tag::Double, "float"},
      {IValue("text"), Tag::String, "str"},
      {IValue(t), Tag::Tensor, "Tensor"},
      {IValue(std::vector<int64_t>{1, 2}), Tag::IntList, "int[]"},
      {IValue(std::vector<double>{0.5}), Tag::DoubleList, "float[]"},
      {IValue(std::vector<bool>{true, false}), Tag::BoolList, "bool[]"},
      {IValue(std::vector<Tensor>{t}), Tag::TensorList, "Tensor[]"},
      {IValue(kInt32), Tag::ScalarType, "ScalarType"},
      {IValue(Device("cuda:1")), Tag::Device, "Device"},
  };
}

// ---------------------------------------------------------------------------
// Construction and tags.

TEST(IValueKind, TagAndTypeNameOfEveryKind) {
  for (const Sample& s : samples()) {
    EXPECT_EQ(s.value.tag(), s.tag) << s.type_name;
    EXPECT_EQ(s.value.type_name(), s.type_name);
    EXPECT_EQ(to_string(s.tag), s.type_name);
  }
}

TEST(IValueKind, ExactlyOnePredicateHoldsForEveryKind) {
  for (const Sample& s : samples()) {
    const IValue& v = s.value;
    const bool predicates[] = {v.is_none(),        v.is_bool(),        v.is_int(),
                               v.is_double(),      v.is_string(),      v.is_tensor(),
                               v.is_int_list(),    v.is_double_list(), v.is_bool_list(),
                               v.is_tensor_list(), v.is_scalar_type(), v.is_device()};
    for (int i = 0; i < static_cast<int>(std::size(predicates)); ++i) {
      EXPECT_EQ(predicates[i], i == static_cast<int>(s.tag))
          << s.type_name << ": predicate for " << to_string(static_cast<Tag>(i));
    }
  }
}

TEST(IValueKind, IsScalarForBoolIntAndFloatOnly) {
  for (const Sample& s : samples()) {
    const bool expected = s.tag == Tag::Bool || s.tag == Tag::Int || s.tag == Tag::Double;
    EXPECT_EQ(s.value.is_scalar(), expected) << s.type_name;
  }
}

TEST(IValueKind, EveryIntegralTypeBoxesAsInt) {
  EXPECT_EQ(IValue(int8_t{-3}).to_int(), -3);
  EXPECT_EQ(IValue(uint8_t{200}).to_int(), 200);
  EXPECT_EQ(IValue(int32_t{-70000}).to_int(), -70000);
  EXPECT_EQ(IValue(int64_t{1} << 40).to_int(), int64_t{1} << 40);
  EXPECT_EQ(IValue(size_t{12}).to_int(), 12);
}

TEST(IValueKind, FloatBoxesAsDouble) {
  const IValue v(0.25f);
  EXPECT_TRUE(v.is_double());
  EXPECT_EQ(v.to_double(), 0.25);
}

TEST(IValueKind, BoolDoesNotBoxAsInt) {
  EXPECT_TRUE(IValue(false).is_bool());
  EXPECT_FALSE(IValue(false).to_bool());
}

TEST(IValueKind, EveryStringFormBoxesAsString) {
  const std::string owned = "a";
  EXPECT_EQ(IValue(owned).to_string_ref(), "a");
  EXPECT_EQ(IValue(std::string_view("bc")).to_string_ref(), "bc");
  EXPECT_EQ(IValue("def").to_string_ref(), "def");
  EXPECT_EQ(IValue("").to_string_ref(), "");
}

TEST(IValueKind, IntArrayRefBoxesAsIntList) {
  const std::vector<int64_t> sizes = {2, 3};
  const IValue v{IntArrayRef(sizes)};
  EXPECT_TRUE(v.is_int_list());
  EXPECT_EQ(v.to_int_list(), sizes);
}

TEST(IValueKind, NulloptIsNone) { EXPECT_TRUE(IValue(std::nullopt).is_none()); }

TEST(IValueKind, IsSixteenBytes) { EXPECT_EQ(sizeof(IValue), 16u); }

// ---------------------------------------------------------------------------
// Checked accessors.

TEST(IValueAccess, ReturnsTheStoredValueOfEveryKind) {
  const Tensor t = float_tensor({1});
  EXPECT_TRUE(IValue(true).to_bool());
  EXPECT_EQ(IValue(-9).to_int(), -9);
  EXPECT_EQ(IValue(1.5).to_double(), 1.5);
  EXPECT_EQ(IValue("hi").to_string_ref(), "hi");
  EXPECT_TRUE(IValue(t).to_tensor().is_same(t));
  EXPECT_TRUE(IValue(t).to_tensor_ref().is_same(t));
  EXPECT_EQ(IValue(std::vector<int64_t>{4, 5}).to_int_list(), (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(IValue(std::vector<double>{0.5, 1}).to_double_list(), (std::vector<double>{0.5, 1}));
  EXPECT_EQ(IValue(std::vector<bool>{false, true}).to_bool_list(),
            (std::vector<bool>{false, true}));
  const IValue tensors(std::vector<Tensor>{t, t});
  ASSERT_EQ(tensors.to_tensor_list().size(), 2u);
  EXPECT_TRUE(tensors.to_tensor_list()[1].is_same(t));
  EXPECT_EQ(IValue(kFloat64).to_scalar_type(), kFloat64);
  EXPECT_EQ(IValue(Device("cuda:1")).to_device(), Device(DeviceType::CUDA, 1));
}

TEST(IValueAccess, TensorImplUncheckedIsTheTensorsImpl) {
  const Tensor t = float_tensor({1});
  EXPECT_EQ(IValue(t).tensor_impl_unchecked(), t.impl());
}

// One checked accessor: the tag it accepts and a call that uses it.
struct Accessor {
  std::string_view name;
  Tag accepts;
  std::function<void(const IValue&)> call;
};
std::vector<Accessor> accessors() {
  return {
      {"to_bool", Tag::Bool, [](const IValue& v) { (void)v.to_bool(); }},
      {"to_int", Tag::Int, [](const IValue& v) { (void)v.to_int(); }},
      {"to_double", Tag::Double, [](const IValue& v) { (void)v.to_double(); }},
      {"to_string_ref", Tag::String, [](const IValue& v) { (void)v.to_string_ref(); }},
      {"to_tensor_ref", Tag::Tensor, [](const IValue& v) { (void)v.to_tensor_ref(); }},
      {"to_tensor", Tag::Tensor, [](const IValue& v) { (void)v.to_tensor(); }},
      {"to_tensor&&", Tag::Tensor, [](const IValue& v) { (void)IValue(v).to_tensor(); }},
      {"to_int_list", Tag::IntList, [](const IValue& v) { (void)v.to_int_list(); }},
      {"to_double_list", Tag::DoubleList, [](const IValue& v) { (void)v.to_double_list(); }},
      {"to_bool_list", Tag::BoolList, [](const IValue& v) { (void)v.to_bool_list(); }},
      {"to_tensor_list", Tag::TensorList, [](const IValue& v) { (void)v.to_tensor_list(); }},
      {"to_scalar_type", Tag::ScalarType, [](const IValue& v) { (void)v.to_scalar_type(); }},
      {"to_device", Tag::Device, [](const IValue& v) { (void)v.to_device(); }},
  };
}

TEST(IValueAccess, AccessorOfTheValuesOwnKindDoesNotThrow) {
  for (const Sample& s : samples()) {
    for (const Accessor& a : accessors()) {
      if (a.accepts != s.tag) continue;
      EXPECT_NO_THROW(a.call(s.value)) << a.name << " on " << s.type_name;
    }
  }
}

TEST(IValueAccess, WrongTypeThrowsTypeErrorNamingBothTypes) {
  for (const Sample& s : samples()) {
    for (const Accessor& a : accessors()) {
      if (a.accepts == s.tag) continue;
      if (a.name == "to_double" && s.tag == Tag::Int) continue;  // ints widen to float
      SCOPED_TRACE(std::string(a.name) + " on " + std::string(s.type_name));
      try {
        a.call(s.value);
        ADD_FAILURE() << "no exception";
      } catch (const TypeError& e) {
        EXPECT_TRUE(names_type(e.what(), to_string(a.accepts))) << e.what();
        EXPECT_TRUE(names_type(e.what(), s.type_name)) << e.what();
      }
    }
  }
}

TEST(IValueAccess, FailedMoveOutLeavesTheValueIntact) {
  IValue v(3);
  EXPECT_THROW((void)std::move(v).to_tensor(), TypeError);
  EXPECT_EQ(v.to_int(), 3);  // NOLINT(bugprone-use-after-move): the failed call moved nothing
}

TEST(IValueAccess, ToDoubleAcceptsInts) {
  EXPECT_EQ(IValue(3).to_double(), 3.0);
  EXPECT_EQ(IValue(-4).to_double(), -4.0);
  EXPECT_EQ(IValue(int64_t{1} << 53).to_double(), 9007199254740992.0);
}

TEST(IValueAccess, ToDoubleRejectsBool) { EXPECT_THROW((void)IValue(true).to_double(), TypeError); }

TEST(IValueAccess, ToIntRejectsDouble) { EXPECT_THROW((void)IValue(3.0).to_int(), TypeError); }

// ---------------------------------------------------------------------------
// Scalars.

TEST(IValueScalar, ScalarBoxesAsBoolIntOrFloat) {
  EXPECT_EQ(IValue(Scalar(true)).tag(), Tag::Bool);
  EXPECT_EQ(IValue(Scalar(3)).tag(), Tag::Int);
  EXPECT_EQ(IValue(Scalar(2.5)).tag(), Tag::Double);
}

TEST(IValueScalar, ScalarRoundTripsThroughToScalar) {
  for (const Scalar& s : {Scalar(true), Scalar(false), Scalar(-3), Scalar(int64_t{1} << 40),
                          Scalar(2.5), Scalar(-0.0)}) {
    const Scalar back = IValue(s).to_scalar();
    EXPECT_EQ(back, s) << s.str();
    EXPECT_EQ(back.kind(), s.kind()) << s.str();
  }
}

TEST(IValueScalar, ToScalarAcceptsBoolIntAndDouble) {
  EXPECT_EQ(IValue(true).to_scalar(), Scalar(true));
  EXPECT_EQ(IValue(5).to_scalar(), Scalar(5));
  EXPECT_EQ(IValue(0.5).to_scalar(), Scalar(0.5));
}

TEST(IValueScalar, ToScalarRejectsEveryOtherKindNamingIt) {
  for (const Sample& s : samples()) {
    if (s.value.is_scalar()) continue;
    try {
      (void)s.value.to_scalar();
      ADD_FAILURE() << "no exception for " << s.type_name;
    } catch (const TypeError& e) {
      EXPECT_TRUE(names_type(e.what(), s.type_name)) << e.what();
    }
  }
}

// ---------------------------------------------------------------------------
// Optional tensors.

TEST(IValueOptionalTensor, EmptyOptionalIsNone) {
  const IValue v(std::optional<Tensor>{});
  EXPECT_TRUE(v.is_none());
  EXPECT_FALSE(v.to_optional_tensor().has_value());
}

TEST(IValueOptionalTensor, PresentOptionalIsTheTensor) {
  const Tensor t = float_tensor({1});
  const IValue v(std::optional<Tensor>{t});
  ASSERT_TRUE(v.is_tensor());
  const std::optional<Tensor> back = v.to_optional_tensor();
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->is_same(t));
}

TEST(IValueOptionalTensor, PresentOptionalHoldsOneReference) {
  const Tensor t = float_tensor({1});
  {
    const IValue v(std::optional<Tensor>{t});
    EXPECT_EQ(t.use_count(), 2u);
  }
  EXPECT_EQ(t.use_count(), 1u);
}

TEST(IValueOptionalTensor, OtherKindsAreTypeError) {
  EXPECT_THROW((void)IValue(1).to_optional_tensor(), TypeError);
}

// ---------------------------------------------------------------------------
// Copy, move and reference counts.

TEST(IValueTensorRefs, BoxingATensorTakesOneReference) {
  const Tensor t = float_tensor({1});
  const IValue v(t);
  EXPECT_EQ(t.use_count(), 2u);
}

TEST(IValueTensorRefs, CopyTakesAnotherReference) {
  const Tensor t = float_tensor({1});
  const IValue a(t);
  const IValue b(a);
  EXPECT_EQ(t.use_count(), 3u);
  EXPECT_TRUE(b.to_tensor_ref().is_same(t));
}

TEST(IValueTensorRefs, DestructionReleasesTheReference) {
  const Tensor t = float_tensor({1});
  {
    const IValue a(t);
    { const IValue b(a); }
    EXPECT_EQ(t.use_count(), 2u);
  }
  EXPECT_EQ(t.use_count(), 1u);
}

TEST(IValueTensorRefs, MoveKeepsTheCountAndLeavesNone) {
  const Tensor t = float_tensor({1});
  IValue a(t);
  const IValue b(std::move(a));
  EXPECT_TRUE(a.is_none());  // NOLINT(bugprone-use-after-move): moved-from is None by contract
  EXPECT_TRUE(b.to_tensor_ref().is_same(t));
  EXPECT_EQ(t.use_count(), 2u);
}

TEST(IValueTensorRefs, MoveAssignmentReleasesTheOldTensor) {
  const Tensor old_t = float_tensor({1});
  const Tensor new_t = float_tensor({2});
  IValue target(old_t);
  IValue source(new_t);
  target = std::move(source);
  EXPECT_EQ(old_t.use_count(), 1u);
  EXPECT_EQ(new_t.use_count(), 2u);
  EXPECT_TRUE(source.is_none());  // NOLINT(bugprone-use-after-move)
}

TEST(IValueTensorRefs, CopyAssignmentReleasesTheOldTensorAndTakesTheNew) {
  const Tensor old_t = float_tensor({1});
  const Tensor new_t = float_tensor({2});
  IValue target(old_t);
  const IValue source(new_t);
  target = source;
  EXPECT_EQ(old_t.use_count(), 1u);
  EXPECT_EQ(new_t.use_count(), 3u);
}

TEST(IValueTensorRefs, AssigningAnotherKindReleasesTheTensor) {
  const Tensor t = float_tensor({1});
  IValue v(t);
  v = IValue(3);
  EXPECT_EQ(t.use_count(), 1u);
  EXPECT_EQ(v.to_int(), 3);
}

TEST(IValueTensorRefs, SelfCopyAssignmentKeepsTheTensor) {
  const Tensor t = float_tensor({1});
  IValue v(t);
  IValue& same = v;
  v = same;
  EXPECT_TRUE(v.to_tensor_ref().is_same(t));
  EXPECT_EQ(t.use_count(), 2u);
}

TEST(IValueTensorRefs, ToTensorRefBorrows) {
  const Tensor t = float_tensor({1});
  const IValue v(t);
  const Tensor& borrowed = v.to_tensor_ref();
  EXPECT_TRUE(borrowed.is_same(t));
  EXPECT_EQ(t.use_count(), 2u);
}

TEST(IValueTensorRefs, ToTensorOnLvalueCopies) {
  const Tensor t = float_tensor({1});
  const IValue v(t);
  const Tensor copy = v.to_tensor();
  EXPECT_EQ(t.use_count(), 3u);
  EXPECT_TRUE(v.is_tensor());
}

TEST(IValueTensorRefs, ToTensorOnRvalueMovesOutAndLeavesNone) {
  const Tensor t = float_tensor({1});
  IValue v(t);
  const Tensor out = std::move(v).to_tensor();
  EXPECT_TRUE(out.is_same(t));
  EXPECT_EQ(t.use_count(), 2u);
  EXPECT_TRUE(v.is_none());  // NOLINT(bugprone-use-after-move)
}

TEST(IValueTensorRefs, SwapExchangesValuesAndKeepsCounts) {
  const Tensor t = float_tensor({1});
  IValue a(t);
  IValue b("s");
  a.swap(b);
  EXPECT_EQ(a.to_string_ref(), "s");
  EXPECT_TRUE(b.to_tensor_ref().is_same(t));
  EXPECT_EQ(t.use_count(), 2u);
}

TEST(IValueTensorRefs, StackOfCopiesCountsEachCopy) {
  const Tensor t = float_tensor({1});
  {
    Stack stack;
    for (int i = 0; i < 5; ++i) stack.emplace_back(t);
    stack.push_back(stack.front());
    EXPECT_EQ(t.use_count(), 7u);
  }
  EXPECT_EQ(t.use_count(), 1u);
}

// ---------------------------------------------------------------------------
// Heap values (strings and lists) share on copy.

TEST(IValueHeapValues, CopiedListsShareOneVector) {
  const IValue a(std::vector<int64_t>{1, 2, 3});
  const IValue b(a);
  EXPECT_EQ(&a.to_int_list(), &b.to_int_list());
}

TEST(IValueHeapValues, CopiedStringsShareOneString) {
  const IValue a("shared");
  const IValue b = a;
  EXPECT_EQ(&a.to_string_ref(), &b.to_string_ref());
}

TEST(IValueHeapValues, EveryHeapKindSharesOnCopy) {
  const Tensor t = float_tensor({1});
  const IValue values[] = {IValue(std::vector<double>{1.5}), IValue(std::vector<bool>{true}),
                           IValue(std::vector<Tensor>{t})};
  for (const IValue& a : values) {
    const IValue b(a);
    const void* pa = nullptr;
    const void* pb = nullptr;
    if (a.is_double_list()) pa = &a.to_double_list(), pb = &b.to_double_list();
    if (a.is_bool_list()) pa = &a.to_bool_list(), pb = &b.to_bool_list();
    if (a.is_tensor_list()) pa = &a.to_tensor_list(), pb = &b.to_tensor_list();
    EXPECT_NE(pa, nullptr) << a.type_name();
    EXPECT_EQ(pa, pb) << a.type_name();
  }
}

TEST(IValueHeapValues, MovedFromListIsNoneAndTargetKeepsTheVector) {
  IValue a(std::vector<int64_t>{1, 2});
  const std::vector<int64_t>* original = &a.to_int_list();
  const IValue b(std::move(a));
  EXPECT_TRUE(a.is_none());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(&b.to_int_list(), original);
}

TEST(IValueHeapValues, TensorListKeepsItsTensorsAliveUntilTheLastCopyGoes) {
  const Tensor t = float_tensor({1});
  {
    const IValue a(std::vector<Tensor>{t});
    EXPECT_EQ(t.use_count(), 2u);
    {
      const IValue b(a);
      EXPECT_EQ(t.use_count(), 2u);  // the copy shares the list, not the tensors
    }
    EXPECT_EQ(t.use_count(), 2u);
  }
  EXPECT_EQ(t.use_count(), 1u);
}

TEST(IValueHeapValues, AssigningOverAListReleasesIt) {
  const Tensor t = float_tensor({1});
  IValue v(std::vector<Tensor>{t, t});
  EXPECT_EQ(t.use_count(), 3u);
  v = IValue();
  EXPECT_EQ(t.use_count(), 1u);
}

// ---------------------------------------------------------------------------
// repr().

TEST(IValueRepr, SchemaTextOfEveryKind) {
  struct Case {
    IValue value;
    std::string_view text;
  };
  const Tensor t = float_tensor({1, 2});
  const Case cases[] = {
      {IValue(), "None"},
      {IValue(true), "True"},
      {IValue(false), "False"},
      {IValue(3), "3"},
      {IValue(-12), "-12"},
      {IValue(2.5), "2.5"},
      {IValue(1.0), "1."},
      {IValue("s"), "\"s\""},
      {IValue(""), "\"\""},
      {IValue("a\"b\\c"), "\"a\\\"b\\\\c\""},
      {IValue(std::vector<int64_t>{1, 2}), "[1, 2]"},
      {IValue(std::vector<int64_t>{}), "[]"},
      {IValue(std::vector<double>{1.0, 2.5}), "[1., 2.5]"},
      {IValue(std::vector<bool>{true, false}), "[True, False]"},
      {IValue(kFloat32), "float32"},
      {IValue(kInt64), "int64"},
      {IValue(kCPU), "\"cpu\""},
      {IValue(Device("cuda:1")), "\"cuda:1\""},
      {IValue(t), "tensor([1., 2.])"},
      {IValue(std::vector<Tensor>{t, t}), "[tensor([1., 2.]), tensor([1., 2.])]"},
      {IValue(Tensor()), "tensor(undefined)"},
  };
  for (const Case& c : cases) EXPECT_EQ(c.value.repr(), c.text) << c.value.type_name();
}

// ---------------------------------------------------------------------------
// operator==.

TEST(IValueEquality, SameKindAndValueIsEqual) {
  const Tensor t = float_tensor({1});
  const IValue pairs[][2] = {
      {IValue(), IValue(std::nullopt)},
      {IValue(true), IValue(true)},
      {IValue(3), IValue(int64_t{3})},
      {IValue(2.5), IValue(2.5f)},
      {IValue("ab"), IValue(std::string("ab"))},
      {IValue(t), IValue(t)},
      {IValue(std::vector<int64_t>{1, 2}), IValue(std::vector<int64_t>{1, 2})},
      {IValue(std::vector<double>{0.5}), IValue(std::vector<double>{0.5})},
      {IValue(std::vector<bool>{true}), IValue(std::vector<bool>{true})},
      {IValue(std::vector<Tensor>{t}), IValue(std::vector<Tensor>{t})},
      {IValue(kInt32), IValue(kInt32)},
      {IValue(Device("cuda:1")), IValue(Device(DeviceType::CUDA, 1))},
  };
  for (const auto& p : pairs) {
    EXPECT_TRUE(p[0] == p[1]) << p[0].repr() << " vs " << p[1].repr();
    EXPECT_TRUE(p[1] == p[0]) << p[1].repr() << " vs " << p[0].repr();
  }
}

TEST(IValueEquality, DifferentValuesOfOneKindAreNotEqual) {
  const IValue pairs[][2] = {
      {IValue(true), IValue(false)},
      {IValue(3), IValue(4)},
      {IValue(2.5), IValue(2.25)},
      {IValue("ab"), IValue("abc")},
      {IValue(std::vector<int64_t>{1, 2}), IValue(std::vector<int64_t>{1})},
      {IValue(std::vector<double>{0.5}), IValue(std::vector<double>{1.5})},
      {IValue(std::vector<bool>{true}), IValue(std::vector<bool>{false})},
      {IValue(kInt32), IValue(kInt64)},
      {IValue(Device("cuda:1")), IValue(Device("cuda:0"))},
      {IValue(kCPU), IValue(kMeta)},
  };
  for (const auto& p : pairs) {
    EXPECT_FALSE(p[0] == p[1]) << p[0].repr() << " vs " << p[1].repr();
  }
}

TEST(IValueEquality, DifferentKindsAreNeverEqual) {
  const std::vector<Sample> all = samples();
  for (const Sample& a : all) {
    for (const Sample& b : all) {
      EXPECT_EQ(a.value == b.value, a.tag == b.tag) << a.type_name << " vs " << b.type_name;
    }
  }
}

TEST(IValueEquality, NumbersOfDifferentKindsAreNotEqual) {
  EXPECT_FALSE(IValue(1) == IValue(1.0));
  EXPECT_FALSE(IValue(true) == IValue(1));
}

TEST(IValueEquality, TensorsCompareByIdentity) {
  const Tensor a = float_tensor({1});
  const Tensor b = float_tensor({1});
  EXPECT_FALSE(IValue(a) == IValue(b));
  EXPECT_TRUE(IValue(a) == IValue(Tensor(a)));
}

TEST(IValueEquality, TensorListsCompareElementIdentity) {
  const Tensor a = float_tensor({1});
  const Tensor b = float_tensor({1});
  EXPECT_FALSE(IValue(std::vector<Tensor>{a}) == IValue(std::vector<Tensor>{b}));
  EXPECT_FALSE(IValue(std::vector<Tensor>{a}) == IValue(std::vector<Tensor>{a, a}));
  EXPECT_FALSE(IValue(std::vector<Tensor>{a, a}) == IValue(std::vector<Tensor>{a}));
  EXPECT_TRUE(IValue(std::vector<Tensor>{a, b}) == IValue(std::vector<Tensor>{a, b}));
}

}  // namespace
}  // namespace sy
