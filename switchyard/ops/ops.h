// The built-in operator set, as free functions that go through the dispatcher.
// Each op is defined in namespace `sy` of the schema language ("sy::add.Tensor")
// through the public Library API, with CPU and Meta kernels or as a composite;
// docs/ops.md lists every op with its kernels.
#pragma once

#include "switchyard/ops/creation.h"
#include "switchyard/ops/elementwise.h"
#include "switchyard/ops/indexing.h"
#include "switchyard/ops/linalg.h"
#include "switchyard/ops/random.h"
#include "switchyard/ops/reduction.h"
#include "switchyard/ops/shape.h"
#include "switchyard/ops/type_promotion.h"
