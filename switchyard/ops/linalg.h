// Matrix products: mm, bmm, matmul, dot, addmm (float types through OpenBLAS).
#pragma once

#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

}  // namespace sy
