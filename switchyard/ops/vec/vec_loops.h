// Internal to the ops layer: running the contiguous-array kernels of vec.h
// over strided tensors. Runs that are contiguous for every operand go straight
// to the kernel; others (strided, broadcast) are gathered into a small buffer,
// computed there and scattered back, so every element goes through the same
// vector code whatever the layout.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "switchyard/ops/loops.h"
#include "switchyard/ops/vec/vec.h"

namespace sy::detail {

template <typename T>
using VecMap = void (*)(const T*, T*, int64_t);
template <typename T>
using VecMap2 = void (*)(const T*, const T*, T*, int64_t);

inline constexpr int64_t kVecChunk = 256;  // elements gathered at a time

// out = kernel(a), a and out of dtype T (float or double), a broadcast to out.
template <typename T>
void unary_loop_vec(const Tensor& out, const Tensor& a, VecMap<T> kernel) {
  if (out.is_contiguous() && a.is_contiguous() && a.sizes() == out.sizes()) {
    T* o = static_cast<T*>(out.raw_data());
    const T* x = static_cast<const T*>(a.raw_data());
    parallel_for(0, out.numel(), kGrain,
                 [&](int64_t lo, int64_t hi) { kernel(x + lo, o + lo, hi - lo); });
    return;
  }
  const IntArrayRef sizes = out.sizes();
  ElementLoop<2> loop(sizes, {static_cast<char*>(out.raw_data()), static_cast<char*>(a.raw_data())},
                      {DimVector(out.strides()), broadcast_strides(a, sizes)},
                      {int64_t{sizeof(T)}, int64_t{sizeof(T)}});
  loop.run([kernel](std::array<char*, 2> p, std::array<int64_t, 2> s, int64_t n) {
    if (s[0] == sizeof(T) && s[1] == sizeof(T)) {
      kernel(reinterpret_cast<const T*>(p[1]), reinterpret_cast<T*>(p[0]), n);
      return;
    }
    T buf[kVecChunk];
    for (int64_t i = 0; i < n; i += kVecChunk) {
      const int64_t m = n - i < kVecChunk ? n - i : kVecChunk;
      for (int64_t k = 0; k < m; ++k) buf[k] = *reinterpret_cast<const T*>(p[1] + (i + k) * s[1]);
      kernel(buf, buf, m);
      for (int64_t k = 0; k < m; ++k) *reinterpret_cast<T*>(p[0] + (i + k) * s[0]) = buf[k];
    }
  });
}

// out = kernel(a, b), all of dtype T, a and b broadcast to out.
template <typename T>
void binary_loop_vec(const Tensor& out, const Tensor& a, const Tensor& b, VecMap2<T> kernel) {
  if (out.is_contiguous() && a.is_contiguous() && b.is_contiguous() && a.sizes() == out.sizes() &&
      b.sizes() == out.sizes()) {
    T* o = static_cast<T*>(out.raw_data());
    const T* x = static_cast<const T*>(a.raw_data());
    const T* y = static_cast<const T*>(b.raw_data());
    parallel_for(0, out.numel(), kGrain,
                 [&](int64_t lo, int64_t hi) { kernel(x + lo, y + lo, o + lo, hi - lo); });
    return;
  }
  const IntArrayRef sizes = out.sizes();
  ElementLoop<3> loop(
      sizes,
      {static_cast<char*>(out.raw_data()), static_cast<char*>(a.raw_data()),
       static_cast<char*>(b.raw_data())},
      {DimVector(out.strides()), broadcast_strides(a, sizes), broadcast_strides(b, sizes)},
      {int64_t{sizeof(T)}, int64_t{sizeof(T)}, int64_t{sizeof(T)}});
  loop.run([kernel](std::array<char*, 3> p, std::array<int64_t, 3> s, int64_t n) {
    if (s[0] == sizeof(T) && s[1] == sizeof(T) && s[2] == sizeof(T)) {
      kernel(reinterpret_cast<const T*>(p[1]), reinterpret_cast<const T*>(p[2]),
             reinterpret_cast<T*>(p[0]), n);
      return;
    }
    T bx[kVecChunk], by[kVecChunk];
    for (int64_t i = 0; i < n; i += kVecChunk) {
      const int64_t m = n - i < kVecChunk ? n - i : kVecChunk;
      for (int64_t k = 0; k < m; ++k) {
        bx[k] = *reinterpret_cast<const T*>(p[1] + (i + k) * s[1]);
        by[k] = *reinterpret_cast<const T*>(p[2] + (i + k) * s[2]);
      }
      kernel(bx, by, bx, m);
      for (int64_t k = 0; k < m; ++k) *reinterpret_cast<T*>(p[0] + (i + k) * s[0]) = bx[k];
    }
  });
}

// softmax (or log_softmax) of `in` seen as [outer, D, inner] along D, into
// `out`. inner == 1: whole rows through vec::softmax_rows. Otherwise each of
// the D rows of an outer slice holds `inner` contiguous values, and the work
// runs across them: the column maxima, then x - max over the slice, one
// vectorised exp over all of it, the column sums, and the scaling.
template <typename T>
void softmax_vec(const T* in, T* out, int64_t outer, int64_t D, int64_t inner, bool log) {
  if (inner == 1) {
    parallel_for(0, outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(D, 1)),
                 [&](int64_t lo, int64_t hi) {
                   vec::softmax_rows(in + lo * D, out + lo * D, hi - lo, D, log);
                 });
    return;
  }
  const int64_t slice = D * inner;
  parallel_for(0, outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(slice, 1)),
               [&](int64_t lo, int64_t hi) {
                 std::vector<T> m(static_cast<size_t>(inner)), s(static_cast<size_t>(inner));
                 for (int64_t o = lo; o < hi; ++o) {
                   const T* x = in + o * slice;
                   T* y = out + o * slice;
                   for (int64_t i = 0; i < inner; ++i) m[i] = -std::numeric_limits<T>::infinity();
                   for (int64_t j = 0; j < D; ++j) {
                     for (int64_t i = 0; i < inner; ++i) m[i] = std::max(m[i], x[j * inner + i]);
                   }
                   for (int64_t i = 0; i < inner; ++i) {
                     if (std::isinf(m[i]) && m[i] < 0) m[i] = 0;  // all -inf: keep exp() finite
                   }
                   for (int64_t j = 0; j < D; ++j) {
                     for (int64_t i = 0; i < inner; ++i) y[j * inner + i] = x[j * inner + i] - m[i];
                   }
                   vec::exp(y, y, slice);
                   for (int64_t i = 0; i < inner; ++i) s[i] = 0;
                   for (int64_t j = 0; j < D; ++j) {
                     for (int64_t i = 0; i < inner; ++i) s[i] += y[j * inner + i];
                   }
                   if (log) {
                     for (int64_t i = 0; i < inner; ++i) s[i] = m[i] + std::log(s[i]);
                     for (int64_t j = 0; j < D; ++j) {
                       for (int64_t i = 0; i < inner; ++i)
                         y[j * inner + i] = x[j * inner + i] - s[i];
                     }
                   } else {
                     for (int64_t i = 0; i < inner; ++i) s[i] = T(1) / s[i];
                     for (int64_t j = 0; j < D; ++j) {
                       for (int64_t i = 0; i < inner; ++i) y[j * inner + i] *= s[i];
                     }
                   }
                 }
               });
}

