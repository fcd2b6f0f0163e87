// The vec.h kernels for AVX2 with FMA (compiled with -mavx2 -mfma): 8 floats
// or 4 doubles a vector, SLEEF's avx2 functions.
#include <immintrin.h>
#include <sleef.h>

namespace sy::vec::avx2 {
struct Floats {
  using T = float;
  using V = __m256;
  static V exp(V x) { return Sleef_expf8_u10avx2(x); }
  static V log(V x) { return Sleef_logf8_u10avx2(x); }
  static V tanh(V x) { return Sleef_tanhf8_u10avx2(x); }
  static V erf(V x) { return Sleef_erff8_u10avx2(x); }
  static V pow(V x, V e) { return Sleef_powf8_u10avx2(x, e); }
};
struct Doubles {
  using T = double;
  using V = __m256d;
  static V exp(V x) { return Sleef_expd4_u10avx2(x); }
  static V log(V x) { return Sleef_logd4_u10avx2(x); }
  static V tanh(V x) { return Sleef_tanhd4_u10avx2(x); }
  static V erf(V x) { return Sleef_erfd4_u10avx2(x); }
  static V pow(V x, V e) { return Sleef_powd4_u10avx2(x, e); }
};
}  // namespace sy::vec::avx2

#define SY_VEC_ISA avx2
#include "switchyard/ops/vec/vec_impl.inc"
