// Tensor: a reference-counted handle to a TensorImpl. Copies share the impl (and
// so the data); a default-constructed Tensor is undefined and holds nothing.
//
// Ops are free functions in namespace sy (sy::add(a, b)) and methods here
// (a.add(b)); both go through the dispatcher. The methods are declared here and
// defined by the ops layer, so this header stays below the dispatcher.
#pragma once

#include <cstdint>
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

  // Sets requires_grad in place; only floating-point tensors can require grad,
  // inference tensors only inside inference mode, and a component holding a
  // thread-local slot may veto it (ThreadLocalSlot::check_supports_inplace_requires_grad).
  const Tensor& requires_grad_(bool requires_grad = true) const;

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
  Tensor where(const Tensor& condition, const Scalar& other) const;
  Tensor clamp(const std::optional<Tensor>& min, const std::optional<Tensor>& max = {}) const;
  const Tensor& clamp_(const std::optional<Tensor>& min,
                       const std::optional<Tensor>& max = {}) const;

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
  Tensor isclose(const Tensor& other, double rtol = 1e-05, double atol = 1e-08,
                 bool equal_nan = false) const;
  bool allclose(const Tensor& other, double rtol = 1e-05, double atol = 1e-08,
                bool equal_nan = false) const;

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
  Tensor norm(const Scalar& p = 2) const;
  Tensor norm(const std::optional<Scalar>& p, IntArrayRef dim, bool keepdim = false) const;
  Tensor any() const;
  Tensor any(int64_t dim, bool keepdim = false) const;
  Tensor all() const;
  Tensor all(int64_t dim, bool keepdim = false) const;
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
  Tensor repeat(IntArrayRef repeats) const;
  // The dims reversed (Python's t.T), and the last two swapped (t.mT).
  Tensor T() const;
  Tensor mT() const;
  // A view of the same data that requires no grad.
  Tensor detach() const;

  // Joining and indexing (ops/indexing.h).
  std::vector<Tensor> split(int64_t split_size, int64_t dim = 0) const;
  std::vector<Tensor> split(IntArrayRef split_sizes, int64_t dim = 0) const;
  std::vector<Tensor> chunk(int64_t chunks, int64_t dim = 0) const;
  Tensor index_select(int64_t dim, const Tensor& index) const;
  Tensor gather(int64_t dim, const Tensor& index) const;

  // Advanced indexing (ops/advanced_indexing.h).
  Tensor index(OptionalTensorListRef indices) const;
  const Tensor& index_put_(OptionalTensorListRef indices, const Tensor& values,
                           bool accumulate = false) const;
  Tensor index_put(OptionalTensorListRef indices, const Tensor& values,
                   bool accumulate = false) const;
  Tensor masked_fill(const Tensor& mask, const Scalar& value) const;
  Tensor masked_fill(const Tensor& mask, const Tensor& value) const;
  const Tensor& masked_fill_(const Tensor& mask, const Scalar& value) const;
  const Tensor& masked_fill_(const Tensor& mask, const Tensor& value) const;
  Tensor masked_select(const Tensor& mask) const;
  Tensor nonzero() const;
  Tensor scatter(int64_t dim, const Tensor& index, const Tensor& src) const;
  Tensor scatter(int64_t dim, const Tensor& index, const Scalar& value) const;
  const Tensor& scatter_(int64_t dim, const Tensor& index, const Tensor& src) const;
  const Tensor& scatter_(int64_t dim, const Tensor& index, const Scalar& value) const;
  Tensor scatter_add(int64_t dim, const Tensor& index, const Tensor& src) const;
  const Tensor& scatter_add_(int64_t dim, const Tensor& index, const Tensor& src) const;

  // Sorting and scans (ops/sorting.h).
  std::tuple<Tensor, Tensor> sort(int64_t dim = -1, bool descending = false) const;
  Tensor argsort(int64_t dim = -1, bool descending = false) const;
  std::tuple<Tensor, Tensor> topk(int64_t k, int64_t dim = -1, bool largest = true,
                                  bool sorted = true) const;
  Tensor cumsum(int64_t dim, std::optional<ScalarType> dtype = {}) const;
  Tensor cumprod(int64_t dim, std::optional<ScalarType> dtype = {}) const;

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

// A `Tensor?[]` argument (the indices of advanced indexing): tensors of which
// some may be absent, an absent one being an undefined Tensor (None in
// Python). It views the tensors, like ArrayRef: they must outlive it.
class OptionalTensorListRef {
 public:
  OptionalTensorListRef() = default;
  OptionalTensorListRef(ArrayRef<Tensor> tensors) : tensors_(tensors) {}  // NOLINT
  OptionalTensorListRef(const std::vector<Tensor>& tensors) : tensors_(tensors) {}  // NOLINT
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
// A tensor viewing `t`'s storage with new geometry (no copy).
SY_API Tensor make_view(const Tensor& t, IntArrayRef sizes, IntArrayRef strides,
                        int64_t storage_offset);

}  // namespace sy
