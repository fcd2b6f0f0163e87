// Matrix products: mm, bmm, matmul, dot, addmm. float32 and float64 go through
// OpenBLAS (transposed operands are passed as such, not copied); integer dtypes
// use a plain loop; bool is not supported. Operands must share one dtype.
#pragma once

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

// [n, k] @ [k, m] -> [n, m].
SY_API Tensor mm(const Tensor& self, const Tensor& mat2);
SY_API const Tensor& mm_out(const Tensor& out, const Tensor& self, const Tensor& mat2);
// [b, n, k] @ [b, k, m] -> [b, n, m].
SY_API Tensor bmm(const Tensor& self, const Tensor& mat2);
SY_API const Tensor& bmm_out(const Tensor& out, const Tensor& self, const Tensor& mat2);
// NumPy's matmul: dot for two vectors, a vector is a row (left) or a column
// (right) matrix, and leading dims of stacks of matrices broadcast.
SY_API Tensor matmul(const Tensor& self, const Tensor& other);
// Sum of products of two vectors of one length (a zero-dim result).
SY_API Tensor dot(const Tensor& self, const Tensor& other);
// beta * self + alpha * (mat1 @ mat2); self broadcasts to [n, m]; beta == 0
// ignores self entirely (NaNs in it included).
SY_API Tensor addmm(const Tensor& self, const Tensor& mat1, const Tensor& mat2,
                    const Scalar& beta = 1, const Scalar& alpha = 1);
SY_API const Tensor& addmm_out(const Tensor& out, const Tensor& self, const Tensor& mat1,
                               const Tensor& mat2, const Scalar& beta = 1,
                               const Scalar& alpha = 1);

}  // namespace sy
