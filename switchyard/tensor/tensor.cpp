#include "switchyard/tensor/tensor.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "switchyard/core/thread_local_state.h"

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
  const int64_t i = wrap_dim(d, dim(), "size");
  return dim() == 0 ? 1 : sizes()[i];
}

int64_t Tensor::stride(int64_t d) const {
  const int64_t i = wrap_dim(d, dim(), "stride");
  return dim() == 0 ? 1 : strides()[i];
}

void Tensor::check_data_access(ScalarType requested) const {
  const TensorImpl& t = checked();
  if (SY_UNLIKELY(t.is_wrapper())) t.throw_wrapper_data_access("data_ptr()");
  SY_CHECK(t.dtype() == requested, TypeError,
           "data_ptr<{}>() called on a tensor of dtype {}: use data_ptr<T>() with T matching "
           "the tensor's dtype",
           sy::to_string(requested), sy::to_string(t.dtype()));
  SY_CHECK(!t.device().is_meta(), ValueError,
           "data_ptr() called on a meta tensor: meta tensors have shapes and no data");
}

Scalar Tensor::item() const {
  const TensorImpl& t = checked();
  if (SY_UNLIKELY(t.is_wrapper())) t.throw_wrapper_data_access("item()");
  SY_CHECK(t.numel() == 1, ValueError,
           "item(): only a one-element tensor converts to a number; this tensor has {} elements "
           "(sizes {})",
           t.numel(), sy::to_string(t.sizes()));
  SY_CHECK(t.device().is_cpu(), ValueError,
           "item(): the tensor is on {}, whose data cannot be read on the host; move it to cpu",
           t.device().str());
  return SY_DISPATCH_ALL_TYPES_AND_HALF(t.dtype(), "item", [&]() -> Scalar {
    return Scalar(*static_cast<const scalar_t*>(t.data()));
  });
}

namespace {

// Formats every element the way PyTorch does: one format for the whole tensor
// (integers, "1." for whole floats, four decimals otherwise, scientific for
// very large or small magnitudes), right-aligned to a common width.
class ElementFormatter {
 public:
  template <typename T>
  ElementFormatter(const T* base, IntArrayRef sizes, IntArrayRef strides) {
    if constexpr (is_floating_type_v<T>) {
      bool all_whole = true;
      double max_abs = 0, min_abs = 0;
      bool any = false;
      visit(base, sizes, strides, 0, [&](T v) {
        const double x = static_cast<double>(v);
        if (!std::isfinite(x)) return;
        all_whole &= x == std::nearbyint(x);
        const double a = std::fabs(x);
        if (a == 0) return;
        max_abs = any ? std::max(max_abs, a) : a;
        min_abs = any ? std::min(min_abs, a) : a;
        any = true;
      });
      sci_ = any && (max_abs / min_abs > 1000 || max_abs > 1e8 || (!all_whole && min_abs < 1e-4));
      whole_ = all_whole && !sci_;
    }
    visit(base, sizes, strides, 0, [&](T v) { width_ = std::max(width_, format(v).size()); });
  }

  template <typename T>
  std::string format(T v) const {
    if constexpr (std::is_same_v<T, bool>) {
      return v ? "True" : "False";
    } else if constexpr (is_floating_type_v<T>) {
      const double x = static_cast<double>(v);
      if (std::isnan(x)) return "nan";
      if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
      if (sci_) return fmt::format("{:.4e}", x);
      if (whole_) return fmt::format("{:.0f}.", x);
      return fmt::format("{:.4f}", x);
    } else {
      return std::to_string(static_cast<int64_t>(v));
    }
  }

  template <typename T>
  std::string padded(T v) const {
    std::string s = format(v);
    return std::string(width_ > s.size() ? width_ - s.size() : 0, ' ') + s;
  }

  template <typename T, typename F>
  static void visit(const T* base, IntArrayRef sizes, IntArrayRef strides, size_t d, F&& fn) {
    if (d == sizes.size()) {
      fn(*base);
      return;
    }
    for (int64_t i = 0; i < sizes[d]; ++i) visit(base + i * strides[d], sizes, strides, d + 1, fn);
  }

