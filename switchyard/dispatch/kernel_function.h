// KernelFunction: what a dispatch table slot holds. Every kernel can be called
// boxed (arguments on a Stack); a kernel made from a C++ callable can also be
// called unboxed, straight through a function pointer with the arguments in
// registers, which is what a typed call uses when it can.
//
// A KernelFunction is three words and does not own its state: the functor it
// points at is owned by the registration and by every table that uses it (see
// operator_entry.h), so copying slots is free.
#pragma once

#include "switchyard/core/dispatch_key_set.h"
#include "switchyard/core/export.h"
#include "switchyard/tensor/ivalue.h"

namespace sy {

class OperatorHandle;

// Base of the state a kernel carries: a functor, a lambda's captures, a Python
// callable. Kernels made from plain functions carry a trivial one.
class SY_API OperatorKernel {
 public:
  virtual ~OperatorKernel() = default;
};

// A boxed kernel: takes its arguments from the end of `stack` and leaves its
// results there. `keys` is the call's key set, for redispatching below itself.
using BoxedKernelFn = void (*)(OperatorKernel* functor, const OperatorHandle& op,
                               DispatchKeySet keys, Stack* stack);

struct KernelFunction {
  BoxedKernelFn boxed = nullptr;
  // R(*)(OperatorKernel*, DispatchKeySet, Args...) in the op's canonical C++
  // signature (see boxing.h), or null for kernels that exist only boxed.
  void* unboxed = nullptr;
  OperatorKernel* functor = nullptr;

  bool valid() const { return boxed != nullptr; }
  bool is_fallthrough() const;
  void call_boxed(const OperatorHandle& op, DispatchKeySet keys, Stack* stack) const {
    boxed(functor, op, keys, stack);
  }
};

namespace detail {
// The boxed function of every fallthrough kernel: redispatches below its key.
// It only runs if a fallthrough key is reached some way other than a normal
// call (dispatch masks fallthrough keys out), e.g. by an explicit redispatch.
SY_API void fallthrough_boxed(OperatorKernel*, const OperatorHandle& op, DispatchKeySet keys,
                              Stack* stack);
}  // namespace detail

inline bool KernelFunction::is_fallthrough() const { return boxed == &detail::fallthrough_boxed; }

}  // namespace sy
