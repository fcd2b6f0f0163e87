#include "switchyard/tensor/tensor.h"

#include <fmt/format.h>

namespace sy {
namespace {

int64_t wrap_dim(int64_t d, int64_t ndim, const char* what) {
  const int64_t lo = ndim == 0 ? -1 : -ndim;
  const int64_t hi = ndim == 0 ? 0 : ndim - 1;
  SY_CHECK(d >= lo && d <= hi, IndexError,
           "Tensor::{}({}): dimension out of range for a {}-d tensor (expected to be in range "
           "[{}, {}])",
           what, d, ndim, lo, hi);
  return d < 0 ? d + (ndim == 0 ? 1 : ndim) : d;
}

}  // namespace

void Tensor::throw_undefined() {
  SY_THROW(ValueError, "the tensor is undefined (a default-constructed sy::Tensor holds no data)");
}

int64_t Tensor::size(int64_t d) const {
  if (dim() == 0) return 1;
  return sizes()[wrap_dim(d, dim(), "size")];
}

int64_t Tensor::stride(int64_t d) const {
  if (dim() == 0) return 1;
  return strides()[wrap_dim(d, dim(), "stride")];
}

const Tensor& Tensor::requires_grad_(bool requires_grad) const {
  SY_CHECK(!requires_grad || is_floating_point(dtype()), TypeError,
           "requires_grad_(True): only floating-point tensors can require gradients, got dtype {}",
           sy::to_string(dtype()));
  impl_->set_requires_grad(requires_grad);
  return *this;
}

void Tensor::check_data_access(ScalarType requested) const {
  const TensorImpl& t = checked();
  SY_CHECK(t.dtype() == requested, TypeError,
           "data_ptr<{}>() called on a tensor of dtype {}: use data_ptr<T>() with T matching "
           "the tensor's dtype",
           sy::to_string(requested), sy::to_string(t.dtype()));
  SY_CHECK(!t.device().is_meta(), ValueError,
           "data_ptr() called on a meta tensor: meta tensors have shapes and no data");
}

Scalar Tensor::item() const {
  const TensorImpl& t = checked();
  SY_CHECK(t.numel() == 1, ValueError,
           "item(): only a one-element tensor converts to a number; this tensor has {} elements "
           "(sizes {})",
           t.numel(), sy::to_string(t.sizes()));
  SY_CHECK(t.device().is_cpu(), ValueError,
           "item(): the tensor is on {}, whose data cannot be read on the host; move it to cpu",
           t.device().str());
  return SY_DISPATCH_ALL_TYPES(t.dtype(), "item", [&]() -> Scalar {
    return Scalar(*static_cast<const scalar_t*>(t.data()));
  });
}

namespace {

template <typename T>
std::string format_element(T v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v ? "True" : "False";
  } else if constexpr (std::is_floating_point_v<T>) {
    std::string s = fmt::format("{:.4f}", static_cast<double>(v));
    // Trim trailing zeros as PyTorch does: 1.0000 -> 1., 2.5000 -> 2.5000 kept to 4 places.
    while (s.size() > 1 && s.back() == '0') s.pop_back();
    return s;
  } else {
    return std::to_string(static_cast<int64_t>(v));
  }
}

template <typename T>
void format_dims(std::string& out, const T* base, IntArrayRef sizes, IntArrayRef strides,
                 size_t d, int indent) {
  if (d == sizes.size()) {
    out += format_element(*base);
    return;
  }
  out += "[";
  for (int64_t i = 0; i < sizes[d]; ++i) {
    if (i > 0) {
      out += ",";
      if (d + 1 < sizes.size()) {
        out += std::string(sizes.size() - d - 1, '\n');
        out += std::string(indent + d + 1, ' ');
      } else {
        out += " ";
      }
    }
    format_dims(out, base + i * strides[d], sizes, strides, d + 1, indent);
  }
  out += "]";
}

}  // namespace

std::string Tensor::to_string() const {
  if (!defined()) return "tensor(undefined)";
  const TensorImpl& t = checked();
  std::string suffix;
  if (t.dtype() != kFloat32 && t.dtype() != kInt64 && t.dtype() != kBool) {
    suffix += fmt::format(", dtype=sy.{}", sy::to_string(t.dtype()));
  }
  if (t.requires_grad()) suffix += ", requires_grad=True";
  if (!t.device().is_cpu()) {
    return fmt::format("tensor(..., size={}, device='{}'{})", sy::to_string(t.sizes()),
                       t.device().str(),
                       t.dtype() == kFloat32 ? "" : fmt::format(", dtype=sy.{}", sy::to_string(t.dtype())));
  }
  std::string body;
  SY_DISPATCH_ALL_TYPES(t.dtype(), "to_string", [&] {
    format_dims(body, static_cast<const scalar_t*>(t.data()), t.sizes(), t.strides(), 0,
                static_cast<int>(std::string("tensor(").size()) - 1);
  });
  return "tensor(" + body + suffix + ")";
}

Tensor make_tensor(IntArrayRef sizes, ScalarType dtype, Device device) {
  int64_t numel = 1;
  for (int64_t s : sizes) {
    SY_CHECK(s >= 0, ValueError, "cannot make a tensor with a negative size: sizes {}",
             sy::to_string(sizes));
    numel *= s;
  }
  auto storage = Storage::make(static_cast<size_t>(numel * element_size(dtype)), device);
  const DimVector strides = contiguous_strides(sizes);
  return Tensor(IntrusivePtr<TensorImpl>::make(std::move(storage), dtype, sizes, strides, 0));
}

Tensor make_view(const Tensor& t, IntArrayRef sizes, IntArrayRef strides, int64_t storage_offset) {
  auto impl = IntrusivePtr<TensorImpl>::make(t.impl()->storage(), t.dtype(), sizes, strides,
                                             storage_offset);
  if (t.requires_grad()) impl->set_requires_grad(true);
  return Tensor(std::move(impl));
}

}  // namespace sy