 private:
  bool sci_ = false;
  bool whole_ = true;
  size_t width_ = 0;
};

template <typename T>
void format_dims(std::string& out, const ElementFormatter& f, const T* base, IntArrayRef sizes,
                 IntArrayRef strides, size_t d, size_t indent) {
  if (d == sizes.size()) {
    out += f.padded(*base);
    return;
  }
  out += "[";
  for (int64_t i = 0; i < sizes[d]; ++i) {
    if (i > 0) {
      out += ",";
      if (d + 1 < sizes.size()) {
        // A newline per remaining dimension, then align under the first row.
        out += std::string(sizes.size() - d - 1, '\n');
        out += std::string(indent + d + 1, ' ');
      } else {
        out += " ";
      }
    }
    format_dims(out, f, base + i * strides[d], sizes, strides, d + 1, indent);
  }
  out += "]";
}

std::string size_tuple(IntArrayRef sizes) {
  std::string out = "(";
  for (size_t i = 0; i < sizes.size(); ++i) out += (i ? ", " : "") + std::to_string(sizes[i]);
  return out + (sizes.size() == 1 ? ",)" : ")");
}

}  // namespace

std::string Tensor::to_string() const {
  if (!defined()) return "tensor(undefined)";
  const TensorImpl& t = checked();
  if (t.is_wrapper()) return t.wrapper_repr();
  std::string suffix;
  if (!t.device().is_cpu()) suffix += fmt::format(", device='{}'", t.device().str());
  const bool empty = t.numel() == 0;
  if (!t.device().is_cpu() || (empty && t.dim() > 1)) {
    suffix += ", size=" + size_tuple(t.sizes());
  }
  // Without data to show, only float32 (the default) goes without saying.
  const bool dtype_implied =
      t.device().is_cpu() && !empty
          ? t.dtype() == kFloat32 || t.dtype() == kInt64 || t.dtype() == kBool
          : t.dtype() == kFloat32;
  if (!dtype_implied) {
    suffix += fmt::format(", dtype=sy.{}", sy::to_string(t.dtype()));
  }
  if (t.requires_grad()) {
    const std::string fn = t.autograd_meta() ? t.autograd_meta()->grad_fn_name() : std::string();
    suffix += fn.empty() ? ", requires_grad=True" : ", grad_fn=<" + fn + ">";
  }
  if (!t.device().is_cpu()) return "tensor(..." + suffix + ")";
  if (empty) return "tensor([]" + suffix + ")";
  std::string body;
  SY_DISPATCH_ALL_TYPES_AND_HALF(t.dtype(), "to_string", [&] {
    const auto* base = static_cast<const scalar_t*>(t.data());
    const ElementFormatter f(base, t.sizes(), t.strides());
    format_dims(body, f, base, t.sizes(), t.strides(), 0, std::string("tensor(").size());
  });
  return "tensor(" + body + suffix + ")";
}

Tensor make_tensor(IntArrayRef sizes, ScalarType dtype, Device device) {
  int64_t numel = 1;
  for (int64_t s : sizes) {
    SY_CHECK(s >= 0, ValueError, "cannot make a tensor with a negative size: sizes {}",
             sy::to_string(sizes));
    SY_CHECK(!__builtin_mul_overflow(numel, s, &numel), ValueError,
             "cannot make a tensor of sizes {}: the number of elements overflows int64",
             sy::to_string(sizes));
  }
  int64_t nbytes = 0;
  SY_CHECK(!__builtin_mul_overflow(numel, element_size(dtype), &nbytes), ValueError,
           "cannot make a tensor of sizes {} and dtype {}: its size in bytes overflows int64",
           sy::to_string(sizes), to_string(dtype));
  return Tensor(TensorImpl::make_contiguous(Storage::make(static_cast<size_t>(nbytes), device),
                                            dtype, sizes, numel));
}

Tensor make_view(const Tensor& t, IntArrayRef sizes, IntArrayRef strides, int64_t storage_offset) {
  auto impl = IntrusivePtr<TensorImpl>::make(t.impl()->storage(), t.dtype(), sizes, strides,
                                             storage_offset);
  impl->set_inference(t.is_inference());  // a view is what its base is, as in PyTorch
  return Tensor(std::move(impl));
}

}  // namespace sy
