#include "switchyard/tensor/tensor_impl.h"

#include "switchyard/core/error.h"
#include "switchyard/core/thread_local_state.h"

namespace sy {

namespace {
void check_dims(IntArrayRef sizes) {
  SY_CHECK(static_cast<int64_t>(sizes.size()) <= kMaxTensorDims, ValueError,
           "a tensor has at most {} dimensions; this one would have {}", kMaxTensorDims,
           sizes.size());
}
}  // namespace

DimVector contiguous_strides(IntArrayRef sizes) {
  DimVector strides(sizes.size(), 1);
  int64_t stride = 1;
  for (size_t i = sizes.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= sizes[i] > 1 ? sizes[i] : 1;
  }
  return strides;
}

TensorImpl::TensorImpl(Storage storage, ScalarType dtype, IntArrayRef sizes, IntArrayRef strides,
                       int64_t storage_offset)
    : storage_(std::move(storage)),
      sizes_(sizes),
      strides_(strides),
      storage_offset_(storage_offset),
      dtype_(dtype),
      is_inference_(tls_autograd_state().inference_mode) {
  check_dims(sizes);
  refresh_derived();
  // Tensors are what a thread makes most: a good moment to free what other
  // threads released of this thread's objects (Note [Biased reference counts]).
  detail::settle_deferred_releases_if_any();
}

void TensorImpl::set_requires_grad(bool requires_grad) {
  requires_grad_ = requires_grad;
  refresh_derived();
}

void TensorImpl::set_geometry(IntArrayRef sizes, IntArrayRef strides, int64_t storage_offset) {
  check_dims(sizes);
  sizes_ = sizes;
  strides_ = strides;
  storage_offset_ = storage_offset;
  refresh_derived();
}

void TensorImpl::refresh_derived() {
  numel_ = 1;
  for (int64_t s : sizes_.ref()) numel_ *= s;
  // Contiguous: strides equal the row-major strides, ignoring dims of size 1.
  is_contiguous_ = true;
  int64_t expected = 1;
  for (size_t i = sizes_.size(); i-- > 0;) {
    if (sizes_[i] == 1) continue;
    if (strides_[i] != expected) {
      is_contiguous_ = numel_ == 0;
      break;
    }
    expected *= sizes_[i];
  }
  const DispatchKey backend = backend_key_for(storage_->device().type());
  key_set_ = DispatchKeySet(backend);
  if (requires_grad_) {
    key_set_ = key_set_ | DispatchKeySet{DispatchKey::ADInplaceOrView, autograd_key_for(backend)};
  }
}

}  // namespace sy
