// Internal to the ops layer: vectorised math kernels over contiguous arrays.
//
// The elementary functions come from SLEEF (its 1-ULP "u10" variants, the ones
// libtorch uses), the rest is written with GCC vector extensions. Each kernel
// is compiled once per instruction set (vec_avx512.cpp, vec_avx2.cpp, and a
// portable build in vec_generic.cpp); the first call picks the best one the CPU
// supports (Note [Choosing the instruction set] in vec.cpp). Every kernel
// accepts any length (tails run through the same vector code on a padded copy,
// so an element's result does not depend on where it sits) and any alignment;
// maps may run in place (y == x).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/export.h"

namespace sy::vec {

// The instruction set the kernels run with: "avx512", "avx2" or "generic".
// The best the CPU has, unless SY_VEC_ISA in the environment asks for a lower
// one (Note [Choosing the instruction set] in vec.cpp).
SY_API const char* isa_name();
// The instruction sets this CPU can run the kernels with, best first.
SY_API std::vector<std::string> supported_isas();
// Runs the kernels with `isa` from now on, for tests and comparisons; returns
// false, changing nothing, when the CPU cannot run it. Not for use while
// kernels run on other threads.
SY_API bool use_isa(std::string_view isa);

// y[i] = f(x[i]).
SY_API void exp(const float* x, float* y, int64_t n);
SY_API void exp(const double* x, double* y, int64_t n);
SY_API void log(const float* x, float* y, int64_t n);
SY_API void log(const double* x, double* y, int64_t n);
SY_API void tanh(const float* x, float* y, int64_t n);
SY_API void tanh(const double* x, double* y, int64_t n);
SY_API void erf(const float* x, float* y, int64_t n);
SY_API void erf(const double* x, double* y, int64_t n);
// 1 / (1 + exp(-x)).
SY_API void sigmoid(const float* x, float* y, int64_t n);
SY_API void sigmoid(const double* x, double* y, int64_t n);
// x * (1 + erf(x / sqrt(2))) / 2.
SY_API void gelu(const float* x, float* y, int64_t n);
SY_API void gelu(const double* x, double* y, int64_t n);
// x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))) / 2.
SY_API void gelu_tanh(const float* x, float* y, int64_t n);
SY_API void gelu_tanh(const double* x, double* y, int64_t n);

// y[i] = pow(x[i], e[i]) (C's pow, special cases included).
SY_API void pow(const float* x, const float* e, float* y, int64_t n);
SY_API void pow(const double* x, const double* e, double* y, int64_t n);

// softmax (or, with log, log_softmax) of each of `rows` contiguous rows of
// `n` values: one pass over the input for the row's maximum and sum of
// exponentials (Note [One-pass softmax] in vec_impl.inc), one over the output.
SY_API void softmax_rows(const float* x, float* y, int64_t rows, int64_t n, bool log);
SY_API void softmax_rows(const double* x, double* y, int64_t rows, int64_t n, bool log);

// Sum of n contiguous values, accumulated per lane in blocks and the blocks
// added in double.
SY_API double sum(const float* x, int64_t n);
SY_API double sum(const double* x, int64_t n);
// Largest / smallest of n > 0 contiguous values; NaN if any is NaN.
SY_API float max(const float* x, int64_t n);
SY_API double max(const double* x, int64_t n);
SY_API float min(const float* x, int64_t n);
SY_API double min(const double* x, int64_t n);

// dst[r * dst_row + c] = src[r * src_row + c * src_col] for r < rows and
// c < cols, elements of `elsize` bytes (1, 2, 4 or 8), in cache-sized tiles:
// copying a transposed matrix into a contiguous one. Strides are in elements.
SY_API void transpose(const void* src, int64_t src_row, int64_t src_col, void* dst, int64_t dst_row,
                      int64_t rows, int64_t cols, int64_t elsize);

}  // namespace sy::vec
