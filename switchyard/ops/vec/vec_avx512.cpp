// The vec.h kernels for AVX-512 (compiled with -mavx512f -mavx512dq -mfma):
// 16 floats or 8 doubles a vector, SLEEF's avx512f functions.
#include <immintrin.h>
#include <sleef.h>

namespace sy::vec::avx512 {
struct Floats {
  using T = float;
  using V = __m512;
  static V exp(V x) { return Sleef_expf16_u10avx512f(x); }
  static V log(V x) { return Sleef_logf16_u10avx512f(x); }
  static V tanh(V x) { return Sleef_tanhf16_u10avx512f(x); }
  static V erf(V x) { return Sleef_erff16_u10avx512f(x); }
  static V pow(V x, V e) { return Sleef_powf16_u10avx512f(x, e); }
};
struct Doubles {
  using T = double;
  using V = __m512d;
  static V exp(V x) { return Sleef_expd8_u10avx512f(x); }
  static V log(V x) { return Sleef_logd8_u10avx512f(x); }
  static V tanh(V x) { return Sleef_tanhd8_u10avx512f(x); }
  static V erf(V x) { return Sleef_erfd8_u10avx512f(x); }
  static V pow(V x, V e) { return Sleef_powd8_u10avx512f(x, e); }
};
}  // namespace sy::vec::avx512

#define SY_VEC_ISA avx512
#include "switchyard/ops/vec/vec_impl.inc"
