// Joining, splitting and indexing: cat, stack, split, chunk, index_select,
// gather. split and chunk return views; the others make new tensors. The
// functions are generated from the op table (indexing_ops.yaml; docs/op-table.md).
#pragma once

#include "switchyard/ops/generated/functions.h"
