// Tensor factories: empty, zeros, ones, full, arange, linspace, eye, rand,
// randn, the *_like family, and tensor() from nested lists. Factories take
// sizes and TensorOptions (dtype float32 unless set or inferred, device cpu);
// on the meta device they make shapes without data. The factories are generated
// from the op table (creation_ops.yaml, random_ops.yaml; docs/op-table.md); this
// header adds tensor(), which is not an op.
#pragma once

#include <initializer_list>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/ops/generated/functions.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

// A number or a nested list of numbers, for tensor(): tensor({{1, 2}, {3, 4}}).
class SY_API TensorData {
 public:
  template <typename T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  TensorData(T v) : leaf_(v), is_leaf_(true) {}  // NOLINT: numbers convert implicitly
  TensorData(std::initializer_list<TensorData> items) : items_(items) {}   // NOLINT
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
