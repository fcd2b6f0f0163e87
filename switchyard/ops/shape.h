// Views and shape ops. Views share their input's storage and never copy;
// reshape and contiguous copy only when a view cannot express the result.
#pragma once

#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

}  // namespace sy
