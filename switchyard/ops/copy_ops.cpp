// copy_: a strided copy with broadcasting and dtype conversion, with CPU and
// Meta kernels. clone, contiguous and to are built on it (shape_ops.cpp).
// The ops are declared in copy_ops.yaml (docs/op-table.md); their registrations,
// generated from it, are included at the end of this file.
#include <cstring>

#include "switchyard/dispatch/library.h"
#include "switchyard/ops/direct.h"
#include "switchyard/ops/loops.h"
#include "switchyard/ops/op_call.h"
#include "switchyard/ops/ops.h"
#include "switchyard/ops/overlap.h"
#include "switchyard/ops/vec/vec_loops.h"

namespace sy {
namespace {

void check_copy(const Tensor& self, const Tensor& src) {
  SY_CHECK(broadcast_shapes(self.sizes(), src.sizes()) == self.sizes(), ValueError,
           "copy_: src of shape {} does not broadcast to self's shape {}", to_string(src.sizes()),
           to_string(self.sizes()));
  detail::check_writable("copy_", self);
}

// dst[i] = convert(src[i]) over `self`'s shape, src broadcast.
void strided_copy(const Tensor& dst, const Tensor& src) {
  const IntArrayRef sizes = dst.sizes();
  detail::ElementLoop<2> loop(
      sizes, {static_cast<char*>(dst.raw_data()), static_cast<char*>(src.raw_data())},
      {DimVector(dst.strides()), detail::broadcast_strides(src, sizes)},
      {element_size(dst.dtype()), element_size(src.dtype())});
  SY_DISPATCH_ALL_TYPES_AND_HALF(dst.dtype(), "copy_", [&] {
    using dst_t = scalar_t;
    SY_DISPATCH_ALL_TYPES_AND_HALF(src.dtype(), "copy_", [&] {
      using src_t = scalar_t;
      loop.run([](std::array<char*, 2> p, std::array<int64_t, 2> s, int64_t n) {
        auto* out = reinterpret_cast<dst_t*>(p[0]);
        const char* in = p[1];
        if (s[0] == sizeof(dst_t) && s[1] == sizeof(src_t)) {
          if constexpr (std::is_same_v<src_t, bool> && !std::is_same_v<dst_t, bool>) {
            // A bool is one byte holding 0 or 1: read as uint8_t, the loop vectorizes
            // (through bool GCC converts element by element).
            const auto* a = reinterpret_cast<const uint8_t*>(in);
            _Pragma("GCC ivdep") for (int64_t i = 0; i < n; ++i) {
              out[i] = static_cast<dst_t>(static_cast<float>(a[i]));
            }
          } else {
            const auto* a = reinterpret_cast<const src_t*>(in);
            _Pragma("GCC ivdep") for (int64_t i = 0; i < n; ++i) out[i] = static_cast<dst_t>(a[i]);
          }
        } else if (s[0] == sizeof(dst_t) && s[1] == 0) {
          const dst_t v = static_cast<dst_t>(*reinterpret_cast<const src_t*>(in));
          for (int64_t i = 0; i < n; ++i) out[i] = v;
        } else {
          char* o = p[0];
          for (int64_t i = 0; i < n; ++i, o += s[0], in += s[1]) {
            *reinterpret_cast<dst_t*>(o) = static_cast<dst_t>(*reinterpret_cast<const src_t*>(in));
          }
        }
      });
    });
  });
}

// A meta src has no data to copy; a meta self takes anything (its kernel does nothing).
void check_devices(const Tensor& self, const Tensor& src) {
  SY_CHECK(self.is_meta() || !src.is_meta(), ValueError,
           "copy_: cannot copy from a meta tensor (it has no data) into a {} tensor",
           self.device().str());
  SY_CHECK(self.is_meta() || src.device() == self.device(), ValueError,
           "copy_: cannot copy a {} tensor into a {} tensor with this kernel; use .to('{}')",
           src.device().str(), self.device().str(), self.device().str());
}

const Tensor& copy_cpu(const Tensor& self, const Tensor& src, bool) {
  check_copy(self, src);
  check_devices(self, src);
  detail::copy_values(self, src);
  return self;
}

const Tensor& copy_meta(const Tensor& self, const Tensor& src, bool) {
  check_copy(self, src);
  check_devices(self, src);
  return self;
}

}  // namespace

namespace detail {

void copy_values(const Tensor& self, const Tensor& src) {
  if (self.is_meta() || self.numel() == 0 || self.is_same(src)) return;
  Tensor source = src;
  if (may_overlap(self, src)) {
    // Read everything before writing anything: copy src out first.
    source = make_tensor(src.sizes(), src.dtype(), src.device());
    strided_copy(source, src);
  }
  if (self.dtype() == source.dtype() && self.is_contiguous() && source.is_contiguous() &&
      self.sizes() == source.sizes()) {
    auto* dst = static_cast<char*>(self.raw_data());
    const auto* from = static_cast<const char*>(source.raw_data());
    const int64_t esize = element_size(self.dtype());
    parallel_for(0, self.numel(), kGrain, [&](int64_t lo, int64_t hi) {
      std::memcpy(dst + lo * esize, from + lo * esize, static_cast<size_t>((hi - lo) * esize));
    });
    return;
  }
  if (detail::transpose_copy(self, source)) return;
  strided_copy(self, source);
}

}  // namespace detail
}  // namespace sy

#include "switchyard/ops/generated/copy_ops_registrations.h"
