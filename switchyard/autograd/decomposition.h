// The decomposition interface (seed 003): how autograd reaches the
// decompositions library without depending on it.
//
// Some ops have no forward-mode formula; they can still be differentiated
// forward by running their decomposition (the same op written in other ops,
// each of which has one). The decompositions live in their own library above
// autograd (switchyard/decompositions/), which fills this interface at start-up
// with set_decomposition_impl(). Autograd calls get_decomposition_impl() when
// it needs one; when nothing is registered, or the op has no decomposition, the
// caller fails with an error naming the op. vmap and the tracer use the same
// registry through the same interface.
//
// Thread-safety: set the implementation at start-up (static initialisation)
// or while no op runs; reads are one atomic load.
#pragma once

#include "switchyard/core/export.h"
#include "switchyard/dispatch/dispatcher.h"
#include "switchyard/dispatch/function_schema.h"

namespace sy::autograd {

class SY_API DecompositionInterface {
 public:
  virtual ~DecompositionInterface() = default;
  // Whether the op with this schema has a decomposition.
  virtual bool has_decomposition(const FunctionSchema& schema) const = 0;
  // Runs the decomposition of `op` on the arguments on `stack` (all of them,
  // as for call_boxed), leaving the results there.
  virtual void run_decomposition(const OperatorHandle& op, Stack* stack) const = 0;
};

// Installs `impl` (not owned; null uninstalls) and returns the previous one.
SY_API DecompositionInterface* set_decomposition_impl(DecompositionInterface* impl);
// The installed implementation, or null.
SY_API DecompositionInterface* get_decomposition_impl();

// Installs an implementation during static initialisation.
struct DecompositionRegisterer {
  explicit DecompositionRegisterer(DecompositionInterface* impl) { set_decomposition_impl(impl); }
};

}  // namespace sy::autograd
