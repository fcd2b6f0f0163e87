// Internal to switchyard/ops/vec: the table of kernels one instruction set
// provides (vec_impl.inc fills it, vec.cpp picks one).
#pragma once

#include <cstdint>

namespace sy::vec {

template <typename F, typename D>
struct ForTypes {
  F f;  // float
  D d;  // double
};

template <typename T>
using MapFn = void (*)(const T*, T*, int64_t);
template <typename T>
using PowFn = void (*)(const T*, const T*, T*, int64_t);
template <typename T>
using SoftmaxFn = void (*)(const T*, T*, int64_t, int64_t, bool);
template <typename T>
using SumFn = double (*)(const T*, int64_t);
template <typename T>
using ExtremeFn = T (*)(const T*, int64_t);
using TransposeFn = void (*)(const void*, int64_t, int64_t, void*, int64_t, int64_t, int64_t,
                             int64_t);

struct Table {
  ForTypes<MapFn<float>, MapFn<double>> exp, log, tanh, erf, sigmoid, gelu, gelu_tanh;
  ForTypes<PowFn<float>, PowFn<double>> pow;
  ForTypes<SoftmaxFn<float>, SoftmaxFn<double>> softmax_rows;
  ForTypes<SumFn<float>, SumFn<double>> sum;
  ForTypes<ExtremeFn<float>, ExtremeFn<double>> max, min;
  TransposeFn transpose;
};

namespace avx512 {
extern const Table kTable;
}
namespace avx2 {
extern const Table kTable;
}
namespace generic {
extern const Table kTable;
}

}  // namespace sy::vec
