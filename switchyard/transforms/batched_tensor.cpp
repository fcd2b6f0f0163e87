#include "switchyard/transforms/batched_tensor.h"

#include <fmt/format.h>

#include "switchyard/core/error.h"

namespace sy::func {
namespace {

DimVector without(IntArrayRef v, int64_t d) {
  DimVector out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (static_cast<int64_t>(i) != d) out.push_back(v[i]);
  }
  return out;
}

}  // namespace

BatchedTensorImpl::BatchedTensorImpl(Tensor value, int64_t bdim, uint64_t level_id,
                                     int64_t level_number)
    : TensorImpl(value.impl()->storage(), value.dtype(), without(value.sizes(), bdim),
                 without(value.strides(), bdim), value.storage_offset(),
                 DispatchKeySet(DispatchKey::Batched)),
      value_(std::move(value)),
      bdim_(bdim),
      level_id_(level_id),
      level_number_(level_number) {
  if (value_.requires_grad()) set_requires_grad(true);
}

std::string BatchedTensorImpl::wrapper_repr() const {
  return fmt::format("BatchedTensor(level={}, bdim={}, value={})", level_number_, bdim_,
                     value_.to_string());
}

void BatchedTensorImpl::throw_wrapper_data_access(std::string_view action) const {
  SY_THROW(ValueError,
           "{} on a batched tensor inside vmap(level {}) ({}): its value differs between the "
           "examples of the batch, so data-dependent Python control flow (`if x.sum() > 0`) "
           "and reading values cannot be batched. Compute both branches and pick with "
           "sy.where(cond, a, b), or move the check outside vmap",
           action, level_number_, describe_transform_stack());
}

BatchedTensorImpl* maybe_batched(const Tensor& t) {
  TensorImpl* impl = t.impl();
  if (impl == nullptr || !impl->is_wrapper() || !impl->key_set().has(DispatchKey::Batched)) {
    return nullptr;
  }
  return static_cast<BatchedTensorImpl*>(impl);
}

Tensor make_batched(Tensor value, int64_t bdim, const Level& level) {
  SY_CHECK(bdim >= 0 && bdim < value.dim(), IndexError,
           "vmap: batch dimension {} is out of range for a tensor of {} dims", bdim, value.dim());
  return Tensor(IntrusivePtr<TensorImpl>(
      IntrusivePtr<BatchedTensorImpl>::make(std::move(value), bdim, level.id, level.number)));
}

Unwrapped unwrap_at(const Tensor& t, uint64_t level_id) {
  const BatchedTensorImpl* b = maybe_batched(t);
  if (b != nullptr && b->level_id() == level_id) return {b->value(), b->bdim()};
  return {t, std::nullopt};
}

Tensor physical_of(const Tensor& t) {
  Tensor cur = t;
  while (const BatchedTensorImpl* b = maybe_batched(cur)) cur = b->value();
  return cur;
}

}  // namespace sy::func