// Copies `src` into the contiguous `dst` (same shape and dtype) with blocked
// transposes when that is what the copy is: src reads a dim other than dst's
// last one with stride 1 (a transposed or permuted tensor made contiguous).
// Each 2-d slice [that dim, the last dim] goes through vec::transpose, slices
// (or, for one slice, blocks of rows) in parallel. Returns false, copying
// nothing, for any other copy.
inline bool transpose_copy(const Tensor& dst, const Tensor& src) {
  const int64_t nd = dst.dim();
  const int64_t es = element_size(dst.dtype());
  if (nd < 2 || dst.dtype() != src.dtype() || !dst.is_contiguous() || dst.sizes() != src.sizes() ||
      (es != 1 && es != 2 && es != 4 && es != 8) || dst.numel() < 1024) {
    return false;
  }
  const IntArrayRef sizes = src.sizes(), ss = src.strides(), ds = dst.strides();
  int64_t last = nd - 1;
  while (last > 0 && sizes[last] == 1) --last;
  int64_t unit = -1;
  for (int64_t d = 0; d < last; ++d) {
    if (sizes[d] > 1 && ss[d] == 1) unit = d;
  }
  if (unit < 0 || ss[last] == 1) return false;
  // The other dims of size > 1: their sizes and both strides.
  DimVector osize, ostride_src, ostride_dst;
  for (int64_t d = 0; d < nd; ++d) {
    if (ss[d] < 0) return false;
    if (d == unit || d == last || sizes[d] == 1) continue;
    osize.push_back(sizes[d]);
    ostride_src.push_back(ss[d]);
    ostride_dst.push_back(ds[d]);
  }
  int64_t slices = 1;
  for (int64_t n : osize.ref()) slices *= n;
  const int64_t rows = sizes[unit], cols = sizes[last];
  const int64_t src_col = ss[last], dst_row = ds[unit];
  const char* sbase = static_cast<const char*>(src.raw_data());
  char* dbase = static_cast<char*>(dst.raw_data());
  auto slice_at = [&](int64_t k, int64_t r0, int64_t r1) {
    int64_t soff = 0, doff = 0;
    for (size_t d = osize.size(); d-- > 0;) {
      const int64_t i = k % osize[d];
      k /= osize[d];
      soff += i * ostride_src[d];
      doff += i * ostride_dst[d];
    }
    vec::transpose(sbase + (soff + r0) * es, 1, src_col, dbase + (doff + r0 * dst_row) * es,
                   dst_row, r1 - r0, cols, es);
  };
  if (slices > 1) {
    parallel_for(0, slices, std::max<int64_t>(1, kGrain / (rows * cols)),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t k = lo; k < hi; ++k) slice_at(k, 0, rows);
                 });
  } else {
    // Blocks of 64 rows (the kernel's tile), as many rows a piece as kGrain asks.
    const int64_t blocks = (rows + 63) / 64;
    parallel_for(0, blocks, std::max<int64_t>(1, kGrain / (64 * cols)),
                 [&](int64_t lo, int64_t hi) { slice_at(0, lo * 64, std::min(rows, hi * 64)); });
  }
  return true;
}

}  // namespace sy::detail
