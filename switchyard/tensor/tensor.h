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
  void* raw_data() const { return checked().data(); }

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
  // Each calls the free function of the same name in switchyard/ops/, which
  // documents it; they are declared here and defined by the ops layer, so this
  // header stays below the dispatcher. In-place methods end in '_' and return
  // *this.

  // Elementwise arithmetic with broadcasting and type promotion (ops/elementwise.h).
  Tensor add(const Tensor& other, const Scalar& alpha = 1) const;
  Tensor add(const Scalar& other, const Scalar& alpha = 1) const;
  const Tensor& add_(const Tensor& other, const Scalar& alpha = 1) const;
  const Tensor& add_(const Scalar& other, const Scalar& alpha = 1) const;
  Tensor sub(const Tensor& other, const Scalar& alpha = 1) const;
  Tensor sub(const Scalar& other, const Scalar& alpha = 1) const;
  const Tensor& sub_(const Tensor& other, const Scalar& alpha = 1) const;
  const Tensor& sub_(const Scalar& other, const Scalar& alpha = 1) const;
  Tensor mul(const Tensor& other) const;
  Tensor mul(const Scalar& other) const;
  const Tensor& mul_(const Tensor& other) const;
  const Tensor& mul_(const Scalar& other) const;
  // True division; with rounding_mode "trunc" or "floor", rounded division.
  Tensor div(const Tensor& other, std::optional<std::string_view> rounding_mode = {}) const;
  Tensor div(const Scalar& other, std::optional<std::string_view> rounding_mode = {}) const;
  const Tensor& div_(const Tensor& other, std::optional<std::string_view> rounding_mode = {}) const;
  const Tensor& div_(const Scalar& other, std::optional<std::string_view> rounding_mode = {}) const;
  Tensor floor_divide(const Tensor& other) const;
  Tensor floor_divide(const Scalar& other) const;
  Tensor remainder(const Tensor& other) const;
  Tensor remainder(const Scalar& other) const;
  const Tensor& remainder_(const Tensor& other) const;
  const Tensor& remainder_(const Scalar& other) const;
  Tensor pow(const Tensor& exponent) const;
  Tensor pow(const Scalar& exponent) const;
  const Tensor& pow_(const Tensor& exponent) const;
  const Tensor& pow_(const Scalar& exponent) const;
  Tensor maximum(const Tensor& other) const;
  Tensor minimum(const Tensor& other) const;
  Tensor clamp(const std::optional<Scalar>& min, const std::optional<Scalar>& max = {}) const;
  const Tensor& clamp_(const std::optional<Scalar>& min,
                       const std::optional<Scalar>& max = {}) const;
  // Elements of *this where `condition` holds, of `other` elsewhere.
  Tensor where(const Tensor& condition, const Tensor& other) const;

  // Comparisons and logic: bool results (ops/elementwise.h).
  Tensor eq(const Tensor& other) const;
  Tensor eq(const Scalar& other) const;
  Tensor ne(const Tensor& other) const;
  Tensor ne(const Scalar& other) const;
  Tensor lt(const Tensor& other) const;
  Tensor lt(const Scalar& other) const;
  Tensor le(const Tensor& other) const;
  Tensor le(const Scalar& other) const;
  Tensor gt(const Tensor& other) const;
  Tensor gt(const Scalar& other) const;
  Tensor ge(const Tensor& other) const;
  Tensor ge(const Scalar& other) const;
  Tensor logical_and(const Tensor& other) const;
  Tensor logical_or(const Tensor& other) const;
  Tensor logical_not() const;

  // Unary math (ops/elementwise.h).
  Tensor neg() const;
  const Tensor& neg_() const;
  Tensor abs() const;
  const Tensor& abs_() const;
  Tensor exp() const;
  const Tensor& exp_() const;
  Tensor log() const;
  const Tensor& log_() const;
  Tensor sqrt() const;
  const Tensor& sqrt_() const;
  Tensor rsqrt() const;
  const Tensor& rsqrt_() const;
  Tensor sin() const;
  const Tensor& sin_() const;
  Tensor cos() const;
  const Tensor& cos_() const;
  Tensor tanh() const;
  const Tensor& tanh_() const;
  Tensor sigmoid() const;
  const Tensor& sigmoid_() const;
  Tensor relu() const;
  const Tensor& relu_() const;
  // approximate: "none" (the erf form) or "tanh".
  Tensor gelu(std::string_view approximate = "none") const;

  const Tensor& fill_(const Scalar& value) const;
  const Tensor& zero_() const;

  // Reductions (ops/reduction.h). With no dims they reduce over every element.
  Tensor sum(std::optional<ScalarType> dtype = {}) const;
  Tensor sum(IntArrayRef dim, bool keepdim = false, std::optional<ScalarType> dtype = {}) const;
  Tensor mean(std::optional<ScalarType> dtype = {}) const;
  Tensor mean(IntArrayRef dim, bool keepdim = false, std::optional<ScalarType> dtype = {}) const;
  Tensor prod(std::optional<ScalarType> dtype = {}) const;
  Tensor prod(int64_t dim, bool keepdim = false, std::optional<ScalarType> dtype = {}) const;
  Tensor max() const;
  std::tuple<Tensor, Tensor> max(int64_t dim, bool keepdim = false) const;
  Tensor min() const;
  std::tuple<Tensor, Tensor> min(int64_t dim, bool keepdim = false) const;
  Tensor argmax(std::optional<int64_t> dim = {}, bool keepdim = false) const;
  Tensor argmin(std::optional<int64_t> dim = {}, bool keepdim = false) const;
  // correction 1 is the unbiased (Bessel-corrected) estimate, 0 the population one.
  Tensor var(int64_t correction = 1) const;
  Tensor var(IntArrayRef dim, int64_t correction = 1, bool keepdim = false) const;
  Tensor std(int64_t correction = 1) const;
  Tensor std(IntArrayRef dim, int64_t correction = 1, bool keepdim = false) const;
  Tensor softmax(int64_t dim, std::optional<ScalarType> dtype = {}) const;
  Tensor log_softmax(int64_t dim, std::optional<ScalarType> dtype = {}) const;

  // Linear algebra (ops/linalg.h).
  Tensor mm(const Tensor& mat2) const;
  Tensor bmm(const Tensor& mat2) const;
  Tensor matmul(const Tensor& other) const;
  Tensor dot(const Tensor& other) const;
  Tensor addmm(const Tensor& mat1, const Tensor& mat2, const Scalar& beta = 1,
               const Scalar& alpha = 1) const;

  // Views and shape (ops/shape.h). Views share storage and never copy.
  Tensor view(IntArrayRef size) const;
  Tensor reshape(IntArrayRef shape) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;
  Tensor permute(IntArrayRef dims) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor slice(int64_t dim = 0, std::optional<int64_t> start = {},
               std::optional<int64_t> end = {}, int64_t step = 1) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor expand(IntArrayRef size) const;
  Tensor contiguous() const;
  Tensor clone() const;
  const Tensor& copy_(const Tensor& src) const;
  Tensor to(ScalarType dtype, bool copy = false) const;
  Tensor to(Device device, std::optional<ScalarType> dtype = {}, bool copy = false) const;

  // Joining and indexing (ops/indexing.h).
  std::vector<Tensor> split(int64_t split_size, int64_t dim = 0) const;
  std::vector<Tensor> split(IntArrayRef split_sizes, int64_t dim = 0) const;
  std::vector<Tensor> chunk(int64_t chunks, int64_t dim = 0) const;
  Tensor index_select(int64_t dim, const Tensor& index) const;
  Tensor gather(int64_t dim, const Tensor& index) const;

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
// fill value's type), device (cpu), requires_grad.
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
  constexpr Device device() const { return device_; }
  constexpr bool requires_grad() const { return requires_grad_; }

 private:
  std::optional<ScalarType> dtype_;
  Device device_ = kCPU;
  bool requires_grad_ = false;
};

// A new tensor of `sizes` with uninitialised data, bypassing the dispatcher: the
// building block of kernels and factories.
SY_API Tensor make_tensor(IntArrayRef sizes, ScalarType dtype, Device device);
// A tensor viewing `t`'s storage with new geometry (no copy). It is a plain
// tensor: autograd's view tracking is the view ops' business (autograd/).
SY_API Tensor make_view(const Tensor& t, IntArrayRef sizes, IntArrayRef strides,
                        int64_t storage_offset);

}  // namespace sy
