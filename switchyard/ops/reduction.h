// Reductions over all elements or over some dims (keepdim keeps them as size 1):
// sum, mean, prod, max, min, argmax, argmin, var, std, softmax, log_softmax.
// An empty dim list means every dim; negative dims count from the end; a dim
// named twice is an error.
#pragma once

#include <optional>
#include <tuple>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

// Sum; bool and integer inputs sum in int64 unless `dtype` says otherwise.
SY_API Tensor sum(const Tensor& self, std::optional<ScalarType> dtype = {});
SY_API Tensor sum(const Tensor& self, IntArrayRef dim, bool keepdim = false,
                  std::optional<ScalarType> dtype = {});
SY_API const Tensor& sum_out(const Tensor& out, const Tensor& self, IntArrayRef dim,
                             bool keepdim = false, std::optional<ScalarType> dtype = {});
// Mean of floating inputs (pass dtype for integer ones); the mean of nothing is NaN.
SY_API Tensor mean(const Tensor& self, std::optional<ScalarType> dtype = {});
SY_API Tensor mean(const Tensor& self, IntArrayRef dim, bool keepdim = false,
                   std::optional<ScalarType> dtype = {});
SY_API const Tensor& mean_out(const Tensor& out, const Tensor& self, IntArrayRef dim,
                              bool keepdim = false, std::optional<ScalarType> dtype = {});
SY_API Tensor prod(const Tensor& self, std::optional<ScalarType> dtype = {});
SY_API Tensor prod(const Tensor& self, int64_t dim, bool keepdim = false,
                   std::optional<ScalarType> dtype = {});
// Largest / smallest element (NaN wins; an empty tensor is an error), or along
// `dim` the values and their (first) indices.
SY_API Tensor max(const Tensor& self);
SY_API std::tuple<Tensor, Tensor> max(const Tensor& self, int64_t dim, bool keepdim = false);
SY_API Tensor min(const Tensor& self);
SY_API std::tuple<Tensor, Tensor> min(const Tensor& self, int64_t dim, bool keepdim = false);
// Index of the first largest / smallest element (flattened when dim is absent).
SY_API Tensor argmax(const Tensor& self, std::optional<int64_t> dim = {}, bool keepdim = false);
SY_API Tensor argmin(const Tensor& self, std::optional<int64_t> dim = {}, bool keepdim = false);
// Variance with `correction` (1: unbiased, 0: population); std is its root.
SY_API Tensor var(const Tensor& self, IntArrayRef dim = {}, int64_t correction = 1,
                  bool keepdim = false);
SY_API Tensor std(const Tensor& self, IntArrayRef dim = {}, int64_t correction = 1,
                  bool keepdim = false);
// exp(x) / sum(exp(x)) along dim, computed stably; log_softmax directly (not log of softmax).
SY_API Tensor softmax(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype = {});
SY_API Tensor log_softmax(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype = {});

}  // namespace sy
