// Joining, splitting and indexing: cat, stack, split, chunk, index_select, gather.
#pragma once

#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

}  // namespace sy
