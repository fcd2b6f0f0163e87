// Helpers shared by the autograd tests.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "switchyard/switchyard.h"

namespace sy::testing {

// The values of t, row-major, as doubles.
inline std::vector<double> values(const Tensor& t) {
  const Tensor d = t.detach().to(kFloat64).contiguous();
  const double* p = d.data_ptr<double>();
  return std::vector<double>(p, p + d.numel());
}

inline ::testing::AssertionResult close(const Tensor& actual, const std::vector<double>& expected,
                                        double tol = 1e-5) {
  if (!actual.defined()) return ::testing::AssertionFailure() << "tensor is undefined";
  const std::vector<double> a = values(actual);
  if (a.size() != expected.size()) {
    return ::testing::AssertionFailure()
           << "has " << a.size() << " elements, expected " << expected.size();
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::fabs(a[i] - expected[i]) > tol * (1 + std::fabs(expected[i]))) {
      return ::testing::AssertionFailure() << "element " << i << " is " << a[i] << ", expected "
                                           << expected[i] << " in " << actual.to_string();
    }
  }
  return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult close(const Tensor& actual, const Tensor& expected,
                                        double tol = 1e-5) {
  return close(actual, values(expected), tol);
}

// A float64 leaf that requires grad.
inline Tensor leaf(const TensorData& data) {
  return tensor(data, TensorOptions().dtype(kFloat64)).requires_grad_();
}

// Whether `fn` throws an sy::Error whose message contains every one of `parts`.
template <typename E = Error, typename F>
::testing::AssertionResult throws_with(F&& fn, const std::vector<std::string>& parts) {
  try {
    fn();
  } catch (const E& e) {
    const std::string what = e.what();
    for (const std::string& p : parts) {
      if (what.find(p) == std::string::npos) {
        return ::testing::AssertionFailure() << "message lacks '" << p << "': " << what;
      }
    }
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

}  // namespace sy::testing
