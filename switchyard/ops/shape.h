// Views and shape ops. Views share their input's storage and never copy;
// reshape and contiguous copy only when a view cannot express the result.
// Every dim argument may be negative (counted from the end). The functions are
// generated from the op table (shape_ops.yaml, copy_ops.yaml; docs/op-table.md).
#pragma once

#include "switchyard/ops/generated/functions.h"
