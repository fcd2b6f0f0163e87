#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "switchyard/core/error.h"
#include "switchyard/dispatch/function_schema.h"
#include "switchyard/tensor/layout.h"

namespace sy {
namespace {

using K = SchemaType::Kind;

SchemaType base(K k) { return SchemaType::base(k); }

// The first argument of `f(<arg>) -> ()`.
Argument parse_arg(const std::string& arg) {
  FunctionSchema s = parse_schema("f(" + arg + ") -> ()");
  EXPECT_EQ(s.arguments().size(), 1u) << arg;
  return s.arguments().at(0);
}

// what() of the SchemaError `text` raises, or "" (and a test failure) if it parses.
std::string error_of(std::string_view text) {
  try {
    parse_schema(text);
  } catch (const SchemaError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a SchemaError for: " << text;
  return "";
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

Tensor meta_tensor() {
  auto storage = Storage::make(size_t{0}, kMeta);
  return Tensor(IntrusivePtr<TensorImpl>::make(storage, kFloat32, IntArrayRef{}, IntArrayRef{}, 0));
}

TEST(SchemaParser, ParsesNamespaceAndOverload) {
  FunctionSchema s = parse_schema("my_lib::scale.out(Tensor self) -> Tensor");
  EXPECT_EQ(s.ns(), "my_lib");
  EXPECT_EQ(s.name(), "scale");
  EXPECT_EQ(s.overload_name(), "out");
  EXPECT_EQ(s.qualified_name(), "my_lib::scale");
  EXPECT_EQ(s.full_name(), "my_lib::scale.out");
}

TEST(SchemaParser, NamespaceAndOverloadAreOptional) {
  FunctionSchema s = parse_schema("relu(Tensor self) -> Tensor");
  EXPECT_EQ(s.ns(), "");
  EXPECT_EQ(s.name(), "relu");
  EXPECT_EQ(s.overload_name(), "");
  EXPECT_EQ(s.full_name(), "relu");
  EXPECT_EQ(s.to_string(), "relu(Tensor self) -> Tensor");
}

TEST(SchemaParser, SetNsChangesQualifiedName) {
  FunctionSchema s = parse_schema("scale.out(Tensor self) -> Tensor");
  s.set_ns("my_lib");
  EXPECT_EQ(s.full_name(), "my_lib::scale.out");
  EXPECT_EQ(s.to_string(), "my_lib::scale.out(Tensor self) -> Tensor");
}

TEST(SchemaParser, ParsesEveryBaseType) {
  const std::vector<std::pair<std::string, K>> cases = {
      {"Tensor", K::Tensor},
      {"int", K::Int},
      {"float", K::Float},
      {"bool", K::Bool},
      {"str", K::Str},
      {"Scalar", K::Scalar},
      {"ScalarType", K::ScalarType},
      {"Device", K::Device},
  };
  for (const auto& [text, kind] : cases) {
    const Argument a = parse_arg(text + " x");
    EXPECT_EQ(a.type, base(kind)) << text;
    EXPECT_EQ(a.type.to_string(), text);
  }
}

TEST(SchemaParser, ParsesOptionalAndListCombinations) {
  const std::vector<std::pair<std::string, SchemaType>> cases = {
      {"Tensor?", SchemaType::optional(base(K::Tensor))},
      {"int[]", SchemaType::list(base(K::Int))},
      {"int[2]", SchemaType::list(base(K::Int), 2)},
      {"float[]", SchemaType::list(base(K::Float))},
      {"Tensor[]", SchemaType::list(base(K::Tensor))},
      {"Tensor?[]", SchemaType::list(SchemaType::optional(base(K::Tensor)))},
      {"int[]?", SchemaType::optional(SchemaType::list(base(K::Int)))},
      {"int[1]?", SchemaType::optional(SchemaType::list(base(K::Int), 1))},
      {"bool[3]", SchemaType::list(base(K::Bool), 3)},
      {"Tensor?[]?", SchemaType::optional(SchemaType::list(SchemaType::optional(base(K::Tensor))))},
      {"ScalarType?", SchemaType::optional(base(K::ScalarType))},
  };
  for (const auto& [text, type] : cases) {
    EXPECT_EQ(parse_arg(text + " x").type, type) << text;
    EXPECT_EQ(type.to_string(), text);
  }
}

TEST(SchemaType, EqualityComparesKindElementAndFixedSize) {
  EXPECT_EQ(SchemaType::list(base(K::Int), 2), SchemaType::list(base(K::Int), 2));
  EXPECT_FALSE(SchemaType::list(base(K::Int), 2) == SchemaType::list(base(K::Int)));
  EXPECT_FALSE(SchemaType::list(base(K::Int), 2) == SchemaType::list(base(K::Int), 3));
  EXPECT_FALSE(SchemaType::list(base(K::Int)) == SchemaType::list(base(K::Float)));
  EXPECT_FALSE(SchemaType::optional(base(K::Int)) == base(K::Int));
  EXPECT_FALSE(base(K::Str) == base(K::Device));
}

TEST(SchemaParser, ContainsTensorForTensorTypesOnly) {
  EXPECT_TRUE(parse_arg("Tensor?[] x").type.contains_tensor());
  EXPECT_TRUE(parse_arg("Tensor[]? x").type.contains_tensor());
  EXPECT_FALSE(parse_arg("int[]? x").type.contains_tensor());
}

struct DefaultCase {
  std::string arg;
  IValue expected;
};

TEST(SchemaParser, ParsesDefaultsOfEveryKind) {
  const std::vector<DefaultCase> cases = {
      {"int x=3", IValue(int64_t{3})},
      {"int x=-7", IValue(int64_t{-7})},
      {"int x=-9223372036854775808", IValue(std::numeric_limits<int64_t>::min())},
      {"float x=1.0", IValue(1.0)},
      {"float x=-2.5", IValue(-2.5)},
      {"float x=1e-5", IValue(1e-5)},
      {"float x=2.5E+3", IValue(2500.0)},
      {"float x=1.", IValue(1.0)},
      {"float x=1", IValue(1.0)},  // an int literal is stored as the float it names
      {"float x=inf", IValue(std::numeric_limits<double>::infinity())},
      {"float x=-inf", IValue(-std::numeric_limits<double>::infinity())},
      {"bool x=True", IValue(true)},
      {"bool x=False", IValue(false)},
      {"str x=\"hi\"", IValue("hi")},
      {"str x='hi'", IValue("hi")},
      {"str x=\"\"", IValue("")},
      {R"(str x="a\"b\\c\n\t")", IValue("a\"b\\c\n\t")},
      {R"(str x='it\'s "ok"')", IValue("it's \"ok\"")},
      {"Scalar x=1", IValue(int64_t{1})},
      {"Scalar x=2.5", IValue(2.5)},
      {"Scalar x=True", IValue(true)},
      {"Tensor? x=None", IValue()},
      {"int? x=None", IValue()},
      {"int? x=4", IValue(int64_t{4})},
      {"int[] x=[1, 2]", IValue(std::vector<int64_t>{1, 2})},
      {"int[] x=[-1]", IValue(std::vector<int64_t>{-1})},
      {"int[] x=[]", IValue(std::vector<int64_t>{})},
      {"float[] x=[1, 2.5]", IValue(std::vector<double>{1.0, 2.5})},
      {"float[] x=[]", IValue(std::vector<double>{})},
      {"bool[] x=[True, False]", IValue(std::vector<bool>{true, false})},
      {"int[2] x=1", IValue(std::vector<int64_t>{1, 1})},
      {"int[3] x=-1", IValue(std::vector<int64_t>{-1, -1, -1})},
      {"float[2] x=0.5", IValue(std::vector<double>{0.5, 0.5})},
      {"bool[2] x=True", IValue(std::vector<bool>{true, true})},
      {"int[1] x=[]", IValue(std::vector<int64_t>{})},  // as aten::amax declares
      {"int[2] x=[3, 4]", IValue(std::vector<int64_t>{3, 4})},
      {"int[]? x=[5]", IValue(std::vector<int64_t>{5})},
      {"Tensor[] x=[]", IValue(std::vector<Tensor>{})},
      {"ScalarType x=float32", IValue(kFloat32)},
      {"ScalarType x=int64", IValue(kInt64)},
      {"ScalarType? x=None", IValue()},
      {"Device x=\"cpu\"", IValue(Device(DeviceType::CPU))},
      {"Device x=\"cuda:1\"", IValue(Device(DeviceType::CUDA, 1))},
  };
  for (const DefaultCase& c : cases) {
    const Argument a = parse_arg(c.arg);
    ASSERT_TRUE(a.default_value.has_value()) << c.arg;
    EXPECT_EQ(*a.default_value, c.expected) << c.arg << " gave " << a.default_value->repr();
    EXPECT_TRUE(a.type.accepts(*a.default_value)) << c.arg;
  }
}

TEST(SchemaParser, ArgumentWithoutDefaultHasNone) {
  EXPECT_FALSE(parse_arg("int x").default_value.has_value());
  EXPECT_TRUE(parse_arg("int? x=None").default_value.has_value());
}

TEST(SchemaParser, FloatDefaultsPrintSoTheyParseBackExactly) {
  const std::vector<double> values = {0.1,        1.0 / 3, 1e-300, 5e-324, 1.7976931348623157e308,
                                      123456.789, 1e22,    -2.5,   1e-05,  3.0};
  for (double v : values) {
    Argument a;
    a.name = "x";
    a.type = base(K::Float);
    a.default_value = IValue(v);
    const FunctionSchema s("", "f", "", {a}, {});
    const Argument back = parse_schema(s.to_string()).arguments().at(0);
    ASSERT_TRUE(back.default_value && back.default_value->is_double()) << s.to_string();
    EXPECT_EQ(back.default_value->to_double(), v) << s.to_string();
  }
}

struct BadDefaultCase {
  std::string arg;
  std::string message_start;
};

TEST(SchemaParser, RejectsDefaultsOfTheWrongType) {
  const std::vector<BadDefaultCase> cases = {
      {"int x=1.5", "default value 1.5 does not match type int"},
      {"Tensor t=None", "default value None does not match type Tensor"},
      {"Tensor t=[]", "default value [] does not match type Tensor"},
      {"int x=None", "default value None does not match type int"},
      {"bool x=1", "default value 1 does not match type bool"},
      {"float x=True", "default value True does not match type float"},
      {"str x=1", "default value 1 does not match type str"},
      {"int x=\"1\"", "default value \"1\" does not match type int"},
      {"int[] x=1", "default value 1 does not match type int[]"},
      {"int[] x=[1, 2.5]", "default value 2.5 does not match type int[]"},
      {"float[] x=[True]", "default value True does not match type float[]"},
      {"int[2] x=None", "default value None does not match type int[2]"},
      {"int?[] x=[1]", "default value [1] does not match type int?[]"},
      {"Scalar x=None", "default value None does not match type Scalar"},
      {"Scalar x=\"1\"", "default value \"1\" does not match type Scalar"},
      {"ScalarType x=\"float32\"", "default value \"float32\" does not match type ScalarType"},
      {"ScalarType x=complex64", "unknown ScalarType 'complex64'"},
      {"Device x=\"gpu\"", "unknown device \"gpu\""},
      {"Device x=cpu", "default value cpu does not match type Device"},
      {"float x=nan", "default value nan does not match type float"},
      {"int x=[[1]]", "lists of lists are not supported"},
      {"int[2] x=[1, 2, 3]", "default value [1, 2, 3] is a list of 3, but int[2] holds 2"},
      {"int[3] x=[1]", "default value [1] is a list of 1, but int[3] holds 3"},
  };
  for (const BadDefaultCase& c : cases) {
    const std::string message = first_line(error_of("f(" + c.arg + ") -> ()"));
    EXPECT_EQ(message.rfind(c.message_start, 0), 0u) << c.arg << " gave: " << message;
  }
}

TEST(SchemaParser, AllowsNonDefaultArgumentAfterDefaultedOne) {
  const FunctionSchema s = parse_schema("f(int x=1, int y) -> ()");
  EXPECT_TRUE(s.arguments()[0].default_value.has_value());
  EXPECT_FALSE(s.arguments()[1].default_value.has_value());
}

TEST(SchemaParser, StarMakesFollowingArgumentsKeywordOnly) {
  const FunctionSchema s = parse_schema("f(Tensor a, *, int b, int c=1) -> ()");
  ASSERT_EQ(s.arguments().size(), 3u);
  EXPECT_FALSE(s.arguments()[0].kwarg_only);
  EXPECT_TRUE(s.arguments()[1].kwarg_only);
  EXPECT_TRUE(s.arguments()[2].kwarg_only);
  EXPECT_EQ(s.to_string(), "f(Tensor a, *, int b, int c=1) -> ()");
}

TEST(SchemaParser, LeadingStarMakesEveryArgumentKeywordOnly) {
  const FunctionSchema s = parse_schema("f(*, Tensor a) -> ()");
  EXPECT_TRUE(s.arguments().at(0).kwarg_only);
  EXPECT_EQ(s.to_string(), "f(*, Tensor a) -> ()");
}

TEST(SchemaParser, ParsesAliasAnnotations) {
  const FunctionSchema s = parse_schema("f(Tensor(a) x, Tensor(b!) y, Tensor z) -> Tensor(a)");
  EXPECT_EQ(s.arguments()[0].alias, (AliasInfo{"a", false}));
  EXPECT_EQ(s.arguments()[1].alias, (AliasInfo{"b", true}));
  EXPECT_FALSE(s.arguments()[2].alias.has_value());
  EXPECT_EQ(s.returns().at(0).alias, (AliasInfo{"a", false}));
}

TEST(SchemaParser, AliasAnnotationOnTensorListAppliesToElements) {
  const Argument a = parse_arg("Tensor(a!)[] xs");
  EXPECT_EQ(a.type, SchemaType::list(base(K::Tensor)));
  EXPECT_EQ(a.alias, (AliasInfo{"a", true}));
  EXPECT_EQ(a.to_string(), "Tensor(a!)[] xs");
  EXPECT_EQ(parse_arg("Tensor(a)? x").to_string(), "Tensor(a)? x");
}

TEST(SchemaParser, IsMutableOnlyWhenAnArgumentIsWritten) {
  EXPECT_TRUE(parse_schema("f(Tensor(a!) x) -> ()").is_mutable());
  EXPECT_FALSE(parse_schema("f(Tensor(a) x) -> Tensor(a)").is_mutable());
  EXPECT_FALSE(parse_schema("f(Tensor x) -> Tensor").is_mutable());
}

TEST(SchemaParser, ParsesNoReturns) {
  EXPECT_TRUE(parse_schema("f() -> ()").returns().empty());
  EXPECT_TRUE(parse_schema("f() -> ()").arguments().empty());
}

TEST(SchemaParser, NoneMeansNoReturnsAndPrintsAsEmptyParens) {
  const FunctionSchema s = parse_schema("my_func(Tensor self) -> None");
  EXPECT_TRUE(s.returns().empty());
  EXPECT_EQ(s, parse_schema("my_func(Tensor self) -> ()"));
  EXPECT_EQ(s.to_string(), "my_func(Tensor self) -> ()");
  EXPECT_THROW(parse_schema("f() -> None x"), SchemaError);
}

TEST(SchemaParser, ParsesOneUnnamedReturn) {
  const FunctionSchema s = parse_schema("f() -> Tensor[]");
  ASSERT_EQ(s.returns().size(), 1u);
  EXPECT_EQ(s.returns()[0].type, SchemaType::list(base(K::Tensor)));
  EXPECT_EQ(s.returns()[0].name, "");
}

TEST(SchemaParser, ParenthesisedSingleReturnEqualsBareOne) {
  EXPECT_EQ(parse_schema("f() -> (Tensor)"), parse_schema("f() -> Tensor"));
}

TEST(SchemaParser, ParsesSeveralReturns) {
  const FunctionSchema s = parse_schema("f() -> (Tensor, int, float?)");
  ASSERT_EQ(s.returns().size(), 3u);
  EXPECT_EQ(s.returns()[1].type, base(K::Int));
  EXPECT_EQ(s.returns()[2].type, SchemaType::optional(base(K::Float)));
}

TEST(SchemaParser, ParsesNamedReturns) {
  const FunctionSchema s = parse_schema(
      "aten::max.dim(Tensor self, int dim, bool keepdim=False) -> "
      "(Tensor values, Tensor indices)");
  ASSERT_EQ(s.returns().size(), 2u);
  EXPECT_EQ(s.returns()[0].name, "values");
  EXPECT_EQ(s.returns()[1].name, "indices");
}

TEST(SchemaParser, PrintsNamedSingleReturnInParentheses) {
  EXPECT_EQ(parse_schema("f() -> (Tensor(a!) out)").to_string(), "f() -> (Tensor(a!) out)");
}

TEST(SchemaParser, AcceptsWhitespaceAndNewlinesBetweenTokens) {
  const FunctionSchema spread = parse_schema(
      "  aten :: add . out (\n    Tensor self,\n\tTensor other , * ,\r\n"
      "    Scalar alpha = 1 ,\n    Tensor ( a ! ) out )\n  -> Tensor(a!)  \n");
  EXPECT_EQ(spread, parse_schema("aten::add.out(Tensor self, Tensor other, *, Scalar alpha=1, "
                                 "Tensor(a!) out) -> Tensor(a!)"));
}

TEST(SchemaParser, PrintsFixedSizeListDefaultInFull) {
  const FunctionSchema s = parse_schema(
      "aten::conv2d(Tensor input, Tensor weight, Tensor? bias=None, int[2] stride=1, "
      "int[2] padding=0, int[2] dilation=1, int groups=1) -> Tensor");
  EXPECT_EQ(s.to_string(),
            "aten::conv2d(Tensor input, Tensor weight, Tensor? bias=None, int[2] stride=[1, 1], "
            "int[2] padding=[0, 0], int[2] dilation=[1, 1], int groups=1) -> Tensor");
}

struct RoundTripCase {
  std::string text;
  std::string canonical = {};  // to_string() of the parsed schema; empty when it is `text`
};

TEST(SchemaParser, PrintedSchemaParsesBackEqual) {
  const std::vector<RoundTripCase> cases = {
      {"aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor"},
      {"aten::add.out(Tensor self, Tensor other, *, Scalar alpha=1, Tensor(a!) out) -> "
       "Tensor(a!)"},
      {"aten::add_.Tensor(Tensor(a!) self, Tensor other, *, Scalar alpha=1) -> Tensor(a!)"},
      {"aten::max.dim(Tensor self, int dim, bool keepdim=False) -> (Tensor values, Tensor "
       "indices)"},
      {"aten::max.dim_max(Tensor self, int dim, bool keepdim=False, *, Tensor(a!) max, "
       "Tensor(b!) max_values) -> (Tensor(a!) values, Tensor(b!) indices)"},
      {"aten::conv2d(Tensor input, Tensor weight, Tensor? bias=None, int[2] stride=1, "
       "int[2] padding=0, int[2] dilation=1, int groups=1) -> Tensor",
       "aten::conv2d(Tensor input, Tensor weight, Tensor? bias=None, int[2] stride=[1, 1], "
       "int[2] padding=[0, 0], int[2] dilation=[1, 1], int groups=1) -> Tensor"},
      {"aten::layer_norm(Tensor input, int[] normalized_shape, Tensor? weight=None, "
       "Tensor? bias=None, float eps=1e-05, bool cudnn_enable=True) -> Tensor"},
      {"aten::cat(Tensor[] tensors, int dim=0) -> Tensor"},
      {"aten::index.Tensor(Tensor self, Tensor?[] indices) -> Tensor"},
      {"aten::sum.dim_IntList(Tensor self, int[1]? dim, bool keepdim=False, *, "
       "ScalarType? dtype=None) -> Tensor"},
      {"aten::amax(Tensor self, int[1] dim=[], bool keepdim=False) -> Tensor"},
      {"aten::div.Tensor_mode(Tensor self, Tensor other, *, str? rounding_mode) -> Tensor"},
      {"aten::split.Tensor(Tensor(a) self, int split_size, int dim=0) -> Tensor(a)[]"},
      {"aten::clamp(Tensor self, Scalar? min=None, Scalar? max=None) -> Tensor"},
      {"aten::_foreach_add_.List(Tensor(a!)[] self, Tensor[] other, *, Scalar alpha=1) -> ()"},
      {"aten::to.dtype(Tensor(a) self, ScalarType dtype, bool non_blocking=False, "
       "bool copy=False) -> Tensor(a)"},
      {"aten::to.device(Tensor(a) self, Device device, ScalarType dtype, bool non_blocking=False, "
       "bool copy=False) -> Tensor(a)"},
      {"aten::view(Tensor(a) self, int[] size) -> Tensor(a)"},
      {"aten::transpose.int(Tensor(a) self, int dim0, int dim1) -> Tensor(a)"},
      {"aten::dropout(Tensor input, float p, bool train) -> Tensor"},
      {"aten::leaky_relu(Tensor self, Scalar negative_slope=0.01) -> Tensor"},
      {"aten::batch_norm(Tensor input, Tensor? weight, Tensor? bias, Tensor? running_mean, "
       "Tensor? running_var, bool training, float momentum, float eps, bool cudnn_enabled) -> "
       "Tensor"},
      {"aten::topk(Tensor self, int k, int dim=-1, bool largest=True, bool sorted=True) -> "
       "(Tensor values, Tensor indices)"},
      {"aten::sort.values(Tensor self, int dim=-1, bool descending=False, *, Tensor(a!) values, "
       "Tensor(b!) indices) -> (Tensor(a!) values, Tensor(b!) indices)"},
      {"aten::size.int(Tensor self, int dim) -> int"},
      {"aten::is_nonzero(Tensor self) -> bool"},
      {"aten::item(Tensor self) -> Scalar"},
      {"aten::_shape_as_tensor(Tensor self) -> Tensor"},
      {"aten::avg_pool2d(Tensor self, int[2] kernel_size, int[2] stride=[], int[2] padding=0, "
       "bool ceil_mode=False, bool count_include_pad=True, int? divisor_override=None) -> Tensor",
       "aten::avg_pool2d(Tensor self, int[2] kernel_size, int[2] stride=[], int[2] padding=[0, 0], "
       "bool ceil_mode=False, bool count_include_pad=True, int? divisor_override=None) -> Tensor"},
      {"my_lib::scale.out(Tensor self, float factor=1.0, *, Tensor(a!) out) -> Tensor(a!)",
       "my_lib::scale.out(Tensor self, float factor=1., *, Tensor(a!) out) -> Tensor(a!)"},
      {"f(float a=-inf, float b=inf, float c=1e+20, float d=-2.5e-07) -> ()"},
      {"f(float[] a=[1, 2.5, -0.125], bool[] b=[True, False], int[] c=[]) -> ()",
       "f(float[] a=[1., 2.5, -0.125], bool[] b=[True, False], int[] c=[]) -> ()"},
      {"f(str a='x', str b=\"q\\\"uote\", str c=\"tab\\tnl\\nnul\\0\") -> ()",
       "f(str a=\"x\", str b=\"q\\\"uote\", str c=\"tab\\tnl\\nnul\\0\") -> ()"},
      {"f(ScalarType a=float, ScalarType b=long, Device d=\"meta\") -> ()",
       "f(ScalarType a=float32, ScalarType b=int64, Device d=\"meta\") -> ()"},
      {"f(int a=-9223372036854775808, int b=9223372036854775807) -> ()"},
      {"f(Tensor?[]? a=None, Tensor[] b=[], bool[3] c=False) -> ()",
       "f(Tensor?[]? a=None, Tensor[] b=[], bool[3] c=[False, False, False]) -> ()"},
      {"f(*, Tensor a, Tensor b) -> (Tensor, Tensor)"},
      {"f() -> (Tensor)", "f() -> Tensor"},
      {"f() -> (Tensor a, int, float b)"},
      {"ns::op.overload_2(Scalar s=True, Scalar t=-3, Scalar u=0.5) -> Tensor(a)[]"},
      {"f(int x=1, int y) -> ()"},
  };
  for (const RoundTripCase& c : cases) {
    const FunctionSchema parsed = parse_schema(c.text);
    const std::string printed = parsed.to_string();
    EXPECT_EQ(printed, c.canonical.empty() ? c.text : c.canonical);
    EXPECT_EQ(parse_schema(printed), parsed) << printed;
  }
}

struct ErrorCase {
  std::string text;
  std::string first_line;
  std::string source_line;  // the line of `text` shown under the message
  size_t column;            // 1-based column of the caret
};

TEST(SchemaParser, ErrorShowsLineColumnAndCaret) {
  const std::vector<ErrorCase> cases = {
      {"bad(Tensor self, int) -> Tensor)", "expected argument name at 1:21",
       "bad(Tensor self, int) -> Tensor)", 21},
      {"", "expected operator name at 1:1", "", 1},
      {"f(Tensr x) -> ()",
       "unknown type 'Tensr' at 1:3; expected one of Tensor, int, SymInt, float, bool, str, "
       "Scalar, ScalarType, Device, Layout, MemoryFormat, Generator",
       "f(Tensr x) -> ()", 3},
      {"f(Tensor x) -> Tensor)", "expected end of schema at 1:22", "f(Tensor x) -> Tensor)", 22},
      {"f(Tensor x) -> Tensor out", "expected end of schema at 1:23", "f(Tensor x) -> Tensor out",
       23},
      {"f(Tensor x -> Tensor", "expected ')' or ',' after argument at 1:12", "f(Tensor x -> Tensor",
       12},
      {"f(Tensor x) Tensor", "expected '->' after arguments at 1:13", "f(Tensor x) Tensor", 13},
      {"f(Tensor x)", "expected '->' after arguments at 1:12", "f(Tensor x)", 12},
      {"f(int x=1.5) -> ()", "default value 1.5 does not match type int at 1:9",
       "f(int x=1.5) -> ()", 9},
      {"f(Tensor t=None) -> ()", "default value None does not match type Tensor at 1:12",
       "f(Tensor t=None) -> ()", 12},
      {"f(Tensor a, *) -> ()", "expected an argument after '*' at 1:14", "f(Tensor a, *) -> ()",
       14},
      {"f(*, Tensor a, *, Tensor b) -> ()", "'*' may appear only once in the arguments at 1:16",
       "f(*, Tensor a, *, Tensor b) -> ()", 16},
      {"f(Tensor a, Tensor a) -> ()", "duplicate argument name 'a' at 1:20",
       "f(Tensor a, Tensor a) -> ()", 20},
      {"f(int(a) x) -> ()", "alias annotations are only allowed on Tensor types at 1:6",
       "f(int(a) x) -> ()", 6},
      {"f(Tensor(a x) -> ()", "expected '!' or ')' after alias set at 1:12", "f(Tensor(a x) -> ()",
       12},
      {"f(int?? x) -> ()", "type int? is already optional at 1:7", "f(int?? x) -> ()", 7},
      {"f(int[][] x) -> ()", "lists of lists are not supported at 1:8", "f(int[][] x) -> ()", 8},
      {"f(int[x] y) -> ()", "expected a list size or ']' at 1:7", "f(int[x] y) -> ()", 7},
      {"f(int[0] y) -> ()", "list size 0 is out of range at 1:7; expected a size from 1 to 1024",
       "f(int[0] y) -> ()", 7},
      {"f(str s=\"abc) -> ()", "unterminated string literal at 1:9", "f(str s=\"abc) -> ()", 9},
      {"f(str s=\"a\\qb\") -> ()",
       "unknown escape sequence '\\q' at 1:11; expected one of \\\\ \\\" \\' \\n \\t \\r \\0",
       "f(str s=\"a\\qb\") -> ()", 11},
      {"f(int x=) -> ()", "expected a default value at 1:9", "f(int x=) -> ()", 9},
      {"f(int x=-True) -> ()", "expected a number after '-' at 1:10", "f(int x=-True) -> ()", 10},
      {"f(int x=99999999999999999999) -> ()",
       "integer 99999999999999999999 is out of range at 1:9; expected a 64-bit integer",
       "f(int x=99999999999999999999) -> ()", 9},
      {"aten::(Tensor x) -> ()", "expected operator name after '::' at 1:7",
       "aten::(Tensor x) -> ()", 7},
      {"aten::add.(Tensor x) -> ()", "expected overload name after '.' at 1:11",
       "aten::add.(Tensor x) -> ()", 11},
      {"f(Tensor x) -> (Tensor, )", "expected a type at 1:25", "f(Tensor x) -> (Tensor, )", 25},
      {"f(Tensor x) -> (Tensor a, Tensor a)", "duplicate return name 'a' at 1:34",
       "f(Tensor x) -> (Tensor a, Tensor a)", 34},
      {"f(ScalarType t=complex64) -> ()",
       "unknown ScalarType 'complex64' at 1:16; expected one of bool, uint8, int32, int64, "
       "float32, float64, float16, bfloat16",
       "f(ScalarType t=complex64) -> ()", 16},
      {"f(Tensor x,\n  int y=1.5)\n  -> ()", "default value 1.5 does not match type int at 2:9",
       "  int y=1.5)", 9},
      {"f(Tensor x,\n  int y)\n  Tensor", "expected '->' after arguments at 3:3", "  Tensor", 3},
      {"f(Tensor x # comment) -> ()", "expected ')' or ',' after argument at 1:12",
       "f(Tensor x # comment) -> ()", 12},
  };
  for (const ErrorCase& c : cases) {
    const std::string expected =
        c.first_line + "\n  " + c.source_line + "\n  " + std::string(c.column - 1, ' ') + "^";
    EXPECT_EQ(error_of(c.text), expected);
  }
}

TEST(SchemaParser, CaretCopiesTabsFromTheSourceLine) {
  EXPECT_EQ(error_of("f(\tint\tx=)\t->\t()"),
            "expected a default value at 1:10\n  f(\tint\tx=)\t->\t()\n    \t   \t  ^");
}

TEST(SchemaParser, ErrorAtEndOfInputPointsAfterTheLastToken) {
  EXPECT_EQ(error_of("f(Tensor x) ->\n\n"),
            "expected a type at 1:15\n  f(Tensor x) ->\n"
            "                ^");
}

TEST(SchemaParser, ControlCharactersInErrorsAreShownAsQuestionMarks) {
  const std::string text("f(Tensor\0 x) -> ()", 18);
  EXPECT_EQ(error_of(text),
            "expected argument name at 1:9\n  f(Tensor? x) -> ()\n"
            "          ^");
}

TEST(SchemaParser, FixedListSizeIsBounded) {
  EXPECT_EQ(parse_arg("int[1024] x").type.fixed_size(), 1024);
  EXPECT_EQ(first_line(error_of("f(int[1025] x) -> ()")),
            "list size 1025 is out of range at 1:7; expected a size from 1 to 1024");
}

TEST(SchemaParser, EveryPrefixOfAValidSchemaParsesOrThrowsSchemaError) {
  const std::string text =
      "aten::f.o(Tensor(a!) x, int[2] s=1, float? e=-1e-5, str m='a\\'b', *, "
      "ScalarType t=float32, Device d=\"cpu\", bool[] b=[True]) -> (Tensor(a!) out, int[] n)";
  for (size_t n = 0; n < text.size(); ++n) {
    try {
      parse_schema(text.substr(0, n));
      ADD_FAILURE() << "a strict prefix parsed: " << text.substr(0, n);
    } catch (const SchemaError&) {
    }
  }
  EXPECT_NO_THROW(parse_schema(text));
}

TEST(SchemaType, AcceptsValuesOfItsType) {
  const IValue tensor(meta_tensor());
  const IValue none;
  const IValue i(int64_t{1});
  const IValue d(1.5);
  const IValue b(true);
  const IValue s("x");
  const IValue ints(std::vector<int64_t>{1, 2});
  const IValue three_ints(std::vector<int64_t>{1, 2, 3});
  const IValue no_ints(std::vector<int64_t>{});
  const IValue doubles(std::vector<double>{1.5});
  const IValue bools(std::vector<bool>{true});
  const IValue tensors(std::vector<Tensor>{meta_tensor()});
  const IValue dtype(kFloat32);
  const IValue device(kMeta);
  struct Case {
    std::string type;
    std::vector<const IValue*> accepted;
    std::vector<const IValue*> rejected;
  };
  const std::vector<Case> cases = {
      {"Tensor", {&tensor}, {&none, &i, &tensors}},
      {"Tensor?", {&tensor, &none}, {&i, &tensors}},
      {"int", {&i}, {&d, &b, &none, &ints}},
      {"int?", {&i, &none}, {&d, &s}},
      {"float", {&d, &i}, {&b, &s, &doubles}},
      {"bool", {&b}, {&i, &d}},
      {"str", {&s}, {&i, &dtype}},
      {"Scalar", {&i, &d, &b}, {&s, &tensor, &none}},
      {"ScalarType", {&dtype}, {&i, &s}},
      {"Device", {&device}, {&s, &i}},
      {"int[]", {&ints}, {&i, &doubles, &none}},
      {"int[2]", {&ints, &no_ints}, {&doubles, &bools, &three_ints}},
      {"int[1]", {&ints, &three_ints, &no_ints}, {&doubles}},  // PyTorch's "dims" idiom
      {"int[]?", {&ints, &none}, {&doubles}},
      {"float[]", {&doubles}, {&ints, &d}},
      {"bool[]", {&bools}, {&ints}},
      {"Tensor[]", {&tensors}, {&tensor, &ints}},
      {"Tensor?[]", {&tensors}, {&tensor, &none}},
      {"str[]", {}, {&s, &ints, &tensors}},
  };
  for (const Case& c : cases) {
    const SchemaType type = parse_arg(c.type + " x").type;
    for (const IValue* v : c.accepted) EXPECT_TRUE(type.accepts(*v)) << c.type << v->repr();
    for (const IValue* v : c.rejected) EXPECT_FALSE(type.accepts(*v)) << c.type << v->repr();
  }
}

TEST(OperatorName, ParsesNamespaceNameAndOverload) {
  const OperatorName op = parse_operator_name("aten::add.Tensor");
  EXPECT_EQ(op.ns, "aten");
  EXPECT_EQ(op.name, "add");
  EXPECT_EQ(op.overload, "Tensor");
  EXPECT_EQ(op.full_name(), "aten::add.Tensor");
}

TEST(OperatorName, NamespaceAndOverloadAreOptional) {
  const OperatorName op = parse_operator_name("relu");
  EXPECT_EQ(op.ns, "");
  EXPECT_EQ(op.name, "relu");
  EXPECT_EQ(op.overload, "");
  EXPECT_EQ(op.full_name(), "relu");
  EXPECT_EQ(parse_operator_name("relu.out").full_name(), "relu.out");
  EXPECT_EQ(parse_operator_name("aten::relu").full_name(), "aten::relu");
}

TEST(OperatorName, RejectsMalformedNames) {
  for (const char* bad : {"", "aten::", "aten::add.", "aten::add(", "a::b::c", "1abc", "a.b.c"}) {
    EXPECT_THROW(parse_operator_name(bad), SchemaError) << bad;
  }
  EXPECT_EQ(first_line([] {
              try {
                parse_operator_name("aten::add(");
              } catch (const SchemaError& e) {
                return std::string(e.what());
              }
              return std::string();
            }()),
            "expected end of operator name at 1:10");
}

TEST(FunctionSchema, ConstructorRejectsPositionalArgumentAfterKeywordOnly) {
  Argument a;
  a.name = "a";
  a.kwarg_only = true;
  Argument b;
  b.name = "b";
  EXPECT_THROW(FunctionSchema("", "f", "", {a, b}, {}), SchemaError);
  EXPECT_NO_THROW(FunctionSchema("", "f", "", {b, a}, {}));
}

TEST(FunctionSchema, EqualityComparesEveryPart) {
  const FunctionSchema s = parse_schema("ns::f.o(Tensor(a!) x, int y=1) -> Tensor");
  EXPECT_EQ(s, parse_schema("ns::f.o(Tensor(a!) x, int y=1) -> Tensor"));
  for (const char* other :
       {"ns::f.p(Tensor(a!) x, int y=1) -> Tensor", "ms::f.o(Tensor(a!) x, int y=1) -> Tensor",
        "ns::f.o(Tensor(a) x, int y=1) -> Tensor", "ns::f.o(Tensor(b!) x, int y=1) -> Tensor",
        "ns::f.o(Tensor(a!) x, int y=2) -> Tensor", "ns::f.o(Tensor(a!) x, int y) -> Tensor",
        "ns::f.o(Tensor(a!) x, *, int y=1) -> Tensor", "ns::f.o(Tensor(a!) x, int z=1) -> Tensor",
        "ns::f.o(Tensor(a!) x, float y=1) -> Tensor",
        "ns::f.o(Tensor(a!) x, int y=1) -> (Tensor out)",
        "ns::f.o(Tensor(a!) x, int y=1) -> (Tensor, Tensor)"}) {
    EXPECT_FALSE(s == parse_schema(other)) << other;
  }
}

}  // namespace
}  // namespace sy

