// Reductions over all elements or over some dims (keepdim keeps them as size 1):
// sum, mean, prod, max, min, argmax, argmin, var, std, softmax, log_softmax.
// An empty dim list means every dim; negative dims count from the end; a dim
// named twice is an error. The functions are generated from the op table
// (reduction_ops.yaml; docs/op-table.md).
#pragma once

#include "switchyard/ops/generated/functions.h"
