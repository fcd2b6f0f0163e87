// Reductions over all elements or over some dims (keepdim keeps them as size 1):
// sum, mean, prod, max, min, argmax, argmin, var, std, softmax, log_softmax.
#pragma once

#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

}  // namespace sy
