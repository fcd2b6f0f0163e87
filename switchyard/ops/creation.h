// Tensor factories: empty, zeros, ones, full, arange, linspace, eye, rand,
// randn, the *_like family, and tensor() from nested lists. Factories take
// sizes and TensorOptions (dtype float32 unless set or inferred, device cpu);
// on the meta device they make shapes without data.
#pragma once

#include <initializer_list>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

// Uninitialised, zero-filled, one-filled and `value`-filled tensors of `sizes`.
SY_API Tensor empty(IntArrayRef sizes, TensorOptions options = {});
SY_API Tensor zeros(IntArrayRef sizes, TensorOptions options = {});
SY_API Tensor ones(IntArrayRef sizes, TensorOptions options = {});
// The dtype follows `value` unless set: bool, int64, or float32 for a float.
SY_API Tensor full(IntArrayRef sizes, const Scalar& value, TensorOptions options = {});
// Uniform in [0, 1) / standard normal values from the calling thread's
// generator (see random.h: manual_seed); float32 or float64.
SY_API Tensor rand(IntArrayRef sizes, TensorOptions options = {});
SY_API Tensor randn(IntArrayRef sizes, TensorOptions options = {});

// start, start + step, ... up to (not including) end. int64 when every
// argument is an integer and no dtype is set, else float32.
SY_API Tensor arange(const Scalar& end, TensorOptions options = {});
SY_API Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step = 1,
                     TensorOptions options = {});
// `steps` values evenly spaced from start to end, both included.
SY_API Tensor linspace(const Scalar& start, const Scalar& end, int64_t steps,
                       TensorOptions options = {});
// The n x m identity (m defaults to n).
SY_API Tensor eye(int64_t n, TensorOptions options = {});
SY_API Tensor eye(int64_t n, int64_t m, TensorOptions options = {});

// Like `self` (shape, and dtype and device unless `options` set them).
SY_API Tensor empty_like(const Tensor& self, TensorOptions options = {});
SY_API Tensor zeros_like(const Tensor& self, TensorOptions options = {});
SY_API Tensor ones_like(const Tensor& self, TensorOptions options = {});
SY_API Tensor full_like(const Tensor& self, const Scalar& value, TensorOptions options = {});

// Sets every element of `self` to `value` (to 0); returns `self`.
SY_API const Tensor& fill_(const Tensor& self, const Scalar& value);
SY_API const Tensor& zero_(const Tensor& self);

// A number or a nested list of numbers, for tensor(): tensor({{1, 2}, {3, 4}}).
class SY_API TensorData {
 public:
  template <typename T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  TensorData(T v) : leaf_(v), is_leaf_(true) {}  // NOLINT: numbers convert implicitly
  TensorData(std::initializer_list<TensorData> items) : items_(items) {}  // NOLINT
  TensorData(std::vector<TensorData> items) : items_(std::move(items)) {}  // NOLINT

  bool is_leaf() const { return is_leaf_; }
  const Scalar& value() const { return leaf_; }
  const std::vector<TensorData>& items() const { return items_; }

 private:
  Scalar leaf_;
  bool is_leaf_ = false;
  std::vector<TensorData> items_;
};

// A tensor holding `data`: tensor({1, 2, 3}) is int64, tensor({0.5, 1}) float32,
// tensor({true}) bool, tensor(3) zero-dim, as in PyTorch. Ragged nesting is a
// ValueError naming where; `options` may set the dtype and device.
SY_API Tensor tensor(const TensorData& data, TensorOptions options = {});

}  // namespace sy
