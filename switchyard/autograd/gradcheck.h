// gradcheck: compares the derivatives autograd computes with finite
// differences, as torch.autograd.gradcheck does.
//
// For every input that requires grad and every element of it, the numerical
// Jacobian column is (f(x + eps) - f(x - eps)) / (2 eps); the analytical one
// comes from backward (one vector-Jacobian product per output element) and,
// with check_forward_ad, from forward mode (one Jacobian-vector product per
// input element). Inputs should be float64: in float32 the differences are
// too coarse for the default tolerances.
#pragma once

#include <functional>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy::autograd {

// Raised by gradcheck (with raise_exception) when the Jacobians differ; the
// message names the output and input, and shows both Jacobians.
class SY_API GradcheckError : public AutogradError {
 public:
  using AutogradError::AutogradError;
};

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  bool raise_exception = true;
  bool check_backward_ad = true;
  bool check_forward_ad = false;
};

using GradcheckFunction = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

// Whether fn's analytical derivatives match the numerical ones at `inputs`
// (only inputs that require grad are checked). Throws GradcheckError on a
// mismatch when raise_exception is set; errors raised by fn pass through.
SY_API bool gradcheck(const GradcheckFunction& fn, const std::vector<Tensor>& inputs,
                      const GradcheckOptions& options = {});

// gradcheck of the gradients: checks that fn's backward is itself
// differentiable (the vector-Jacobian products of fn, as functions of the
// inputs and of random output gradients, against finite differences).
SY_API bool gradgradcheck(const GradcheckFunction& fn, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options = {});

}  // namespace sy::autograd
