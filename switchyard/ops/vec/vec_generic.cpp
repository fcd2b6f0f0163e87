// The vec.h kernels for any x86-64 (SSE2, the baseline): 4 floats or 2 doubles
// a vector, SLEEF's sse2 functions.
#include <emmintrin.h>
#include <sleef.h>

namespace sy::vec::generic {
struct Floats {
  using T = float;
  using V = __m128;
  static V exp(V x) { return Sleef_expf4_u10sse2(x); }
  static V log(V x) { return Sleef_logf4_u10sse2(x); }
  static V tanh(V x) { return Sleef_tanhf4_u10sse2(x); }
  static V erf(V x) { return Sleef_erff4_u10sse2(x); }
  static V pow(V x, V e) { return Sleef_powf4_u10sse2(x, e); }
};
struct Doubles {
  using T = double;
  using V = __m128d;
  static V exp(V x) { return Sleef_expd2_u10sse2(x); }
  static V log(V x) { return Sleef_logd2_u10sse2(x); }
  static V tanh(V x) { return Sleef_tanhd2_u10sse2(x); }
  static V erf(V x) { return Sleef_erfd2_u10sse2(x); }
  static V pow(V x, V e) { return Sleef_powd2_u10sse2(x, e); }
};
}  // namespace sy::vec::generic

#define SY_VEC_ISA generic
#include "switchyard/ops/vec/vec_impl.inc"
