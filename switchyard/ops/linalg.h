// Matrix products: mm, bmm, matmul, dot, addmm. float32 and float64 go through
// OpenBLAS (transposed operands are passed as such, not copied); integer dtypes
// use a plain loop; bool is not supported. Operands must share one dtype. The
// functions are generated from the op table (linalg_ops.yaml; docs/op-table.md).
#pragma once

#include "switchyard/ops/generated/functions.h"
