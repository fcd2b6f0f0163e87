// Batched tensors: what a function under vmap sees in place of a batch.
//
// A BatchedTensorImpl stands for `value` (the tensor one level down: plain, or
// batched at a lower level) with the dimension `bdim` taken out: its sizes and
// strides are value's without bdim. Its key set is {Batched} only, so it never
// reaches a kernel that reads data (See Note [Wrapper tensors]); the interpreter
// (interpreter.h) unwraps it at its level and runs the op's batching rule.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"
#include "switchyard/transforms/interpreter.h"

namespace sy::func {

class SY_API BatchedTensorImpl final : public TensorImpl {
 public:
  BatchedTensorImpl(Tensor value, int64_t bdim, uint64_t level_id, int64_t level_number);

  const Tensor& value() const { return value_; }
  int64_t bdim() const { return bdim_; }
  uint64_t level_id() const { return level_id_; }
  int64_t level_number() const { return level_number_; }

  std::string wrapper_repr() const override;
  [[noreturn]] void throw_wrapper_data_access(std::string_view action) const override;

 private:
  Tensor value_;
  int64_t bdim_;
  uint64_t level_id_;
  int64_t level_number_;
};

// `t`'s batched impl, or null when t is not a batched tensor.
SY_API BatchedTensorImpl* maybe_batched(const Tensor& t);

// `value` with its dimension `bdim` batched at `level` (no copy).
SY_API Tensor make_batched(Tensor value, int64_t bdim, const Level& level);

// A tensor seen from `level`: the value one level down and where its batch
// dimension is, or the tensor itself with no batch dimension when it is not
// batched at that level.
struct Unwrapped {
  Tensor value;
  std::optional<int64_t> bdim;
};
SY_API Unwrapped unwrap_at(const Tensor& t, uint64_t level_id);

// The innermost plain tensor under every wrapper of `t`.
SY_API Tensor physical_of(const Tensor& t);

}  // namespace sy::func
