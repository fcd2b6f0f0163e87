// The decomposition registry: ops written in terms of other ops, one C++
// registry for every user (seed 003's decomposition interface).
//
// A decomposition computes an op from other ops, each of which goes through
// the dispatcher as usual. Forward-mode AD runs one when an op has no forward
// formula (through autograd's DecompositionInterface, which this library fills
// at start-up); vmap uses them for ops without a batching rule; the tracer can
// record an op's decomposition instead of the op. docs/autograd.md lists
// which ops have one.
//
//   register_decomposition("sy::sigmoid", [](const Tensor& x) { return 1 / (1 + (-x).exp()); });
//
// Thread-safety: registration takes a lock and may run while other threads
// look decompositions up; lookups take the same lock briefly.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/dispatch/cpp_function.h"
#include "switchyard/dispatch/dispatcher.h"

namespace sy::decompositions {

// Registers `fn` (a callable whose signature matches the op's schema, as for
// Library::impl) as the decomposition of op `op_name` ("sy::var.correction").
// A second registration for one op replaces the first.
SY_API void register_decomposition(std::string op_name, CppFunction fn);
// Removes the op's decomposition; returns whether it had one.
SY_API bool remove_decomposition(std::string_view op_name);

SY_API bool has_decomposition(std::string_view op_name);
// Runs the decomposition of `op` on the arguments on `stack` (all of them),
// leaving the results there. A DispatchError naming the op when it has none.
SY_API void run_decomposition(const OperatorHandle& op, Stack* stack);
// The names of the ops that have one, sorted.
SY_API std::vector<std::string> decomposed_ops();

}  // namespace sy::decompositions
