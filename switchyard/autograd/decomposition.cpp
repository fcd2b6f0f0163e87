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

void run_decomposition_for_autograd(const OperatorHandle& op, Stack& stack, bool for_forward) {
  const char* why = for_forward
                        ? "an input carries a forward-mode tangent, but the op has no forward "
                          "formula"
                        : "an input requires grad or carries a tangent, and the op is "
                          "differentiated through its decomposition";
  DecompositionInterface* impl = get_decomposition_impl();
  SY_CHECK(impl != nullptr, DispatchError,
           "{}: {}, and no decomposition library is loaded to decompose it (the decomposition "
           "interface is unset), so neither a forward formula nor a decomposition exists for it",
           op.name(), why);
  SY_CHECK(impl->has_decomposition(op.schema()), DispatchError,
           "{}: {}, and it has neither a forward formula (in the op table) nor a decomposition "
           "(in the decomposition registry); add one of them to differentiate it",
           op.name(), why);
  impl->run_decomposition(op, &stack);
}

}  // namespace detail
}  // namespace sy::autograd
