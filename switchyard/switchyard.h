// The whole public C++ API of switchyard.
#pragma once

#include "switchyard/core/dispatch_key.h"
#include "switchyard/core/dispatch_key_set.h"
#include "switchyard/core/error.h"
#include "switchyard/core/local_dispatch_key_set.h"
#include "switchyard/core/tracer_mode.h"
#include "switchyard/dispatch/dispatcher.h"
#include "switchyard/dispatch/function_schema.h"
#include "switchyard/dispatch/library.h"
#include "switchyard/ops/ops.h"
#include "switchyard/tensor/device.h"
#include "switchyard/tensor/ivalue.h"
#include "switchyard/tensor/scalar.h"
#include "switchyard/tensor/scalar_type.h"
#include "switchyard/tensor/tensor.h"
