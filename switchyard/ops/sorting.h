// Ordering along one dim: sort, argsort, topk, and the running scans cumsum
// and cumprod. Every dim argument may be negative (counted from the end).
#pragma once

#include <optional>
#include <tuple>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

// The values of self sorted along `dim`, and where each came from. The sort is
// stable (equal values keep their order); NaN sorts above every number.
SY_API std::tuple<Tensor, Tensor> sort(const Tensor& self, int64_t dim = -1,
                                       bool descending = false);
// The indices that sort self along `dim` (sort's second result).
SY_API Tensor argsort(const Tensor& self, int64_t dim = -1, bool descending = false);
// The k largest (or smallest) values along `dim` and their indices, in order
// from the best when `sorted`; ties keep index order. k must be in [0, size].
SY_API std::tuple<Tensor, Tensor> topk(const Tensor& self, int64_t k, int64_t dim = -1,
                                       bool largest = true, bool sorted = true);

// Running sums / products along `dim`. bool and integer inputs accumulate in
// int64 unless `dtype` says otherwise; float16/bfloat16 accumulate in float.
SY_API Tensor cumsum(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype = {});
SY_API Tensor cumprod(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype = {});

}  // namespace sy
