// Regressions from an outside round of hostile probes (issue 12), at the C++ API:
// each was a crash or a silently wrong answer, and is now a defined value or a
// clear sy::Error.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "switchyard/switchyard.h"

namespace sy {
namespace {

// The values of a contiguous tensor, read without calling an op.
template <typename T>
std::vector<T> values(const Tensor& t) {
  EXPECT_TRUE(t.is_contiguous());
  const T* p = t.data_ptr<T>();
  return std::vector<T>(p, p + t.numel());
}

template <typename E, typename F>
void expect_error(F stmt, const std::string& needle) {
  try {
    stmt();
    ADD_FAILURE() << "no exception; expected one mentioning '" << needle << "'";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

// See Note [Integer division overflow].
template <typename T>
void check_min_divided_by_minus_one(ScalarType dtype) {
  const T low = std::numeric_limits<T>::min();
  const Tensor a = tensor({int64_t{low}, int64_t{low}, 7}, TensorOptions().dtype(dtype));
  const Tensor b = tensor({-1, 1, -1}, TensorOptions().dtype(dtype));
  EXPECT_EQ(values<T>(div(a, b, "trunc")), (std::vector<T>{low, low, -7}));
  EXPECT_EQ(values<T>(div(a, b, "floor")), (std::vector<T>{low, low, -7}));
  EXPECT_EQ(values<T>(floor_divide(a, Scalar(-1))), (std::vector<T>{low, low, -7}));
  EXPECT_EQ(values<T>(remainder(a, b)), (std::vector<T>{0, 0, 0}));
  EXPECT_EQ(values<T>(remainder(a, Scalar(-1))), (std::vector<T>{0, 0, 0}));
}

TEST(IntegerDivision, MinimumByMinusOneWrapsInsteadOfTrapping) {
  check_min_divided_by_minus_one<int64_t>(kInt64);
  check_min_divided_by_minus_one<int32_t>(kInt32);
}

TEST(ZeroSizeDims, EmptyTensorsNeverOverlap) {
  EXPECT_EQ(zeros({3, 0}).sizes(), IntArrayRef({3, 0}));
  EXPECT_EQ(ones({2, 0, 3}).sizes(), IntArrayRef({2, 0, 3}));
  EXPECT_EQ(zeros({3, 0}).clone().sizes(), IntArrayRef({3, 0}));
  EXPECT_EQ(cat({zeros({3, 0}), zeros({2, 0})}, 0).sizes(), IntArrayRef({5, 0}));
  EXPECT_EQ(values<float>(mm(ones({2, 0}), ones({0, 3}))), std::vector<float>(6, 0.0f));
  EXPECT_EQ(matmul(ones({3}), ones({3, 0})).sizes(), IntArrayRef({0}));
}

TEST(Relu, KeepsNaNAndNegativeZero) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> r = values<float>(relu(tensor({nan, -0.0f, -1.0f, 2.0f})));
  EXPECT_TRUE(std::isnan(r[0]));
  EXPECT_TRUE(r[1] == 0.0f && std::signbit(r[1]));
  EXPECT_EQ(r[2], 0.0f);
  EXPECT_FALSE(std::signbit(r[2]));
  EXPECT_EQ(r[3], 2.0f);
}

TEST(ScalarConversion, TrueDivisionPromotesBeforeConvertingTheScalar) {
  const Tensor u8 = tensor({10, 200}, TensorOptions().dtype(kUInt8));
  EXPECT_FLOAT_EQ(values<float>(div(u8, Scalar(256)))[0], 10.0f / 256);
  EXPECT_FLOAT_EQ(values<float>(div(u8, Scalar(-3)))[1], 200.0f / -3);
  EXPECT_FLOAT_EQ(values<float>(Scalar(256) / u8)[0], 25.6f);
}

TEST(ScalarConversion, OutOfRangeValuesAreErrors) {
  expect_error<ValueError>([] { zeros({2}, TensorOptions().dtype(kUInt8)).fill_(1000); },
                           "1000 cannot be converted to uint8");
  expect_error<ValueError>([] { zeros({2}, TensorOptions().dtype(kInt64)).fill_(std::nan("")); },
                           "nan");
  expect_error<ValueError>([] { full({2}, 300, TensorOptions().dtype(kUInt8)); }, "300");
  expect_error<ValueError>([] { tensor({300}, TensorOptions().dtype(kUInt8)); }, "300");
  expect_error<ValueError>(
      [] { pow(tensor({2}, TensorOptions().dtype(kInt32)), Scalar(int64_t{1} << 40)); },
      "exponent");
  expect_error<ValueError>([] { pow(tensor({2}, TensorOptions().dtype(kUInt8)), Scalar(-1)); },
                           "negative power");
  expect_error<ValueError>(
      [] { clamp(zeros({2}, TensorOptions().dtype(kUInt8)), Scalar(0), Scalar(1000)); }, "max");
  // What PyTorch accepts: negatives wrap into unsigned types, floats truncate.
  EXPECT_EQ(values<uint8_t>(zeros({1}, TensorOptions().dtype(kUInt8)).fill_(-1)),
            (std::vector<uint8_t>{255}));
  EXPECT_EQ(values<int64_t>(tensor({1.5, -2.7}, TensorOptions().dtype(kInt64))),
            (std::vector<int64_t>{1, -2}));
}

TEST(Devices, MixingCpuAndMetaIsAnError) {
  const Tensor cpu = ones({3});
  const Tensor meta = ones({3}, TensorOptions().device(Device("meta")));
  const Tensor meta_index = zeros({2}, TensorOptions().dtype(kInt64).device(Device("meta")));
  expect_error<ValueError>([&] { cpu.copy_(meta); }, "meta");
  expect_error<ValueError>([&] { index_select(cpu, 0, meta_index); }, "one device");
  expect_error<ValueError>([&] { gather(cpu, 0, meta_index); }, "one device");
  expect_error<ValueError>(
      [&] { sum_out(empty({}, TensorOptions().device(Device("meta"))), cpu, {0}); },
      "out is on meta");
  expect_error<ValueError>(
      [&] {
        mm(ones({2, 2}), ones({2, 2}, TensorOptions().device(Device("meta"))));
      },
      "one device");
  EXPECT_TRUE(meta.copy_(cpu).is_meta());  // a meta destination needs no data
}

TEST(Errors, UndefinedTensorArgumentsAreNamed) {
  expect_error<DispatchError>([] { mm(Tensor(), Tensor()); }, "undefined tensor");
}

TEST(Errors, ExcludingEveryKeyOfACallNamesTheExclusion) {
  const Tensor x = ones({2});
  ExcludeDispatchKeyGuard no_cpu(DispatchKey::CPU);
  expect_error<DispatchError>([&] { add(x, x); }, "excludes {CPU}");
}

TEST(Errors, MeanIntoAnIntegerOutBlamesOut) {
  expect_error<TypeError>(
      [] {
        static const auto op = Dispatcher::singleton().find_op("sy::mean.out");
        Stack s{IValue(ones({3})), IValue(std::vector<int64_t>{0}), IValue(false), IValue(),
                IValue(empty({}, TensorOptions().dtype(kInt64)))};
        op.call_boxed(s);
      },
      "out is int64");
}

// A Python-key kernel that returns garbage for every op a backend kernel used to
// call inside itself: See Note [Backend kernels call no ops].
TEST(InnerCalls, BackendKernelsDoNotReachUserKernels) {
  int garbage_calls = 0;
  auto garbage = [&garbage_calls](const OperatorHandle& op, DispatchKeySet, Stack* stack) {
    ++garbage_calls;
    const auto n = static_cast<std::ptrdiff_t>(op.schema().arguments().size());
    stack->erase(stack->end() - n, stack->end());
    stack->push_back(IValue(ones({1}, TensorOptions().device(Device("meta")))));
  };
  const Tensor x = arange(12, TensorOptions().dtype(kFloat32)).reshape({3, 4}).t();
  const float want_sum = x.clone().sum().item<float>();
  const std::vector<float> want_mm = values<float>(mm(x.clone(), x.clone().t()));
  Library user(Library::IMPL, "sy", DispatchKey::Python);
  for (const char* op : {"contiguous", "clone", "to.dtype", "select.int", "permute", "copy_"}) {
    user.impl(op, CppFunction::boxed(garbage));
  }
  Library passthrough(Library::IMPL, "_", DispatchKey::Python);
  passthrough.fallback(CppFunction::fallthrough());
  IncludeDispatchKeyGuard python(DispatchKey::Python);
  EXPECT_EQ(x.sum().item<float>(), want_sum);
  EXPECT_EQ(values<float>(mm(x, x.t())), want_mm);
  EXPECT_EQ(values<float>(add(tensor({1, 2}), tensor({0.5f, 0.5f}))),
            (std::vector<float>{1.5f, 2.5f}));
  EXPECT_EQ(garbage_calls, 0);
  EXPECT_TRUE(x.contiguous().is_meta());  // the user's kernel does serve direct calls
  EXPECT_EQ(garbage_calls, 1);
}

}  // namespace
}  // namespace sy
