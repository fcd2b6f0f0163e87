// Internals shared by the tracer's two recording paths: the boxed fallback
// for every op (tracer.cpp) and the unboxed kernels for the common signatures
// of the built-in ops (unboxed_tracer.cpp).
#pragma once

#include "switchyard/trace/tracer.h"

namespace sy::detail {

// The calling thread's tracing state, or null; not a new reference.
TracingState* current_tracing_state();

// One boxed argument as a node argument. The caller holds the state's lock.
void record_arg(TracingState& state, NodeArg& arg, const IValue& a);

// Registers, once per process, an unboxed Tracer kernel for each built-in op
// (namespace sy) whose signature is one of the common ones, so a typed call
// records without boxing its arguments. Other ops keep the boxed fallback.
void install_unboxed_tracer_kernels();

}  // namespace sy::detail
