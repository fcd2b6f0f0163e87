// Internal to the ops layer: loops over the elements of strided tensors.
//
// ElementLoop<N> walks N operands of one shape (each with its own byte strides,
// 0 along broadcast dimensions) and hands an inner callback runs of elements
// along the innermost dimension: inner(ptrs, strides, n) with one pointer and
// one byte stride per operand. Dimensions that are contiguous for every
// operand are merged first, so contiguous tensors give one long run, which the
// callback's loop vectorises. Large loops are split across threads with
// parallel_for; each piece restarts the walk at its first element.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "switchyard/parallel/parallel.h"
#include "switchyard/tensor/tensor.h"

namespace sy::detail {

// Elements below which a loop is not worth splitting across threads.
inline constexpr int64_t kGrain = 32768;

template <int N>
class ElementLoop {
 public:
  // `strides[k]` are operand k's element strides over `sizes` (right-aligned,
  // 0 to broadcast); `elsize[k]` its element size.
  ElementLoop(IntArrayRef sizes, const std::array<char*, N>& data,
              const std::array<DimVector, N>& strides, const std::array<int64_t, N>& elsize)
      : data_(data) {
    numel_ = 1;
    for (int64_t s : sizes) numel_ *= s;
    // Keep dims of size > 1, innermost last, strides in bytes.
    for (size_t d = 0; d < sizes.size(); ++d) {
      if (sizes[d] == 1) continue;
      sizes_.push_back(sizes[d]);
      for (int k = 0; k < N; ++k) strides_[k].push_back(strides[k][d] * elsize[k]);
    }
    // Merge dim d into d+1 when d steps exactly over d+1 for every operand.
    for (size_t d = sizes_.size(); d-- > 1;) {
      bool mergeable = true;
      for (int k = 0; k < N; ++k) {
        mergeable = mergeable && strides_[k][d - 1] == strides_[k][d] * sizes_[d];
      }
      if (!mergeable) continue;
      sizes_[d] *= sizes_[d - 1];
      erase(sizes_, d - 1);
      for (int k = 0; k < N; ++k) erase(strides_[k], d - 1);
    }
  }

  int64_t numel() const { return numel_; }
  int64_t ndim() const { return static_cast<int64_t>(sizes_.size()); }

  // Calls inner(std::array<char*, N> ptrs, std::array<int64_t, N> strides, n)
  // over every element, in parallel when there are at least `grain`.
  template <typename F>
  void run(F&& inner, int64_t grain = kGrain) const {
    if (numel_ == 0) return;
    if (numel_ < grain || grain <= 0) {
      walk(0, numel_, inner);
      return;
    }
    parallel_for(0, numel_, grain, [&](int64_t begin, int64_t end) { walk(begin, end, inner); });
  }

 private:
  static void erase(DimVector& v, size_t i) {
    for (size_t j = i; j + 1 < v.size(); ++j) v[j] = v[j + 1];
    v.pop_back();
  }

  template <typename F>
  void walk(int64_t begin, int64_t end, F& inner) const {
    std::array<int64_t, N> step{};
    if (sizes_.empty()) {  // one element
      inner(data_, step, int64_t{1});
      return;
    }
    const size_t nd = sizes_.size();
    const size_t last = nd - 1;
    for (int k = 0; k < N; ++k) step[k] = strides_[k][last];
    // The multi-index of `begin`, and the operands' pointers there.
    DimVector index(nd, 0);
    std::array<char*, N> ptr = data_;
    int64_t rest = begin;
    for (size_t d = nd; d-- > 0;) {
      index[d] = rest % sizes_[d];
      rest /= sizes_[d];
      for (int k = 0; k < N; ++k) ptr[k] += index[d] * strides_[k][d];
    }
    while (begin < end) {
      // Whole rows at once along the next dim out: short rows (a size-1 dim
      // broadcast innermost) would otherwise pay the carry below for each.
      if (nd >= 2 && index[last] == 0 && end - begin >= sizes_[last]) {
        const size_t outer = last - 1;
        const int64_t rows = std::min(sizes_[outer] - index[outer], (end - begin) / sizes_[last]);
        std::array<char*, N> row = ptr;
        for (int64_t r = 0; r < rows; ++r) {
          inner(row, step, sizes_[last]);
          for (int k = 0; k < N; ++k) row[k] += strides_[k][outer];
        }
        begin += rows * sizes_[last];
        index[outer] += rows;
        for (int k = 0; k < N; ++k) ptr[k] += rows * strides_[k][outer];
        for (size_t d = outer; index[d] == sizes_[d] && d > 0; --d) {
          index[d] = 0;
          index[d - 1] += 1;
          for (int k = 0; k < N; ++k) {
            ptr[k] += strides_[k][d - 1] - sizes_[d] * strides_[k][d];
          }
        }
        continue;
      }
      const int64_t n = std::min(sizes_[last] - index[last], end - begin);
      inner(ptr, step, n);
      begin += n;
      index[last] += n;
      for (int k = 0; k < N; ++k) ptr[k] += n * step[k];
      // Carry into the outer dims.
      for (size_t d = last; index[d] == sizes_[d] && d > 0; --d) {
        index[d] = 0;
        index[d - 1] += 1;
        for (int k = 0; k < N; ++k) {
          ptr[k] += strides_[k][d - 1] - sizes_[d] * strides_[k][d];
        }
      }
    }
  }

  std::array<char*, N> data_;
  DimVector sizes_;
  std::array<DimVector, N> strides_;
  int64_t numel_ = 1;
};

// Strides of `t` seen at `sizes` (right-aligned), 0 where it broadcasts.
inline DimVector broadcast_strides(const Tensor& t, IntArrayRef sizes) {
  DimVector out(sizes.size(), 0);
  const int64_t shift = static_cast<int64_t>(sizes.size()) - t.dim();
  for (int64_t d = 0; d < t.dim(); ++d) {
    out[shift + d] = t.sizes()[d] == 1 ? 0 : t.strides()[d];
  }
  return out;
}

// Calls fn(offset) with the element offset of every element of a tensor of
// `sizes` and `strides`, in order (single-threaded; small or setup loops).
template <typename F>
inline void for_each_offset(IntArrayRef sizes, IntArrayRef strides, F fn) {
  const size_t nd = sizes.size();
  int64_t numel = 1;
  for (int64_t s : sizes) numel *= s;
  if (numel == 0) return;
  DimVector index(nd, 0);
  int64_t off = 0;
  for (int64_t n = 0; n < numel; ++n) {
    fn(off);
    for (size_t d = nd; d-- > 0;) {
      if (++index[d] < sizes[d]) {
        off += strides[d];
        break;
      }
      off -= strides[d] * (sizes[d] - 1);
      index[d] = 0;
    }
  }
}

}  // namespace sy::detail
