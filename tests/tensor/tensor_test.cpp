// The tensor layer below the dispatcher: devices, element types, scalars,
// geometry, storage and allocators, TensorImpl's key set, and the Tensor handle.
// Tensors are made with make_tensor / make_view and filled through data_ptr,
// since ops live in a higher layer.
#include "switchyard/tensor/tensor.h"

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "switchyard/autograd/grad_mode.h"
#include "switchyard/core/dispatch_key_set.h"
#include "switchyard/core/error.h"
#include "switchyard/core/intrusive_ptr.h"
#include "switchyard/tensor/array_ref.h"
#include "switchyard/tensor/device.h"
#include "switchyard/tensor/dim_vector.h"
#include "switchyard/tensor/scalar.h"
#include "switchyard/tensor/scalar_type.h"
#include "switchyard/tensor/storage.h"
#include "switchyard/tensor/tensor_impl.h"

namespace sy {

static void PrintTo(DispatchKeySet s, std::ostream* os) { *os << to_string(s); }
static void PrintTo(ScalarType t, std::ostream* os) { *os << to_string(t); }
static void PrintTo(const Device& d, std::ostream* os) { *os << d.str(); }

namespace {

using K = DispatchKey;

const ScalarType kAllScalarTypes[] = {kBool,    kUInt8,   kInt32,   kInt64,
                                      kFloat32, kFloat64, kFloat16, kBFloat16};

std::vector<int64_t> vec(IntArrayRef a) { return a.vec(); }

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// A float32 cpu tensor holding `values` in row-major order.
Tensor float_tensor(IntArrayRef sizes, std::vector<float> values) {
  Tensor t = make_tensor(sizes, kFloat32, kCPU);
  EXPECT_EQ(t.numel(), static_cast<int64_t>(values.size()));
  float* p = t.data_ptr<float>();
  for (size_t i = 0; i < values.size(); ++i) p[i] = values[i];
  return t;
}

template <typename T>
Tensor filled_tensor(IntArrayRef sizes, std::vector<T> values) {
  Tensor t = make_tensor(sizes, scalar_type_of<T>(), kCPU);
  T* p = t.data_ptr<T>();
  for (size_t i = 0; i < values.size(); ++i) p[i] = values[i];
  return t;
}

// Calls data_ptr<T>() with the T of `requested`.
void call_data_ptr(const Tensor& t, ScalarType requested) {
  switch (requested) {
    case ScalarType::Bool: (void)t.data_ptr<bool>(); return;
    case ScalarType::UInt8: (void)t.data_ptr<uint8_t>(); return;
    case ScalarType::Int32: (void)t.data_ptr<int32_t>(); return;
    case ScalarType::Int64: (void)t.data_ptr<int64_t>(); return;
    case ScalarType::Float32: (void)t.data_ptr<float>(); return;
    case ScalarType::Float64: (void)t.data_ptr<double>(); return;
    case ScalarType::Float16: (void)t.data_ptr<Half>(); return;
    case ScalarType::BFloat16: (void)t.data_ptr<BFloat16>(); return;
  }
}

// ---------------------------------------------------------------------------
// Device.

TEST(DeviceParse, AcceptsEveryDeviceTypeAndIndex) {
  struct Case {
    std::string_view text;
    DeviceType type;
    int index;
  };
  const Case cases[] = {
      {"cpu", DeviceType::CPU, -1},
      {"meta", DeviceType::Meta, -1},
      {"cuda", DeviceType::CUDA, -1},
      {"cuda:0", DeviceType::CUDA, 0},
      {"cuda:1", DeviceType::CUDA, 1},
      {"cuda:127", DeviceType::CUDA, 127},
      {"privateuse1", DeviceType::PrivateUse1, -1},
      {"privateuse1:3", DeviceType::PrivateUse1, 3},
      {"cpu:0", DeviceType::CPU, 0},
  };
  for (const Case& c : cases) {
    const Device d(c.text);
    EXPECT_EQ(d.type(), c.type) << c.text;
    EXPECT_EQ(d.index(), c.index) << c.text;
  }
}

TEST(DeviceParse, RejectsBadStringsWithValueError) {
  for (std::string_view bad : {"", "gpu", "CPU", "Cuda", " cpu", "cpu ", "cuda:", "cuda:-1",
                               "cuda:128", "cuda:1x", "cuda:x", ":1", "cuda:1:2", "cuda::1"}) {
    EXPECT_THROW(Device{bad}, ValueError) << '"' << bad << '"';
  }
}

TEST(DeviceParse, ErrorNamesTheBadString) {
  try {
    Device d("gpu:0");
    FAIL() << "no exception for gpu:0, got " << d.str();
  } catch (const ValueError& e) {
    EXPECT_TRUE(contains(e.what(), "gpu")) << e.what();
  }
}

TEST(DeviceParse, ConstCharStringConvertsImplicitly) {
  const Device d = "meta";
  EXPECT_TRUE(d.is_meta());
  EXPECT_EQ(d, kMeta);
}

TEST(DeviceStr, NamesTypeAndIndex) {
  struct Case {
    Device device;
    std::string_view text;
  };
  const Case cases[] = {
      {kCPU, "cpu"},
      {kMeta, "meta"},
      {Device(DeviceType::CUDA), "cuda"},
      {Device(DeviceType::CUDA, 1), "cuda:1"},
      {Device(DeviceType::PrivateUse1), "privateuse1"},
      {Device(DeviceType::PrivateUse1, 0), "privateuse1:0"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.device.str(), c.text);
    EXPECT_EQ(Device(c.device.str()), c.device) << c.text << " does not round-trip";
  }
}

TEST(DeviceStr, EqualityComparesTypeAndIndex) {
  EXPECT_EQ(Device("cuda:1"), Device(DeviceType::CUDA, 1));
  EXPECT_NE(Device("cuda:1"), Device(DeviceType::CUDA, 0));
  EXPECT_NE(Device("cuda"), Device(DeviceType::CUDA, 0));
  EXPECT_NE(kCPU, kMeta);
}

TEST(DeviceTypeKey, BackendKeyForEachDeviceType) {
  EXPECT_EQ(backend_key_for(DeviceType::CPU), K::CPU);
  EXPECT_EQ(backend_key_for(DeviceType::CUDA), K::CUDA);
  EXPECT_EQ(backend_key_for(DeviceType::Meta), K::Meta);
  EXPECT_EQ(backend_key_for(DeviceType::PrivateUse1), K::PrivateUse1);
}

// ---------------------------------------------------------------------------
// ScalarType.

TEST(ScalarTypeName, ToStringNamesEveryType) {
  struct Case {
    ScalarType type;
    std::string_view name;
  };
  const Case cases[] = {
      {kBool, "bool"},       {kUInt8, "uint8"},     {kInt32, "int32"},     {kInt64, "int64"},
      {kFloat32, "float32"}, {kFloat64, "float64"}, {kFloat16, "float16"}, {kBFloat16, "bfloat16"},
  };
  for (const Case& c : cases) EXPECT_EQ(to_string(c.type), c.name);
}

TEST(ScalarTypeName, ParseRoundTripsEveryType) {
  for (ScalarType t : kAllScalarTypes) {
    EXPECT_EQ(parse_scalar_type(to_string(t)), std::optional<ScalarType>(t)) << to_string(t);
  }
}

TEST(ScalarTypeName, ParseAcceptsPyTorchAliases) {
  struct Case {
    std::string_view alias;
    ScalarType type;
  };
  const Case cases[] = {{"float", kFloat32},    {"double", kFloat64}, {"long", kInt64},
                        {"int", kInt32},        {"half", kFloat16},   {"float16", kFloat16},
                        {"bfloat16", kBFloat16}};
  for (const Case& c : cases) {
    EXPECT_EQ(parse_scalar_type(c.alias), std::optional<ScalarType>(c.type)) << c.alias;
  }
}

TEST(ScalarTypeName, ParseRejectsUnknownNames) {
  for (std::string_view bad :
       {"", "Float", "Half", "torch.float32", "float32 ", "int8", "bfloat", "float8"}) {
    EXPECT_FALSE(parse_scalar_type(bad).has_value()) << '"' << bad << '"';
  }
}

TEST(ScalarTypeProperties, ElementSizeAndKind) {
  struct Case {
    ScalarType type;
    int64_t size;
    bool floating;
    bool integral;  // bool excluded
  };
  const Case cases[] = {
      {kBool, 1, false, false},   {kUInt8, 1, false, true},    {kInt32, 4, false, true},
      {kInt64, 8, false, true},   {kFloat32, 4, true, false},  {kFloat64, 8, true, false},
      {kFloat16, 2, true, false}, {kBFloat16, 2, true, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(to_string(c.type));
    EXPECT_EQ(element_size(c.type), c.size);
    EXPECT_EQ(is_floating_point(c.type), c.floating);
    EXPECT_EQ(is_integral(c.type, /*include_bool=*/false), c.integral);
    EXPECT_EQ(is_integral(c.type, /*include_bool=*/true), c.integral || c.type == kBool);
  }
}

static_assert(std::is_same_v<cpp_type_t<kFloat32>, float>);
static_assert(std::is_same_v<cpp_type_t<kInt64>, int64_t>);
static_assert(scalar_type_of<cpp_type_t<kUInt8>>() == kUInt8);
static_assert(scalar_type_of<cpp_type_t<kBool>>() == kBool);

// ---------------------------------------------------------------------------
// Scalar.

TEST(ScalarValue, KindFollowsTheConstructorArgument) {
  EXPECT_EQ(Scalar().kind(), Scalar::Kind::Int);
  EXPECT_EQ(Scalar(true).kind(), Scalar::Kind::Bool);
  EXPECT_EQ(Scalar(3).kind(), Scalar::Kind::Int);
  EXPECT_EQ(Scalar(int64_t{1} << 40).kind(), Scalar::Kind::Int);
  EXPECT_EQ(Scalar(uint8_t{7}).kind(), Scalar::Kind::Int);
  EXPECT_EQ(Scalar(2.5).kind(), Scalar::Kind::Double);
  EXPECT_EQ(Scalar(2.5f).kind(), Scalar::Kind::Double);
}

TEST(ScalarValue, PredicatesMatchKind) {
  EXPECT_TRUE(Scalar(true).is_bool());
  EXPECT_FALSE(Scalar(true).is_integral());
  EXPECT_TRUE(Scalar(3).is_integral());
  EXPECT_FALSE(Scalar(3).is_floating_point());
  EXPECT_TRUE(Scalar(3.0).is_floating_point());
  EXPECT_FALSE(Scalar(3.0).is_integral());
}

TEST(ScalarValue, ToConvertsTheValue) {
  EXPECT_EQ(Scalar(2.75).to<int64_t>(), 2);
  EXPECT_EQ(Scalar(-2.75).to<int>(), -2);
  EXPECT_DOUBLE_EQ(Scalar(3).to<double>(), 3.0);
  EXPECT_EQ(Scalar(true).to<int>(), 1);
  EXPECT_TRUE(Scalar(5).to<bool>());
  EXPECT_FLOAT_EQ(Scalar(0.5).to<float>(), 0.5f);
  EXPECT_EQ(Scalar(int64_t{1} << 40).to<int64_t>(), int64_t{1} << 40);
}

TEST(ScalarValue, TypeIsBoolInt64OrFloat64) {
  EXPECT_EQ(Scalar(false).type(), kBool);
  EXPECT_EQ(Scalar(1).type(), kInt64);
  EXPECT_EQ(Scalar(1.0f).type(), kFloat64);
}

TEST(ScalarValue, StrWritesSchemaText) {
  struct Case {
    Scalar value;
    std::string_view text;
  };
  const Case cases[] = {
      {Scalar(3), "3"},        {Scalar(-7), "-7"},     {Scalar(0), "0"},
      {Scalar(2.5), "2.5"},    {Scalar(1.0), "1."},    {Scalar(-2.0), "-2."},
      {Scalar(0.1), "0.1"},    {Scalar(true), "True"}, {Scalar(false), "False"},
      {Scalar(1e20), "1e+20"},
  };
  for (const Case& c : cases) EXPECT_EQ(c.value.str(), c.text);
}

TEST(ScalarValue, EqualityNeedsSameKindAndValue) {
  EXPECT_EQ(Scalar(1), Scalar(int64_t{1}));
  EXPECT_EQ(Scalar(1.5), Scalar(1.5f));
  EXPECT_FALSE(Scalar(1) == Scalar(1.0));
  EXPECT_FALSE(Scalar(true) == Scalar(1));
  EXPECT_FALSE(Scalar(1) == Scalar(2));
}

// ---------------------------------------------------------------------------
// ArrayRef and DimVector.

TEST(ArrayRefView, ViewsAVectorWithoutCopying) {
  const std::vector<int64_t> v = {2, 3, 4};
  const IntArrayRef a(v);
  EXPECT_EQ(a.data(), v.data());
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(a.back(), 4);
  EXPECT_EQ(a.vec(), v);
  EXPECT_EQ(to_string(a), "[2, 3, 4]");
  EXPECT_EQ(to_string(IntArrayRef()), "[]");
}

TEST(ArrayRefView, EqualityComparesElements) {
  const std::vector<int64_t> a = {1, 2}, b = {1, 2}, c = {1, 3}, d = {1};
  EXPECT_TRUE(IntArrayRef(a) == IntArrayRef(b));
  EXPECT_FALSE(IntArrayRef(a) == IntArrayRef(c));
  EXPECT_FALSE(IntArrayRef(a) == IntArrayRef(d));
}

std::vector<int64_t> iota(size_t n, int64_t start = 1) {
  std::vector<int64_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = start + static_cast<int64_t>(i);
  return v;
}

TEST(DimVectorValues, HoldsValuesUpToAndBeyondTheInlineCapacity) {
  for (size_t n = 0; n <= 12; ++n) {
    const std::vector<int64_t> values = iota(n);
    const DimVector v{IntArrayRef(values)};
    EXPECT_EQ(v.size(), n);
    EXPECT_EQ(vec(v), values) << n << " dims";
  }
}

TEST(DimVectorValues, FillConstructorRepeatsTheValue) {
  const DimVector v(7, 3);
  EXPECT_EQ(vec(v), std::vector<int64_t>(7, 3));
}

TEST(DimVectorValues, CopyOfHeapVectorIsIndependent) {
  const std::vector<int64_t> values = iota(8);
  DimVector original{IntArrayRef(values)};
  DimVector copy = original;
  EXPECT_NE(copy.data(), original.data());
  copy[0] = 100;
  original[7] = 200;
  EXPECT_EQ(original[0], 1);
  EXPECT_EQ(copy[7], 8);
}

TEST(DimVectorValues, CopyOfInlineVectorIsIndependent) {
  DimVector original{IntArrayRef({1, 2, 3})};
  DimVector copy = original;
  copy[0] = 100;
  EXPECT_EQ(original[0], 1);
  EXPECT_EQ(vec(copy), (std::vector<int64_t>{100, 2, 3}));
}

TEST(DimVectorValues, CopyAssignmentAcrossInlineAndHeapSizes) {
  // Every pair of sizes around the inline capacity, in both directions.
  for (size_t from = 0; from <= 9; ++from) {
    for (size_t to = 0; to <= 9; ++to) {
      const std::vector<int64_t> src_values = iota(from, 10);
      const std::vector<int64_t> dst_values = iota(to, 50);
      const DimVector src{IntArrayRef(src_values)};
      DimVector dst{IntArrayRef(dst_values)};
      dst = src;
      ASSERT_EQ(vec(dst), src_values) << from << " dims assigned over " << to;
      ASSERT_EQ(vec(src), src_values);
    }
  }
}

TEST(DimVectorValues, SelfAssignmentKeepsValues) {
  const std::vector<int64_t> values = iota(7);
  DimVector v{IntArrayRef(values)};
  DimVector& same = v;
  v = same;
  EXPECT_EQ(vec(v), values);
}

TEST(DimVectorValues, ReassigningShrinkingAndGrowingKeepsValues) {
  DimVector v;
  for (size_t n : {8u, 3u, 7u, 10u, 6u, 0u, 5u, 9u}) {
    const std::vector<int64_t> values = iota(n, static_cast<int64_t>(n) * 100);
    v = IntArrayRef(values);
    ASSERT_EQ(vec(v), values) << n << " dims";
  }
}

// ---------------------------------------------------------------------------
// IntrusivePtr.

struct Counted : RefCounted {
  explicit Counted(int* destroyed, int value = 0) : destroyed(destroyed), value(value) {}
  ~Counted() override { ++*destroyed; }
  int* destroyed;
  int value;
};
struct DerivedCounted : Counted {
  using Counted::Counted;
};

TEST(IntrusivePtrCounting, MakeOwnsOneReference) {
  int destroyed = 0;
  auto p = IntrusivePtr<Counted>::make(&destroyed, 7);
  EXPECT_EQ(p->use_count(), 1u);
  EXPECT_EQ(p->value, 7);
  EXPECT_TRUE(p);
}

TEST(IntrusivePtrCounting, CopyAddsAReferenceToTheSameObject) {
  int destroyed = 0;
  auto p = IntrusivePtr<Counted>::make(&destroyed);
  IntrusivePtr<Counted> q = p;
  EXPECT_EQ(q.get(), p.get());
  EXPECT_EQ(p->use_count(), 2u);
  EXPECT_TRUE(p == q);
}

TEST(IntrusivePtrCounting, MoveTransfersTheReference) {
  int destroyed = 0;
  auto p = IntrusivePtr<Counted>::make(&destroyed);
  Counted* raw = p.get();
  IntrusivePtr<Counted> q = std::move(p);
  EXPECT_FALSE(p);  // NOLINT(bugprone-use-after-move): moved-from is null by contract
  EXPECT_EQ(q.get(), raw);
  EXPECT_EQ(q->use_count(), 1u);
}

TEST(IntrusivePtrCounting, ConvertingMoveFromDerivedKeepsTheCount) {
  int destroyed = 0;
  auto d = IntrusivePtr<DerivedCounted>::make(&destroyed);
  IntrusivePtr<Counted> base = std::move(d);
  EXPECT_FALSE(d);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(base->use_count(), 1u);
  base.reset();
  EXPECT_EQ(destroyed, 1);
}

TEST(IntrusivePtrCounting, CopyAssignmentReleasesTheOldObject) {
  int destroyed_a = 0, destroyed_b = 0;
  auto a = IntrusivePtr<Counted>::make(&destroyed_a);
  auto b = IntrusivePtr<Counted>::make(&destroyed_b);
  a = b;
  EXPECT_EQ(destroyed_a, 1);
  EXPECT_EQ(destroyed_b, 0);
  EXPECT_EQ(b->use_count(), 2u);
}

TEST(IntrusivePtrCounting, MoveAssignmentReleasesTheOldObject) {
  int destroyed_a = 0, destroyed_b = 0;
  auto a = IntrusivePtr<Counted>::make(&destroyed_a);
  auto b = IntrusivePtr<Counted>::make(&destroyed_b);
  a = std::move(b);
  EXPECT_EQ(destroyed_a, 1);
  EXPECT_EQ(a->use_count(), 1u);
  EXPECT_FALSE(b);  // NOLINT(bugprone-use-after-move)
}

TEST(IntrusivePtrCounting, SelfCopyAssignmentKeepsTheCount) {
  int destroyed = 0;
  auto p = IntrusivePtr<Counted>::make(&destroyed);
  IntrusivePtr<Counted>& same = p;
  p = same;
  EXPECT_EQ(p->use_count(), 1u);
  EXPECT_EQ(destroyed, 0);
}

TEST(IntrusivePtrCounting, DestroysExactlyOnceWhenTheLastReferenceGoes) {
  int destroyed = 0;
  {
    auto p = IntrusivePtr<Counted>::make(&destroyed);
    {
      IntrusivePtr<Counted> q = p;
      IntrusivePtr<Counted> r = q;
      EXPECT_EQ(p->use_count(), 3u);
    }
    EXPECT_EQ(destroyed, 0);
    EXPECT_EQ(p->use_count(), 1u);
  }
  EXPECT_EQ(destroyed, 1);
}

TEST(IntrusivePtrCounting, ShareAddsAReferenceAndAdoptDoesNot) {
  int destroyed = 0;
  auto p = IntrusivePtr<Counted>::make(&destroyed);
  {
    auto shared = IntrusivePtr<Counted>::share(p.get());
    EXPECT_EQ(p->use_count(), 2u);
  }
  EXPECT_EQ(p->use_count(), 1u);
  Counted* raw = p.release();
  EXPECT_FALSE(p);
  EXPECT_EQ(raw->use_count(), 1u);
  {
    auto adopted = IntrusivePtr<Counted>::adopt(raw);
    EXPECT_EQ(adopted->use_count(), 1u);
  }
  EXPECT_EQ(destroyed, 1);
}

TEST(IntrusivePtrCounting, NullPointerIsFalseAndSafeToCopy) {
  IntrusivePtr<Counted> p = nullptr;
  IntrusivePtr<Counted> q = p;
  EXPECT_FALSE(p);
  EXPECT_FALSE(q);
  EXPECT_EQ(IntrusivePtr<Counted>::share(nullptr).get(), nullptr);
}

TEST(IntrusivePtrCounting, SwapExchangesObjects) {
  int destroyed = 0;
  auto a = IntrusivePtr<Counted>::make(&destroyed, 1);
  auto b = IntrusivePtr<Counted>::make(&destroyed, 2);
  a.swap(b);
  EXPECT_EQ(a->value, 2);
  EXPECT_EQ(b->value, 1);
  EXPECT_EQ(destroyed, 0);
}

// ---------------------------------------------------------------------------
// make_tensor: geometry.

TEST(MakeTensor, SizesStridesAndNumel) {
  struct Case {
    std::vector<int64_t> sizes;
    std::vector<int64_t> strides;
    int64_t numel;
  };
  const Case cases[] = {
      {{}, {}, 1},
      {{5}, {1}, 5},
      {{2, 3}, {3, 1}, 6},
      {{2, 3, 4}, {12, 4, 1}, 24},
      {{4, 1, 2}, {2, 2, 1}, 8},
      {{2, 0, 3}, {3, 3, 1}, 0},
      {{1, 1, 1, 1, 1, 1, 2}, {2, 2, 2, 2, 2, 2, 1}, 2},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(to_string(IntArrayRef(c.sizes)));
    const Tensor t = make_tensor(c.sizes, kFloat32, kCPU);
    EXPECT_EQ(vec(t.sizes()), c.sizes);
    EXPECT_EQ(vec(t.strides()), c.strides);
    EXPECT_EQ(t.numel(), c.numel);
    EXPECT_EQ(t.dim(), static_cast<int64_t>(c.sizes.size()));
    EXPECT_TRUE(t.is_contiguous());
    EXPECT_EQ(t.storage_offset(), 0);
  }
}

TEST(MakeTensor, StorageHoldsNumelTimesElementSizeBytes) {
  for (ScalarType dtype : kAllScalarTypes) {
    const Tensor t = make_tensor({2, 3}, dtype, kCPU);
    EXPECT_EQ(t.dtype(), dtype);
    EXPECT_EQ(t.impl()->storage()->nbytes(), static_cast<size_t>(6 * element_size(dtype)))
        << to_string(dtype);
    EXPECT_NE(t.raw_data(), nullptr) << to_string(dtype);
  }
}

TEST(MakeTensor, CpuDataIsAlignedTo64Bytes) {
  const Tensor t = make_tensor({3}, kUInt8, kCPU);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % 64, 0u);
}

TEST(MakeTensor, NegativeSizeIsValueError) {
  EXPECT_THROW(make_tensor({2, -1}, kFloat32, kCPU), ValueError);
}

TEST(MakeTensor, DeviceAndDefaults) {
  const Tensor t = make_tensor({2}, kInt64, kCPU);
  EXPECT_EQ(t.device(), kCPU);
  EXPECT_FALSE(t.is_meta());
  EXPECT_FALSE(t.requires_grad());
  EXPECT_EQ(t.use_count(), 1u);
}

TEST(ContiguousStrides, RowMajorIgnoringEmptyAndUnitDims) {
  EXPECT_EQ(vec(contiguous_strides({})), std::vector<int64_t>{});
  EXPECT_EQ(vec(contiguous_strides({2, 3, 4})), (std::vector<int64_t>{12, 4, 1}));
  EXPECT_EQ(vec(contiguous_strides({3, 0, 2})), (std::vector<int64_t>{2, 2, 1}));
  EXPECT_EQ(vec(contiguous_strides({2, 2, 2, 2, 2, 2})),
            (std::vector<int64_t>{32, 16, 8, 4, 2, 1}));
}

// ---------------------------------------------------------------------------
// make_view.

TEST(MakeView, SharesTheBaseStorage) {
  const Tensor base = make_tensor({2, 3}, kFloat32, kCPU);
  const Tensor view = make_view(base, {3}, {1}, 3);
  EXPECT_EQ(view.impl()->storage().get(), base.impl()->storage().get());
  EXPECT_FALSE(view.is_same(base));
}

TEST(MakeView, WriteThroughViewIsSeenByTheBase) {
  const Tensor base = float_tensor({2, 3}, {0, 1, 2, 3, 4, 5});
  const Tensor row1 = make_view(base, {3}, {1}, 3);
  row1.data_ptr<float>()[1] = 42.f;
  EXPECT_EQ(base.data_ptr<float>()[4], 42.f);
}

TEST(MakeView, WriteThroughBaseIsSeenByTheView) {
  const Tensor base = float_tensor({2, 3}, {0, 1, 2, 3, 4, 5});
  const Tensor row1 = make_view(base, {3}, {1}, 3);
  base.data_ptr<float>()[5] = -1.f;
  EXPECT_EQ(row1.data_ptr<float>()[2], -1.f);
}

TEST(MakeView, DataPointerIsOffsetByStorageOffset) {
  const Tensor base = make_tensor({10}, kInt64, kCPU);
  const Tensor view = make_view(base, {4}, {1}, 6);
  EXPECT_EQ(view.data_ptr<int64_t>(), base.data_ptr<int64_t>() + 6);
  EXPECT_EQ(view.storage_offset(), 6);
}

TEST(MakeView, KeepsTheStorageAliveAfterTheBaseIsGone) {
  Tensor base = float_tensor({4}, {1, 2, 3, 4});
  const Tensor view = make_view(base, {2}, {1}, 2);
  base = Tensor();
  EXPECT_EQ(view.data_ptr<float>()[0], 3.f);
  EXPECT_EQ(view.data_ptr<float>()[1], 4.f);
}

TEST(MakeView, IsAPlainTensorOutsideAutograd) {
  // View tracking and requires_grad of views are autograd's business (the view
  // ops' ADInplaceOrView and Autograd kernels), not make_view's.
  const Tensor base = make_tensor({4}, kFloat32, kCPU);
  base.requires_grad_();
  const Tensor view = make_view(base, {2}, {2}, 0);
  EXPECT_FALSE(view.requires_grad());
  EXPECT_EQ(view.key_set(), (DispatchKeySet{K::CPU, K::ADInplaceOrView}));
}

TEST(MakeView, SharesTheVersionCounter) {
  const Tensor base = make_tensor({4}, kFloat32, kCPU);
  const Tensor view = make_view(base, {2}, {2}, 0);
  view.impl()->bump_version();
  EXPECT_EQ(base._version(), 1u);
}

TEST(MakeView, ContiguityFollowsTheStrides) {
  struct Case {
    std::vector<int64_t> sizes;
    std::vector<int64_t> strides;
    bool contiguous;
  };
  const Case cases[] = {
      {{2, 3}, {3, 1}, true},
      {{3, 2}, {1, 3}, false},         // a transpose
      {{3}, {2}, false},               // every other element
      {{2, 1, 3}, {3, 100, 1}, true},  // a size-1 dim's stride does not matter
      {{1}, {7}, true},
      {{0, 3}, {7, 7}, true},  // no elements
      {{}, {}, true},
  };
  const Tensor base = make_tensor({64}, kFloat32, kCPU);
  for (const Case& c : cases) {
    const Tensor view = make_view(base, c.sizes, c.strides, 0);
    EXPECT_EQ(view.is_contiguous(), c.contiguous)
        << to_string(IntArrayRef(c.sizes)) << " strides " << to_string(IntArrayRef(c.strides));
  }
}

// ---------------------------------------------------------------------------
// Key set and requires_grad.

TEST(TensorKeySet, BackendAndADInplaceOrViewPlusAutogradWhenRequiresGrad) {
  struct Case {
    Device device;
    bool requires_grad;
    DispatchKeySet keys;
  };
  const Case cases[] = {
      {kCPU, false, DispatchKeySet{K::CPU, K::ADInplaceOrView}},
      {kCPU, true, DispatchKeySet{K::CPU, K::ADInplaceOrView, K::AutogradCPU}},
      {kMeta, false, DispatchKeySet{K::Meta, K::ADInplaceOrView}},
      {kMeta, true, DispatchKeySet{K::Meta, K::ADInplaceOrView, K::AutogradMeta}},
  };
  for (const Case& c : cases) {
    const Tensor t = make_tensor({2}, kFloat32, c.device);
    if (c.requires_grad) t.requires_grad_();
    EXPECT_EQ(t.key_set(), c.keys) << c.device.str() << " requires_grad=" << c.requires_grad;
  }
}

TEST(TensorKeySet, ClearingRequiresGradDropsAutogradKeys) {
  const Tensor t = make_tensor({2}, kFloat64, kCPU);
  t.requires_grad_(true);
  t.requires_grad_(false);
  EXPECT_FALSE(t.requires_grad());
  EXPECT_EQ(t.key_set(), (DispatchKeySet{K::CPU, K::ADInplaceOrView}));
}

TEST(TensorKeySet, InferenceTensorsHaveNoADInplaceOrView) {
  InferenceMode guard;
  const Tensor t = make_tensor({2}, kFloat32, kCPU);
  EXPECT_EQ(t.key_set(), DispatchKeySet(K::CPU));
}

TEST(TensorKeySet, SetGeometryKeepsTheKeySet) {
  const Tensor t = make_tensor({6}, kFloat32, kCPU);
  t.requires_grad_();
  const DispatchKeySet before = t.key_set();
  t.impl()->set_geometry({2, 3}, {3, 1}, 0);
  EXPECT_EQ(t.key_set(), before);
  EXPECT_EQ(vec(t.sizes()), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(t.numel(), 6);
}

TEST(RequiresGrad, NonFloatingTensorThrowsAutogradError) {
  for (ScalarType dtype : {kBool, kUInt8, kInt32, kInt64}) {
    const Tensor t = make_tensor({2}, dtype, kCPU);
    EXPECT_THROW(t.requires_grad_(), AutogradError) << to_string(dtype);
    EXPECT_FALSE(t.requires_grad()) << to_string(dtype);
    EXPECT_EQ(t.key_set(), (DispatchKeySet{K::CPU, K::ADInplaceOrView})) << to_string(dtype);
  }
}

TEST(RequiresGrad, ErrorNamesTheDtype) {
  const Tensor t = make_tensor({2}, kInt64, kCPU);
  try {
    t.requires_grad_();
    FAIL() << "no exception";
  } catch (const AutogradError& e) {
    EXPECT_TRUE(contains(e.what(), "int64")) << e.what();
  }
}

TEST(RequiresGrad, FalseOnNonFloatingTensorIsAllowed) {
  const Tensor t = make_tensor({2}, kInt32, kCPU);
  EXPECT_NO_THROW(t.requires_grad_(false));
}

TEST(RequiresGrad, IsSharedByCopiesOfTheHandle) {
  const Tensor t = make_tensor({2}, kFloat32, kCPU);
  const Tensor copy = t;
  t.requires_grad_();
  EXPECT_TRUE(copy.requires_grad());
}

// ---------------------------------------------------------------------------
// size / stride with dims.

TEST(TensorDims, NegativeDimsCountFromTheEnd) {
  const Tensor t = make_tensor({2, 3, 4}, kFloat32, kCPU);
  const int64_t expected_sizes[] = {2, 3, 4};
  const int64_t expected_strides[] = {12, 4, 1};
  for (int64_t d = -3; d < 3; ++d) {
    const int64_t index = d < 0 ? d + 3 : d;
    EXPECT_EQ(t.size(d), expected_sizes[index]) << "dim " << d;
    EXPECT_EQ(t.stride(d), expected_strides[index]) << "dim " << d;
  }
}

TEST(TensorDims, OutOfRangeDimIsIndexError) {
  const Tensor t = make_tensor({2, 3, 4}, kFloat32, kCPU);
  for (int64_t d : {3, 4, 100, -4, -5, -100}) {
    EXPECT_THROW((void)t.size(d), IndexError) << "size(" << d << ")";
    EXPECT_THROW((void)t.stride(d), IndexError) << "stride(" << d << ")";
  }
}

TEST(TensorDims, IndexErrorNamesTheValidRange) {
  const Tensor t = make_tensor({2, 3}, kFloat32, kCPU);
  try {
    (void)t.size(2);
    FAIL() << "no exception";
  } catch (const IndexError& e) {
    EXPECT_TRUE(contains(e.what(), "[-2, 1]")) << e.what();
  }
}

TEST(TensorDims, OutOfRangeDimOnZeroDimTensorIsIndexError) {
  // A 0-d tensor accepts at most dims -1 and 0 (PyTorch's scalar wrapping);
  // anything further out is an error, as for any other tensor.
  const Tensor t = make_tensor({}, kFloat32, kCPU);
  for (int64_t d : {1, 2, -2, 100}) {
    EXPECT_THROW((void)t.size(d), IndexError) << "size(" << d << ")";
    EXPECT_THROW((void)t.stride(d), IndexError) << "stride(" << d << ")";
  }
}

// ---------------------------------------------------------------------------
// item().

TEST(Item, ReadsTheOneElementOfEveryDtype) {
  EXPECT_EQ(filled_tensor<bool>({1}, {true}).item(), Scalar(true));
  EXPECT_EQ(filled_tensor<uint8_t>({1}, {200}).item(), Scalar(200));
  EXPECT_EQ(filled_tensor<int32_t>({1}, {-5}).item(), Scalar(-5));
  EXPECT_EQ(filled_tensor<int64_t>({1}, {int64_t{1} << 40}).item(), Scalar(int64_t{1} << 40));
  EXPECT_EQ(filled_tensor<float>({1}, {2.5f}).item(), Scalar(2.5));
  EXPECT_EQ(filled_tensor<double>({1}, {-0.125}).item(), Scalar(-0.125));
}

TEST(Item, WorksOnZeroDimAndOnesShapedTensors) {
  EXPECT_EQ(float_tensor({}, {3.f}).item<float>(), 3.f);
  EXPECT_EQ(float_tensor({1, 1, 1}, {4.f}).item<int>(), 4);
}

TEST(Item, ReadsAtTheViewsOffset) {
  const Tensor base = float_tensor({3}, {1, 2, 3});
  EXPECT_EQ(make_view(base, {}, {}, 2).item<float>(), 3.f);
}

TEST(Item, ManyElementsIsValueError) {
  const Tensor t = float_tensor({2}, {1, 2});
  EXPECT_THROW(t.item(), ValueError);
}

TEST(Item, NoElementsIsValueError) {
  const Tensor t = make_tensor({0}, kFloat32, kCPU);
  EXPECT_THROW(t.item(), ValueError);
}

TEST(Item, MetaTensorIsValueError) {
  const Tensor t = make_tensor({}, kFloat32, kMeta);
  try {
    t.item();
    FAIL() << "no exception";
  } catch (const ValueError& e) {
    EXPECT_TRUE(contains(e.what(), "meta")) << e.what();
  }
}

// ---------------------------------------------------------------------------
// data_ptr, meta tensors, undefined tensors.

TEST(DataPtr, ThrowsTypeErrorExactlyWhenTheTypeDiffers) {
  for (ScalarType actual : kAllScalarTypes) {
    const Tensor t = make_tensor({2}, actual, kCPU);
    for (ScalarType requested : kAllScalarTypes) {
      SCOPED_TRACE(std::string(to_string(requested)) + " from " + std::string(to_string(actual)));
      if (requested == actual) {
        EXPECT_NO_THROW(call_data_ptr(t, requested));
      } else {
        EXPECT_THROW(call_data_ptr(t, requested), TypeError);
      }
    }
  }
}

TEST(DataPtr, TypeErrorNamesBothTypes) {
  const Tensor t = make_tensor({2}, kFloat32, kCPU);
  try {
    (void)t.data_ptr<int64_t>();
    FAIL() << "no exception";
  } catch (const TypeError& e) {
    EXPECT_TRUE(contains(e.what(), "int64")) << e.what();
    EXPECT_TRUE(contains(e.what(), "float32")) << e.what();
  }
}

TEST(MetaTensor, HasNoData) {
  const Tensor t = make_tensor({2, 3}, kFloat32, kMeta);
  EXPECT_TRUE(t.is_meta());
  EXPECT_EQ(t.raw_data(), nullptr);
  EXPECT_EQ(t.impl()->storage()->data(), nullptr);
  EXPECT_EQ(t.impl()->storage()->nbytes(), 24u);
}

TEST(MetaTensor, DataPtrIsValueError) {
  const Tensor t = make_tensor({2, 3}, kFloat32, kMeta);
  EXPECT_THROW((void)t.data_ptr<float>(), ValueError);
}

TEST(MetaTensor, KeepsGeometry) {
  const Tensor t = make_tensor({2, 3}, kFloat64, kMeta);
  EXPECT_EQ(vec(t.sizes()), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(vec(t.strides()), (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.dtype(), kFloat64);
}

TEST(UndefinedTensor, MetadataAccessIsValueError) {
  const Tensor t;
  EXPECT_FALSE(t.defined());
  EXPECT_EQ(t.use_count(), 0u);
  EXPECT_THROW((void)t.sizes(), ValueError);
  EXPECT_THROW((void)t.dim(), ValueError);
  EXPECT_THROW((void)t.item(), ValueError);
  EXPECT_THROW((void)t.data_ptr<float>(), ValueError);
  EXPECT_EQ(t.to_string(), "tensor(undefined)");
}

TEST(TensorHandle, CopiesShareTheImplAndCountUses) {
  const Tensor t = make_tensor({2}, kFloat32, kCPU);
  {
    const Tensor copy = t;
    EXPECT_TRUE(copy.is_same(t));
    EXPECT_EQ(t.use_count(), 2u);
  }
  EXPECT_EQ(t.use_count(), 1u);
}

TEST(TensorHandle, ViewHoldsAReferenceToTheStorageNotTheImpl) {
  const Tensor base = make_tensor({4}, kFloat32, kCPU);
  const Tensor view = make_view(base, {2}, {1}, 0);
  EXPECT_EQ(base.use_count(), 1u);
  EXPECT_EQ(base.impl()->storage()->use_count(), 2u);
}

// ---------------------------------------------------------------------------
// Allocators.

// Counts allocations and frees; frees go through the DataPtr's context.
class CountingAllocator final : public Allocator {
 public:
  DataPtr allocate(size_t nbytes) override {
    ++allocations;
    last_nbytes = nbytes;
    void* p = std::aligned_alloc(64, (nbytes + 63) / 64 * 64 + 64);
    return {p,
            [](void* data, void* context) {
              ++static_cast<CountingAllocator*>(context)->frees;
              std::free(data);
            },
            this};
  }
  int allocations = 0;
  int frees = 0;
  size_t last_nbytes = 0;
};

// Installs an allocator for PrivateUse1 and removes it again, also when a test fails.
class ScopedPrivateUse1Allocator {
 public:
  explicit ScopedPrivateUse1Allocator(Allocator* a) { set_allocator(DeviceType::PrivateUse1, a); }
  ~ScopedPrivateUse1Allocator() { set_allocator(DeviceType::PrivateUse1, nullptr); }
  ScopedPrivateUse1Allocator(const ScopedPrivateUse1Allocator&) = delete;
  ScopedPrivateUse1Allocator& operator=(const ScopedPrivateUse1Allocator&) = delete;
};

TEST(PrivateUse1Allocator, WithoutAllocatorMakingATensorNamesSetAllocator) {
  try {
    const Tensor t = make_tensor({2}, kFloat32, Device("privateuse1"));
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "set_allocator")) << e.what();
    EXPECT_TRUE(contains(e.what(), "PrivateUse1")) << e.what();
  }
}

TEST(PrivateUse1Allocator, GetAllocatorWithoutOneThrows) {
  EXPECT_THROW(get_allocator(DeviceType::PrivateUse1), Error);
}

TEST(PrivateUse1Allocator, InstalledAllocatorIsReturned) {
  CountingAllocator allocator;
  ScopedPrivateUse1Allocator installed(&allocator);
  EXPECT_EQ(&get_allocator(DeviceType::PrivateUse1), &allocator);
}

TEST(PrivateUse1Allocator, TensorAllocatesOnceAndFreesOnceOnDestruction) {
  CountingAllocator allocator;
  ScopedPrivateUse1Allocator installed(&allocator);
  {
    const Tensor t = make_tensor({2, 3}, kFloat32, Device("privateuse1"));
    EXPECT_EQ(allocator.allocations, 1);
    EXPECT_EQ(allocator.last_nbytes, 24u);
    EXPECT_EQ(allocator.frees, 0);
  }
  EXPECT_EQ(allocator.allocations, 1);
  EXPECT_EQ(allocator.frees, 1);
}

TEST(PrivateUse1Allocator, ViewsShareOneAllocation) {
  CountingAllocator allocator;
  ScopedPrivateUse1Allocator installed(&allocator);
  {
    Tensor base = make_tensor({4}, kFloat32, Device("privateuse1"));
    const Tensor view = make_view(base, {2}, {1}, 2);
    base = Tensor();
    EXPECT_EQ(allocator.frees, 0);
  }
  EXPECT_EQ(allocator.allocations, 1);
  EXPECT_EQ(allocator.frees, 1);
}

TEST(PrivateUse1Allocator, TensorCarriesThePrivateUse1Keys) {
  CountingAllocator allocator;
  ScopedPrivateUse1Allocator installed(&allocator);
  const Tensor t = make_tensor({2}, kFloat32, Device("privateuse1"));
  EXPECT_EQ(t.key_set(), (DispatchKeySet{K::PrivateUse1, K::ADInplaceOrView}));
  t.requires_grad_();
  EXPECT_EQ(t.key_set(),
            (DispatchKeySet{K::PrivateUse1, K::ADInplaceOrView, K::AutogradPrivateUse1}));
}

TEST(PrivateUse1Allocator, ItemIsValueErrorOffTheHost) {
  CountingAllocator allocator;
  ScopedPrivateUse1Allocator installed(&allocator);
  const Tensor t = make_tensor({}, kFloat32, Device("privateuse1"));
  EXPECT_THROW(t.item(), ValueError);
}

TEST(WrappedStorage, NullDeleterMeansNotOwned) {
  float buffer[4] = {1, 2, 3, 4};
  {
    auto storage = Storage::make(DataPtr{buffer, nullptr, nullptr}, sizeof(buffer), kCPU);
    const Tensor t(
        IntrusivePtr<TensorImpl>::make(storage, kFloat32, IntArrayRef{4}, IntArrayRef{1}, 0));
    EXPECT_EQ(t.data_ptr<float>(), buffer);
  }
  EXPECT_EQ(buffer[3], 4.f);
}

// ---------------------------------------------------------------------------
// to_string, compared with what PyTorch prints for the same tensor.

TEST(TensorToString, TwoByTwoFloatMatchesPyTorch) {
  const Tensor t = float_tensor({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(t.to_string(),
            "tensor([[1., 2.],\n"
            "        [3., 4.]])");
}

TEST(TensorToString, ThreeDimFloatMatchesPyTorch) {
  const Tensor t = float_tensor({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  EXPECT_EQ(t.to_string(),
            "tensor([[[1., 2.],\n"
            "         [3., 4.]],\n"
            "\n"
            "        [[5., 6.],\n"
            "         [7., 8.]]])");
}

TEST(TensorToString, OneDimAndZeroDimFloatMatchPyTorch) {
  EXPECT_EQ(float_tensor({3}, {1, 2, 3}).to_string(), "tensor([1., 2., 3.])");
  EXPECT_EQ(float_tensor({}, {3}).to_string(), "tensor(3.)");
  EXPECT_EQ(make_tensor({0}, kFloat32, kCPU).to_string(), "tensor([])");
}

TEST(TensorToString, FractionalFloatsPrintFourDecimalsLikePyTorch) {
  // PyTorch formats every element of a tensor alike: with any fractional
  // element, all print with 4 decimals.
  EXPECT_EQ(float_tensor({2}, {1.0f, 2.5f}).to_string(), "tensor([1.0000, 2.5000])");
}

TEST(TensorToString, ElementsArePaddedToACommonWidthLikePyTorch) {
  EXPECT_EQ(float_tensor({2}, {-1.0f, 2.0f}).to_string(), "tensor([-1.,  2.])");
}

TEST(TensorToString, IntegersMatchPyTorch) {
  EXPECT_EQ(filled_tensor<int64_t>({3}, {1, 2, 3}).to_string(), "tensor([1, 2, 3])");
}

TEST(TensorToString, BoolsArePaddedToACommonWidthLikePyTorch) {
  EXPECT_EQ(filled_tensor<bool>({2}, {true, false}).to_string(), "tensor([ True, False])");
}

TEST(TensorToString, NonDefaultDtypeIsNamed) {
  EXPECT_EQ(filled_tensor<double>({2}, {1, 2}).to_string(), "tensor([1., 2.], dtype=sy.float64)");
  EXPECT_EQ(filled_tensor<int32_t>({2}, {1, 2}).to_string(), "tensor([1, 2], dtype=sy.int32)");
}

TEST(TensorToString, RequiresGradIsShown) {
  const Tensor t = float_tensor({2}, {1, 2});
  t.requires_grad_();
  EXPECT_EQ(t.to_string(), "tensor([1., 2.], requires_grad=True)");
}

TEST(TensorToString, StridedViewPrintsTheElementsItViews) {
  const Tensor base = float_tensor({5}, {1, 2, 3, 4, 5});
  EXPECT_EQ(make_view(base, {2}, {2}, 1).to_string(), "tensor([2., 4.])");
}

TEST(TensorToString, MetaTensorShowsDeviceThenSizeLikePyTorch) {
  // PyTorch: tensor(..., device='meta', size=(2, 3)) and, for a 1-d int64
  // tensor, tensor(..., device='meta', size=(2,), dtype=torch.int64).
  EXPECT_EQ(make_tensor({2, 3}, kFloat32, kMeta).to_string(),
            "tensor(..., device='meta', size=(2, 3))");
  EXPECT_EQ(make_tensor({2}, kInt64, kMeta).to_string(),
            "tensor(..., device='meta', size=(2,), dtype=sy.int64)");
}

TEST(TensorToString, MetaTensorShowsRequiresGrad) {
  const Tensor t = make_tensor({2}, kFloat32, kMeta);
  t.requires_grad_();
  EXPECT_TRUE(contains(t.to_string(), "requires_grad=True")) << t.to_string();
}

}  // namespace
}  // namespace sy
