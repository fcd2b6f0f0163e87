// Helpers the derivative formulas of the op table call (switchyard/ops/*.yaml,
// fields backward and forward; docs/op-table.md). Each is written in ops, so a
// formula that uses it is itself differentiable (double backward).
//
// Naming follows PyTorch's FunctionsManual.cpp where a helper has a PyTorch
// counterpart (select_backward, value_selecting_reduction_backward, ...).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy::autograd::formulas {

// t * s, or t itself when s is 1 (no op recorded).
SY_API Tensor maybe_multiply(const Tensor& t, const Scalar& s);

// -1, 0 or 1 by the sign of each element, in t's dtype.
SY_API Tensor sgn(const Tensor& t);

// `grad` (the result of a reduction over `dims` of a tensor of `sizes`)
// with the reduced dims put back as size 1 when the reduction dropped them.
SY_API Tensor unsqueeze_reduced(const Tensor& grad, IntArrayRef sizes,
                                std::optional<IntArrayRef> dims, bool keepdim);
// The number of elements a reduction over `dims` combined into each result.
SY_API int64_t reduced_count(IntArrayRef sizes, std::optional<IntArrayRef> dims);

// The gradient of a view op scattered back into zeros of the input's shape
// (built with cat, so it records: double backward works).
SY_API Tensor select_backward(const Tensor& grad, IntArrayRef sizes, int64_t dim, int64_t index);
SY_API Tensor slice_backward(const Tensor& grad, IntArrayRef sizes, int64_t dim,
                             std::optional<int64_t> start, std::optional<int64_t> end,
                             int64_t step);
// The inverse permutation of `dims`.
SY_API std::vector<int64_t> inverse_permutation(IntArrayRef dims);
// squeeze's and squeeze.dim's gradient: back to `sizes`.
SY_API Tensor unsqueeze_to(const Tensor& grad, IntArrayRef sizes);

// Gradients of gathering ops: sums `grad` into zeros of `sizes` at `index`
// along `dim` (through a one-hot product, in ops).
SY_API Tensor index_select_backward(const Tensor& grad, IntArrayRef sizes, int64_t dim,
                                    const Tensor& index);
SY_API Tensor gather_backward(const Tensor& grad, IntArrayRef sizes, int64_t dim,
                              const Tensor& index);
// max.dim / min.dim: the values' gradient into the positions `indices` chose.
SY_API Tensor value_selecting_reduction_backward(const Tensor& grad, int64_t dim,
                                                 const Tensor& indices, IntArrayRef sizes,
                                                 bool keepdim);
// The values at `indices` along `dim` of `t` (the forward formula of max.dim).
SY_API Tensor gather_values(const Tensor& t, int64_t dim, const Tensor& indices, bool keepdim);
// max() / min() over everything: the gradient shared among the elements equal
// to the result.
SY_API Tensor evenly_distribute_backward(const Tensor& grad, const Tensor& self,
                                         const Tensor& result);

// d prod(self) / d self, elementwise (zeros handled), for the whole tensor or
// along `dim` (result kept with keepdim = true there).
SY_API Tensor prod_partials(const Tensor& self, const Tensor& result);
SY_API Tensor prod_partials_dim(const Tensor& self, const Tensor& result, int64_t dim,
                                bool keepdim);

// var over `dims` with `correction`: d var / d self times grad, and the JVP.
SY_API Tensor var_backward(const Tensor& grad, const Tensor& self, std::optional<IntArrayRef> dims,
                           int64_t correction, bool keepdim);
SY_API Tensor var_jvp(const Tensor& self_t, const Tensor& self, std::optional<IntArrayRef> dims,
                      int64_t correction, bool keepdim);

// Elementwise derivatives.
SY_API Tensor pow_backward_self(const Tensor& grad, const Tensor& self, const Tensor& exponent);
SY_API Tensor pow_backward_exponent(const Tensor& grad, const Tensor& self, const Tensor& exponent,
                                    const Tensor& result);
