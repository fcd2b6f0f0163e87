// Tensors for tests of any layer: seeded random values, and comparison bit for
// bit (for results that must come from the same kernels on the same data).
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "switchyard/switchyard.h"

namespace sy::testing_tensors {

// float32 values in [-1, 1) drawn from `seed`, shaped `sizes`.
inline Tensor random_uniform(IntArrayRef sizes, uint32_t seed) {
  Tensor t = empty(sizes);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  float* p = t.data_ptr<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = dist(gen);
  return t;
}

// The same shape, dtype and bytes.
inline bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.sizes() != b.sizes() || a.dtype() != b.dtype()) return false;
  const Tensor ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.raw_data(), cb.raw_data(),
                     static_cast<size_t>(ca.numel() * element_size(ca.dtype()))) == 0;
}

// same_bits as a test expectation, printing both tensors when they differ.
inline void expect_same_bits(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.sizes(), b.sizes());
  ASSERT_EQ(a.dtype(), b.dtype());
  EXPECT_TRUE(same_bits(a, b)) << a.to_string() << "\nvs\n" << b.to_string();
}

}  // namespace sy::testing_tensors
