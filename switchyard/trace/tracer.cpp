#include "switchyard/trace/tracer.h"

#include "switchyard/trace/tracer_impl.h"

#include <bit>

#include <fmt/format.h>

#include "switchyard/core/error.h"
#include "switchyard/core/thread_local_state.h"
#include "switchyard/core/tracer_mode.h"
#include "switchyard/decompositions/registry.h"
#include "switchyard/dispatch/library.h"
#include "switchyard/dispatch/operator_entry.h"

namespace sy {
namespace {

// The tracing state's place in the thread-local snapshot. A copy shares the
// state: work carried to another thread records into the same graph.
struct TracingSlot final : ThreadLocalSlot {
  explicit TracingSlot(std::shared_ptr<TracingState> s) : state(std::move(s)) {}
  std::unique_ptr<ThreadLocalSlot> deepcopy() const override {
    state->note_copy();
    return std::make_unique<TracingSlot>(state);
  }
  std::shared_ptr<TracingState> state;
};

SlotId tracing_slot() {
  static const SlotId id = register_thread_local_slot("tracer");
  return id;
}
// Registered at load time, so the slot number is fixed before any thread traces.
[[maybe_unused]] const SlotId kRegisteredAtLoad = tracing_slot();

TracingState* current_state() { return detail::current_tracing_state(); }

}  // namespace

[[noreturn]] void TracingState::throw_finished(const FunctionSchema& schema) {
  throw DispatchError(fmt::format(
      "tracer: {} was called on a thread carrying a trace that has already finished; work "
      "launched while tracing must complete before the traced function returns",
      schema.full_name()));
}

namespace {

// The Tracer key's kernel for every op: records the call as a node, then runs
// the op below the Tracer key with tracing suspended, so only the outermost op
// is recorded.
void trace_op(const OperatorHandle& op, DispatchKeySet keys, Stack* stack) {
  const DispatchKeySet below = keys.remove_from_and_above(DispatchKey::Tracer);
  TracingState* state = current_state();
  if (state == nullptr) {
    op.redispatch_boxed(below, *stack);
    return;
  }
  if (SY_UNLIKELY(state->decompose()) && decompositions::has_decomposition(op.name())) {
    // The decomposition's ops come back through this kernel and are recorded.
    decompositions::run_decomposition(op, stack);
    return;
  }
  std::shared_ptr<const FunctionSchema> schema = op.current_schema();
  const FunctionSchema& s = *schema;
  const size_t n = s.arguments().size();
  Node* node;
  {
    TracingState::Lock lock(*state);
    const Graph::PendingNode p = state->begin(op, std::move(schema));
    node = p.node;
    const size_t first = stack->size() - n;
    for (size_t i = 0; i < n; ++i) detail::record_arg(*state, p.args[i], (*stack)[first + i]);
  }
  {
    tracer::NoTracerDispatchMode suspended;
    op.redispatch_boxed(below, *stack);
  }
  const size_t nret = s.returns().size();
  SY_CHECK(stack->size() >= nret, DispatchError,
           "tracer: {} returned {} values, its schema says {}", s.full_name(), stack->size(), nret);
  // The results are the top nret entries; anything below is not this call's.
  state->end(node, ArrayRef<IValue>(stack->data() + (stack->size() - nret), nret));
}

SY_LIBRARY_IMPL(_, Tracer, m) { m.fallback(CppFunction::boxed(trace_op)); }

// Another handle on t's memory, with t's geometry: what an eager call sees as
// the same data, which the tracer sees as a different tensor.
Tensor alias_of(const Tensor& t) {
  auto impl = IntrusivePtr<TensorImpl>::make(t.impl()->storage(), t.dtype(), t.sizes(), t.strides(),
                                             t.storage_offset());
  impl->set_requires_grad(t.requires_grad());
  return Tensor(std::move(impl));
}

}  // namespace

namespace detail {

TracingState* current_tracing_state() {
  auto* s = static_cast<TracingSlot*>(slot_accessor(tracing_slot()));
  return s ? s->state.get() : nullptr;
}

void record_arg(TracingState& state, NodeArg& arg, const IValue& a) {
  if (a.is_tensor()) {
    arg.kind = NodeArg::Kind::Value;
    arg.value = state.value_for(a.to_tensor_ref());
  } else if (a.is_tensor_list()) {
    arg.kind = NodeArg::Kind::ValueList;
    for (const Tensor& t : a.to_tensor_list()) arg.list.push_back(state.value_for(t));
  } else {
    arg.constant = a;
  }
}

}  // namespace detail

// ---- TracingState -------------------------------------------------------------------------

TracingState::TracingState() = default;
TracingState::~TracingState() = default;

namespace {
// The slot of `key` in `entries` (a power-of-two table with a free slot):
// where it is, or the free slot where it would go.
size_t probe(const std::vector<TracingState::Entry>& entries, const TensorImpl* key) {
  const size_t mask = entries.size() - 1;
  // Fibonacci hashing: the product's top bits, as many as the table needs.
  const int shift = std::countl_zero(static_cast<uint64_t>(mask));
  size_t i =
      static_cast<size_t>((reinterpret_cast<uintptr_t>(key) * 0x9E3779B97F4A7C15ull) >> shift) &
      mask;
  while (entries[i].key != nullptr && entries[i].key != key) i = (i + 1) & mask;
  return i;
}
}  // namespace

void TracingState::rebuild(size_t capacity) {
  std::vector<Entry> old = std::move(entries_);
  entries_ = std::vector<Entry>(capacity);
  num_entries_ = 0;
  for (Entry& e : old) {
    if (e.key == nullptr || e.tensor.use_count() == 1) continue;  // only the map holds it
    entries_[probe(entries_, e.key)] = std::move(e);
    ++num_entries_;
  }
}

TracingState::Entry& TracingState::entry_for(const TensorImpl* key) {
  if (2 * (num_entries_ + 1) > entries_.size()) {  // keep the load at most 1/2
    // Sweep first; grow only if the live entries would still fill a quarter.
    rebuild(std::max<size_t>(64, entries_.size()));
    if (4 * (num_entries_ + 1) > entries_.size()) rebuild(entries_.size() * 2);
  }
  return entries_[probe(entries_, key)];
}

// The caller holds mu_.
Value* TracingState::value_for(const Tensor& t) {
  Entry& e = entry_for(t.impl());
  if (e.key) return e.value;
  Value* v = graph_.add_constant(t);
  graph_.add_warning(fmt::format(
      "a {} tensor of shape {} from outside the traced function was used; it is recorded as "
      "constant {} (pass it as an input to trace it)",
      to_string(t.dtype()), to_string(t.sizes()), fmt::format("%{}", v->id())));
  set_value(t, v);
  return v;
}

void TracingState::set_value(const Tensor& t, Value* v) {
  Entry& e = entry_for(t.impl());
  if (!e.key) {
    e.key = t.impl();
    e.tensor = t;
    ++num_entries_;
  }
  e.value = v;
}

Graph::PendingNode TracingState::begin(const OperatorHandle& op,
                                       std::shared_ptr<const FunctionSchema> schema) {
  if (SY_UNLIKELY(finished_)) throw_finished(*schema);
  const size_t n = schema->arguments().size();
  return graph_.begin_node(op, std::move(schema), n);
}

Node* TracingState::end(Node* node, ArrayRef<IValue> results) {
  Lock lock(*this);
  if (SY_UNLIKELY(finished_)) throw_finished(node->schema());
  graph_.end_node(node, results);
  for (size_t i = 0; i < results.size(); ++i) {
    const NodeOutput& out = node->outputs()[i];
    if (out.value && results[i].is_tensor()) set_value(results[i].to_tensor_ref(), out.value);
    if (out.is_list) {
      const auto& ts = results[i].to_tensor_list();
      for (size_t j = 0; j < ts.size(); ++j) set_value(ts[j], out.list[j]);
    }
  }
  return node;
}

Node* TracingState::end(Node* node, const Tensor& result) {
  Lock lock(*this);
  if (SY_UNLIKELY(finished_)) throw_finished(node->schema());
  graph_.end_node(node, result);
  set_value(result, node->outputs()[0].value);
  return node;
}

Graph TracingState::finish(const std::vector<Tensor>& outputs) {
  Lock lock(*this);
  for (size_t i = 0; i < outputs.size(); ++i) {
    SY_CHECK(outputs[i].defined(), ValueError, "trace: the function's output {} is undefined", i);
    graph_.add_output(value_for(outputs[i]));
  }
  finished_ = true;
  entries_.clear();
  num_entries_ = 0;
  return std::move(graph_);
}

// ---- switches -------------------------------------------------------------------------------

std::shared_ptr<TracingState> get_tracing_state() {
  auto* s = static_cast<TracingSlot*>(slot_accessor(tracing_slot()));
  return s ? s->state : nullptr;
}

void set_tracing_state(std::shared_ptr<TracingState> state) {
  if (!state) {
    set_slot(tracing_slot(), nullptr);
    return;
  }
  detail::install_unboxed_tracer_kernels();
  const TracingSlot slot(std::move(state));
  set_slot(tracing_slot(), &slot);
}

bool is_tracing() { return tracer::is_dispatch_enabled() && current_state() != nullptr; }

// ---- trace ----------------------------------------------------------------------------------

Graph trace(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn,
            const std::vector<Tensor>& example_inputs) {
  return trace(fn, example_inputs, TraceOptions{});
}

Graph trace(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn,
            const std::vector<Tensor>& example_inputs, const TraceOptions& options) {
  auto state = std::make_shared<TracingState>();
  state->set_decompose(options.decompose);
  // Each example input is its own graph input, also when the caller passed one
  // tensor twice: a repeat is handed to fn as another handle on the same
  // memory (an alias), so fn computes what it would eagerly, and each position
  // maps to its own value.
  std::vector<Tensor> inputs = example_inputs;
  {
    TracingState::Lock lock(*state);
    for (size_t i = 0; i < inputs.size(); ++i) {
      SY_CHECK(inputs[i].defined(), ValueError, "trace: example input {} is an undefined tensor",
               i);
      for (size_t j = 0; j < i; ++j) {
        if (inputs[j].impl() == example_inputs[i].impl()) {
          inputs[i] = alias_of(example_inputs[i]);
          break;
        }
      }
      state->set_value(inputs[i], state->graph().add_input(inputs[i]));
    }
  }

  // Checked first, so a refusal changes nothing.
  SY_CHECK(!tls_is_dispatch_key_excluded(DispatchKey::Tracer), DispatchError,
           "trace() called inside a NoTracerDispatchMode scope: the Tracer key is excluded on "
           "this thread, so nothing could be recorded. Call trace() outside that scope.");
  struct Restore {
    std::shared_ptr<TracingState> saved_state = get_tracing_state();
    bool saved_included = tls_is_dispatch_key_included(DispatchKey::Tracer);
    ~Restore() {
      set_tracing_state(saved_state);
      tls_set_dispatch_key_included(DispatchKey::Tracer, saved_included);
    }
  } restore;
  set_tracing_state(state);
  tracer::set_dispatch_enabled(true);

  std::vector<Tensor> outputs = fn(inputs);
  return state->finish(outputs);
}

}  // namespace sy
