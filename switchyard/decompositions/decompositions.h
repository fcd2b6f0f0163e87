// Decompositions written as C++ functions, for ops whose decomposition is more
// than an expression; the op table names them (decomposition: {fn: ...}) and
// the generated registrations register them (see registry.h).
#pragma once

#include <optional>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy::decompositions {

// var.correction: the mean of the squared deviations, divided by n - correction.
SY_API Tensor var_correction(const Tensor& self, std::optional<IntArrayRef> dim, int64_t correction,
                             bool keepdim);

}  // namespace sy::decompositions
