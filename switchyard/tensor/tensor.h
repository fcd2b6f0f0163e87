// Tensor: a reference-counted handle to a TensorImpl. Copies share the impl (and
// so the data); a default-constructed Tensor is undefined and holds nothing.
//
// Ops are free functions in namespace sy (sy::add(a, b)) and methods here
// (a.add(b)); both go through the dispatcher. The methods are declared here and
// defined by the ops layer, so this header stays below the dispatcher.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "switchyard/core/error.h"
#include "switchyard/core/export.h"
#include "switchyard/core/intrusive_ptr.h"
#include "switchyard/tensor/scalar.h"
#include "switchyard/tensor/tensor_impl.h"

namespace sy {

namespace autograd {
class Node;
}  // namespace autograd
class OptionalTensorListRef;

class SY_API Tensor {
 public:
  Tensor() = default;
  explicit Tensor(IntrusivePtr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return static_cast<bool>(impl_); }
  TensorImpl* impl() const { return impl_.get(); }
  const IntrusivePtr<TensorImpl>& impl_ptr() const { return impl_; }
  // Whether both handles refer to the same TensorImpl.
  bool is_same(const Tensor& o) const { return impl_ == o.impl_; }
  uint32_t use_count() const { return impl_ ? impl_->use_count() : 0; }

  IntArrayRef sizes() const { return checked().sizes(); }
  IntArrayRef strides() const { return checked().strides(); }
  // Size of dimension `d`; negative d counts from the end.
  int64_t size(int64_t d) const;
  int64_t stride(int64_t d) const;
  int64_t dim() const { return checked().dim(); }
  int64_t numel() const { return checked().numel(); }
  int64_t storage_offset() const { return checked().storage_offset(); }
  ScalarType dtype() const { return checked().dtype(); }
  Device device() const { return checked().device(); }
  DispatchKeySet key_set() const { return checked().key_set(); }
  bool is_contiguous() const { return checked().is_contiguous(); }
  bool is_meta() const { return device().is_meta(); }
  bool requires_grad() const { return checked().requires_grad(); }
  // Whether the tensor was made in inference mode.
  bool is_inference() const { return checked().is_inference(); }

  // ---- Autograd ------------------------------------------------------------------
  // Declared here, defined by the autograd layer (autograd/variable.cpp); see
  // autograd/autograd.h and docs/autograd.md.

  // Sets requires_grad in place; only floating-point tensors can require grad,
  // only leaves can stop requiring it, inference tensors only inside inference
  // mode, and a component holding a thread-local slot may veto it
  // (ThreadLocalSlot::check_supports_inplace_requires_grad).
  const Tensor& requires_grad_(bool requires_grad = true) const;
  // The gradient accumulated by backward() (leaves and tensors that retain
  // theirs); undefined when there is none.
  Tensor grad() const;
  // The gradient slot itself, to set or clear (t.mutable_grad() = Tensor()).
  Tensor& mutable_grad() const;
  // Whether the tensor has no grad_fn: made by the user, or by ops that did not record.
  bool is_leaf() const;
  // The node that made this tensor ("MulBackward0"), or null for a leaf.
  const std::shared_ptr<autograd::Node>& grad_fn() const;
  // Which output of grad_fn() this tensor is.
  uint32_t output_nr() const;
  // Runs backward from this tensor; `gradient` may be left out for one-element
  // tensors. retain_graph defaults to create_graph.
  void backward(const Tensor& gradient = {}, std::optional<bool> retain_graph = std::nullopt,
                bool create_graph = false, const std::vector<Tensor>& inputs = {}) const;
  // Keeps this non-leaf's gradient in grad() when backward runs.
  void retain_grad() const;
  bool retains_grad() const;
  // Calls `hook` with this tensor's gradient whenever one is computed; a
  // defined result replaces the gradient. Returns an id for remove_hook.
  uint64_t register_hook(std::function<Tensor(const Tensor&)> hook) const;
  void remove_hook(uint64_t id) const;
  // A tensor sharing this one's data (and version counter) outside autograd.
  Tensor detach() const;
  // Detaches this tensor from its graph in place: it becomes a leaf.
  const Tensor& detach_() const;
  // The version counter of the tensor's storage (bumped by every in-place op).
  uint32_t _version() const { return checked().version(); }
  // Whether this tensor is a view made by a view op, and its base.
  bool is_view() const;
  Tensor _base() const;