SY_API Tensor gelu_backward(const Tensor& grad, const Tensor& self, std::string_view approximate);
// maximum / minimum: the gradient goes to the larger (smaller) operand, split on ties.
SY_API Tensor max_min_backward(const Tensor& grad, const Tensor& self, const Tensor& other,
                               bool take_max);
// clamp: the gradient where min <= self <= max.
SY_API Tensor clamp_backward(const Tensor& grad, const Tensor& self,
                             const std::optional<Scalar>& min, const std::optional<Scalar>& max);
// clamp with tensor bounds (either may be absent: undefined): the gradient of
// self where min <= self <= max, of min where self < min <= max, of max where
// self > max or min > max (the result is max then), and the JVP.
SY_API Tensor clamp_backward_self(const Tensor& grad, const Tensor& self, const Tensor& min,
                                  const Tensor& max);
SY_API Tensor clamp_backward_min(const Tensor& grad, const Tensor& self, const Tensor& min,
                                 const Tensor& max);
SY_API Tensor clamp_backward_max(const Tensor& grad, const Tensor& self, const Tensor& min,
                                 const Tensor& max);
SY_API Tensor clamp_jvp(const Tensor& self_t, const Tensor& self, const Tensor& min_t,
                        const Tensor& min, const Tensor& max_t, const Tensor& max);
// div with rounding: zero; true division otherwise.
SY_API Tensor div_backward_self(const Tensor& grad, const Tensor& other,
                                std::optional<std::string_view> rounding_mode);
SY_API Tensor div_backward_other(const Tensor& grad, const Tensor& self, const Tensor& other,
                                 std::optional<std::string_view> rounding_mode);

// masked_select: grad's values at the positions the mask picked (self and mask
// broadcast together; the engine sums a broadcast self's share back down).
SY_API Tensor masked_select_backward(const Tensor& grad, IntArrayRef self_sizes,
                                     const Tensor& mask);

// index.Tensor: grad summed into zeros of `self_sizes` at `indices`.
SY_API Tensor index_backward(const Tensor& grad, IntArrayRef self_sizes,
                             OptionalTensorListRef indices);
// index_put_: self's gradient (zero where values went, unless accumulating).
SY_API Tensor index_put_backward_self(const Tensor& grad, OptionalTensorListRef indices,
                                      bool accumulate);

// scatter_ / scatter_add_: src's gradient, grad at index (zero where src has
// positions index does not reach).
SY_API Tensor scatter_backward_src(const Tensor& grad, int64_t dim, const Tensor& index,
                                   IntArrayRef src_sizes);

// scatter_ with reduce= ("add" or "multiply"): the gradients of self (before
// the op) and src, the JVP, and scatter_.value_reduce's gradient of self (also
// its JVP: it is linear in self). Multiplying divides only by nonzero factors
// (zeros handled; `result` is the op's output).
SY_API Tensor scatter_reduce_backward_self(const Tensor& grad, int64_t dim, const Tensor& index,
                                           const Tensor& src, std::string_view reduce);
SY_API Tensor scatter_reduce_backward_src(const Tensor& grad, const Tensor& self, int64_t dim,
                                          const Tensor& index, const Tensor& src,
                                          std::string_view reduce, const Tensor& result);
SY_API Tensor scatter_reduce_jvp(const Tensor& self_t, const Tensor& self, int64_t dim,
                                 const Tensor& index, const Tensor& src_t, const Tensor& src,
                                 std::string_view reduce, const Tensor& result);
SY_API Tensor scatter_value_reduce_backward(const Tensor& grad, int64_t dim, const Tensor& index,
                                            const Scalar& value, std::string_view reduce);

// cumprod along dim: the gradient and the JVP (zeros in self handled: past a
// slice's first zero only that zero's element contributes).
SY_API Tensor cumprod_backward(const Tensor& grad, const Tensor& self, int64_t dim,
                               const Tensor& result);
SY_API Tensor cumprod_jvp(const Tensor& self_t, const Tensor& self, int64_t dim,
                          const Tensor& result);

// cat: each input's share of the gradient.
SY_API std::vector<Tensor> cat_backward(const Tensor& grad, const std::vector<DimVector>& sizes,
                                        int64_t dim);

}  // namespace sy::autograd::formulas
