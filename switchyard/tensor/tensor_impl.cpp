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

TensorImpl::TensorImpl(Storage storage, ScalarType dtype, IntArrayRef sizes, int64_t numel)
    : storage_(std::move(storage)),
      sizes_(sizes),
      storage_offset_(0),
      numel_(numel),
      dtype_(dtype),
      is_inference_(tls_autograd_state().inference_mode) {
  check_dims(sizes);
  // contiguous_strides(), written in place; is_contiguous_ starts true.
  strides_.resize(sizes.size());
  int64_t stride = 1;
  for (size_t i = sizes.size(); i-- > 0;) {
    strides_[i] = stride;
    stride *= sizes[i] > 1 ? sizes[i] : 1;
  }
  refresh_keys();
  detail::settle_deferred_releases_if_any();  // as the constructor above
}

IntrusivePtr<TensorImpl> TensorImpl::make_contiguous(Storage storage, ScalarType dtype,
                                                     IntArrayRef sizes, int64_t numel) {
  return IntrusivePtr<TensorImpl>::adopt(new TensorImpl(std::move(storage), dtype, sizes, numel));
}

TensorImpl::TensorImpl(Storage storage, ScalarType dtype, IntArrayRef sizes, IntArrayRef strides,
                       int64_t storage_offset, DispatchKeySet wrapper_keys)
    : storage_(std::move(storage)),
      sizes_(sizes),
      strides_(strides),
      storage_offset_(storage_offset),
      key_set_(wrapper_keys),
      dtype_(dtype),
      is_inference_(tls_autograd_state().inference_mode),
      is_wrapper_(true) {
  refresh_derived();
}

std::string TensorImpl::wrapper_repr() const { return "tensor(wrapper)"; }

void TensorImpl::throw_wrapper_data_access(std::string_view action) const {
  SY_THROW(ValueError, "{}: this tensor is a wrapper whose data cannot be read", action);
}

namespace {
TensorImpl::PythonWrapperHook python_wrapper_hook = nullptr;
}  // namespace

void TensorImpl::set_python_wrapper_hook(PythonWrapperHook hook) { python_wrapper_hook = hook; }

void TensorImpl::wrapped_count_edge(bool hold) const {
  if (python_wrapper_hook != nullptr) python_wrapper_hook(*this, hold);
}

void TensorImpl::set_python_dispatch(bool on) {
  python_dispatch_ = on;
  refresh_keys();
}

TensorImpl::~TensorImpl() { delete autograd_meta_.load(std::memory_order_acquire); }

AutogradMetaInterface* TensorImpl::install_autograd_meta(
    std::unique_ptr<AutogradMetaInterface> meta) {
  AutogradMetaInterface* expected = nullptr;
  if (autograd_meta_.compare_exchange_strong(expected, meta.get(), std::memory_order_acq_rel)) {
    return meta.release();
  }
  return expected;  // another thread won; `meta` is dropped
}

void TensorImpl::set_requires_grad(bool requires_grad) {
  requires_grad_ = requires_grad;
  refresh_keys();
}

void TensorImpl::set_has_forward_grad(bool has_forward_grad) {
  has_forward_grad_ = has_forward_grad;
  refresh_keys();
}

void TensorImpl::set_differentiable_view(bool on) {
  differentiable_view_ = on;
  refresh_keys();
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
  refresh_keys();
}

void TensorImpl::refresh_keys() {
  if (is_wrapper_) return;  // fixed at construction (Note [Wrapper tensors])
  const DispatchKey backend = backend_key_for(storage_->device().type());
  DispatchKeySet keys(backend);
  if (!is_inference_) keys = keys.add(DispatchKey::ADInplaceOrView);
  if (requires_grad_ || has_forward_grad_ || differentiable_view_)
    keys = keys.add(autograd_key_for(backend));
  if (python_dispatch_) keys = keys.add(DispatchKey::Python);
  key_set_ = keys;
}

}  // namespace sy