  // Typed pointer to the first element; T must match dtype(), and the tensor
  // must have data (not meta).
  template <typename T>
  T* data_ptr() const {
    check_data_access(scalar_type_of<T>());
    return static_cast<T*>(impl_->data());
  }
  void* raw_data() const {
    const TensorImpl& t = checked();
    if (SY_UNLIKELY(t.is_wrapper())) t.throw_wrapper_data_access("raw_data()");
    return t.data();
  }

  // The value of a one-element tensor, converted to T.
  template <typename T>
  T item() const {
    return item().to<T>();
  }
  Scalar item() const;

  // As PyTorch prints: "tensor([[1., 2.],\n        [3., 4.]])",
  // "tensor(..., device='meta', size=(2, 3))".
  std::string to_string() const;

  // ---- Ops as methods --------------------------------------------------------
  // Generated from the op table (docs/op-table.md): each calls its op through the
  // dispatcher, as the free function of the same name does (switchyard/ops/). They
  // are declared here and defined by the ops layer, so this header stays below the
  // dispatcher. In-place methods end in '_' and return *this.
#include "switchyard/tensor/generated/tensor_methods.h"

 private:
  const TensorImpl& checked() const {
    if (SY_UNLIKELY(!impl_)) throw_undefined();
    return *impl_;
  }
  [[noreturn]] static void throw_undefined();
  void check_data_access(ScalarType requested) const;

  IntrusivePtr<TensorImpl> impl_;
};

// What a tensor factory makes: dtype (float32 unless set, or for full(), the
// fill value's type), device (cpu unless set; the *_like factories keep the
// tensor's), requires_grad.
class TensorOptions {
 public:
  constexpr TensorOptions() = default;
  constexpr TensorOptions dtype(ScalarType t) const {
    TensorOptions o = *this;
    o.dtype_ = t;
    return o;
  }
  constexpr TensorOptions device(Device d) const {
    TensorOptions o = *this;
    o.device_ = d;
    return o;
  }
  constexpr TensorOptions requires_grad(bool r) const {
    TensorOptions o = *this;
    o.requires_grad_ = r;
    return o;
  }
  constexpr ScalarType dtype() const { return dtype_.value_or(kFloat32); }
  // The dtype if one was set.
  constexpr std::optional<ScalarType> dtype_opt() const { return dtype_; }
  constexpr Device device() const { return device_.value_or(kCPU); }
  // The device if one was set.
  constexpr std::optional<Device> device_opt() const { return device_; }
  constexpr bool requires_grad() const { return requires_grad_; }

 private:
  std::optional<ScalarType> dtype_;
  std::optional<Device> device_;
  bool requires_grad_ = false;
};

// A `Tensor?[]` argument (the indices of advanced indexing): tensors of which
// some may be absent, an absent one being an undefined Tensor (None in
// Python). It views the tensors, like ArrayRef: they must outlive it.
class OptionalTensorListRef {
 public:
  OptionalTensorListRef() = default;
  OptionalTensorListRef(ArrayRef<Tensor> tensors) : tensors_(tensors) {}               // NOLINT
  OptionalTensorListRef(const std::vector<Tensor>& tensors) : tensors_(tensors) {}     // NOLINT
  OptionalTensorListRef(std::initializer_list<Tensor> tensors) : tensors_(tensors) {}  // NOLINT

  ArrayRef<Tensor> tensors() const { return tensors_; }
  size_t size() const { return tensors_.size(); }
  bool empty() const { return tensors_.empty(); }
  const Tensor& operator[](size_t i) const { return tensors_[i]; }
  const Tensor* begin() const { return tensors_.begin(); }
  const Tensor* end() const { return tensors_.end(); }

 private:
  ArrayRef<Tensor> tensors_;
};

// A new tensor of `sizes` with uninitialised data, bypassing the dispatcher: the
// building block of kernels and factories.
SY_API Tensor make_tensor(IntArrayRef sizes, ScalarType dtype, Device device);
// A tensor viewing `t`'s storage with new geometry (no copy). It is a plain
// tensor: autograd's view tracking is the view ops' business (autograd/).
SY_API Tensor make_view(const Tensor& t, IntArrayRef sizes, IntArrayRef strides,
                        int64_t storage_offset);

}  // namespace sy
