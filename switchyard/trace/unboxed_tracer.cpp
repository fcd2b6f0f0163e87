// The tracer's unboxed recording path. The boxed fallback (tracer.cpp) serves
// every op, but a typed call that reaches it boxes its arguments onto a stack,
// and the op below unboxes them again. For the built-in ops whose signature is
// one of the common ones (common_signatures.h), an unboxed Tracer kernel
// records the call straight from its C++ arguments and continues it unboxed.
//
// The kernels are registered the first time a tracing state is installed, for
// the ops defined then: ops of namespace sy only, which are never removed, so
// a kernel here never outlives its op's definition. Every other op (and any op
// whose signature is not listed) records through the boxed fallback, with the
// same result. When the trace records decompositions (TraceOptions), an op
// that has one runs it here, as the fallback does.
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "switchyard/core/tracer_mode.h"
#include "switchyard/decompositions/registry.h"
#include "switchyard/dispatch/library.h"
#include "switchyard/trace/common_signatures.h"
#include "switchyard/trace/tracer_impl.h"

namespace sy::detail {
namespace {

// Node arguments from unboxed C++ arguments; the caller holds the state's lock.
void record_unboxed(TracingState& s, NodeArg& arg, const Tensor& t) {
  arg.kind = NodeArg::Kind::Value;
  arg.value = s.value_for(t);
}
void record_unboxed(TracingState& s, NodeArg& arg, ArrayRef<Tensor> ts) {
  arg.kind = NodeArg::Kind::ValueList;
  for (const Tensor& t : ts) arg.list.push_back(s.value_for(t));
}
template <typename T>
void record_unboxed(TracingState&, NodeArg& arg, const T& v) {
  arg.constant = ArgTraits<canonical_arg_t<T>>::box(v);
}

// The Tracer kernel of one op with C++ signature Tensor(Args...) (canonical
// parameter types): as trace_op in tracer.cpp, without boxing.
template <typename... Args>
struct UnboxedTracer {
  TypedOperatorHandle<Tensor(Args...)> op;

  Tensor operator()(DispatchKeySet keys, Args... args) const {
    const DispatchKeySet below = keys.remove_from_and_above(DispatchKey::Tracer);
    TracingState* state = current_tracing_state();
    if (state == nullptr) return op.redispatch(below, args...);
    if (SY_UNLIKELY(state->decompose()) && decompositions::has_decomposition(op.name())) {
      // As trace_op: the decomposition's ops come back through the Tracer key
      // and are recorded; it takes its arguments boxed.
      Stack stack;
      stack.reserve(sizeof...(Args));
      (stack.push_back(ArgTraits<canonical_arg_t<Args>>::box(args)), ...);
      decompositions::run_decomposition(op, &stack);
      return pop_results<Tensor>(stack, op.name());
    }
    Node* node;
    {
      TracingState::Lock lock(*state);
      const Graph::PendingNode p = state->begin(op, op.current_schema());
      node = p.node;
      size_t i = 0;
      (record_unboxed(*state, p.args[i++], args), ...);
    }
    Tensor result;
    {
      tracer::NoTracerDispatchMode suspended;
      result = op.redispatch(below, args...);
    }
    state->end(node, result);
    return result;
  }
};

}  // namespace

void install_unboxed_tracer_kernels() {
  static std::once_flag once;
  // Never destroyed: the kernels stay for the life of the process, as the
  // built-in ops do (a static pointer, so leak checkers see it reachable).
  static Library* lib = nullptr;
  std::call_once(once, [] {
    lib = new Library(Library::IMPL, "sy", DispatchKey::Tracer, __FILE__, __LINE__);
    Dispatcher& d = Dispatcher::singleton();
    for (const std::string& name : d.op_names()) {
      if (name.rfind("sy::", 0) != 0) continue;
      std::optional<OperatorHandle> op = d.find_op_or_null(name);
      if (!op) continue;
      try {
        with_common_signature(op->schema(), [&]<typename... Args>() {
          lib->impl(std::string_view(name).substr(4),
                    CppFunction(UnboxedTracer<Args...>{op->typed<Tensor(Args...)>()}));
        });
      } catch (const Error&) {
        // The op has a Tracer kernel of its own, or changed meanwhile: it keeps
        // the boxed fallback (or its own kernel).
      }
    }
  });
}

}  // namespace sy::detail