// ---- the types of native_functions.yaml ------------------------------------------------

namespace sy {
namespace {

TEST(SchemaParser, SymIntIsInt) {
  const FunctionSchema s =
      parse_schema("f(SymInt n, SymInt[] size, SymInt[2] stride=1, SymInt? k=None) -> ()");
  EXPECT_EQ(s.arguments()[0].type, base(K::Int));
  EXPECT_EQ(s.arguments()[1].type, SchemaType::list(base(K::Int)));
  EXPECT_EQ(s.arguments()[2].type, SchemaType::list(base(K::Int), 2));
  EXPECT_EQ(*s.arguments()[2].default_value, IValue(std::vector<int64_t>{1, 1}));
  EXPECT_EQ(s.arguments()[3].type, SchemaType::optional(base(K::Int)));
  EXPECT_EQ(s.to_string(), "f(int n, int[] size, int[2] stride=[1, 1], int? k=None) -> ()");
}

TEST(SchemaParser, ParsesGeneratorLayoutMemoryFormatAndScalarTypeOptionals) {
  const FunctionSchema s = parse_schema(
      "rand(SymInt[] size, *, Generator? generator, ScalarType? dtype=None, Layout? layout=None, "
      "Device? device=None, bool? pin_memory=None, MemoryFormat? memory_format=None) -> Tensor");
  const auto& a = s.arguments();
  EXPECT_EQ(a[1].type, SchemaType::optional(base(K::Generator)));
  EXPECT_FALSE(a[1].default_value.has_value());
  EXPECT_EQ(a[2].type, SchemaType::optional(base(K::ScalarType)));
  EXPECT_EQ(a[3].type, SchemaType::optional(base(K::Layout)));
  EXPECT_EQ(a[6].type, SchemaType::optional(base(K::MemoryFormat)));
  EXPECT_EQ(parse_schema(s.to_string()), s);
}

TEST(SchemaParser, LayoutAndMemoryFormatDefaultsPrintByName) {
  const FunctionSchema s = parse_schema(
      "f(Layout l=strided, MemoryFormat m=channels_last, MemoryFormat? p=preserve_format) -> ()");
  EXPECT_EQ(*s.arguments()[0].default_value, IValue(int64_t{0}));
  EXPECT_EQ(*s.arguments()[1].default_value,
            IValue(static_cast<int64_t>(MemoryFormat::ChannelsLast)));
  EXPECT_EQ(
      s.to_string(),
      "f(Layout l=strided, MemoryFormat m=channels_last, MemoryFormat? p=preserve_format) -> ()");
  EXPECT_EQ(parse_schema(s.to_string()), s);
}

TEST(SchemaParser, GeneratorOnlyAsAnOptional) {
  EXPECT_NE(first_line(error_of("f(Generator g) -> ()")).find("type Generator is not supported"),
            std::string::npos);
  EXPECT_NE(error_of("f(Generator?[] g) -> ()").find("write Generator?"), std::string::npos);
}

TEST(SchemaParser, UnknownLayoutAndMemoryFormatNamesAreErrors) {
  EXPECT_NE(error_of("f(Layout l=sparse) -> ()").find("unknown Layout 'sparse'"),
            std::string::npos);
  EXPECT_NE(error_of("f(MemoryFormat m=nhwc) -> ()").find("unknown MemoryFormat 'nhwc'"),
            std::string::npos);
}

TEST(SchemaType, GeneratorAcceptsNoValueAndItsOptionalOnlyNone) {
  const SchemaType g = SchemaType::optional(base(K::Generator));
  EXPECT_TRUE(g.accepts(IValue()));
  EXPECT_FALSE(g.accepts(IValue(int64_t{0})));
  EXPECT_TRUE(base(K::MemoryFormat).accepts(IValue(int64_t{3})));
  EXPECT_FALSE(base(K::MemoryFormat).accepts(IValue(int64_t{4})));
  EXPECT_FALSE(base(K::Layout).accepts(IValue(int64_t{1})));
}

}  // namespace
}  // namespace sy
