#include "switchyard/autograd/decomposition.h"

#include <atomic>

#include "switchyard/autograd/kernel_support.h"

namespace sy::autograd {
namespace {
std::atomic<DecompositionInterface*> g_impl{nullptr};
}  // namespace

DecompositionInterface* set_decomposition_impl(DecompositionInterface* impl) {
  return g_impl.exchange(impl, std::memory_order_acq_rel);
}

DecompositionInterface* get_decomposition_impl() { return g_impl.load(std::memory_order_acquire); }

namespace detail {

void run_decomposition_for_forward_ad(const OperatorHandle& op, Stack& stack) {
  DecompositionInterface* impl = get_decomposition_impl();
  SY_CHECK(impl != nullptr, DispatchError,
           "{}: an input carries a forward-mode tangent, but the op has no forward formula, and "
           "no decomposition library is loaded to decompose it (the decomposition interface is "
           "unset), so neither a forward formula nor a decomposition exists for it",
           op.name());
  SY_CHECK(impl->has_decomposition(op.schema()), DispatchError,
           "{}: an input carries a forward-mode tangent, but the op has neither a forward formula "
           "(in the op table) nor a decomposition (in the decomposition registry); add one of them "
           "to differentiate it in forward mode",
           op.name());
  impl->run_decomposition(op, &stack);
}

}  // namespace detail
}  // namespace sy::autograd
