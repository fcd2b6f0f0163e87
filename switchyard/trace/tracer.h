// Tracing: running a function once and recording each op it calls into a Graph.
//
// Three switches decide whether a call on this thread is recorded (seed 004):
//   1. a TracingState is installed on the thread (set_tracing_state, or trace());
//   2. the tracer's dispatch is enabled (tracer::set_dispatch_enabled(true));
//   3. no tracer::NoTracerDispatchMode guard is active.
// trace() turns all three on for the duration of the function and restores
// exactly what it found, also when the function throws.
//
// Only the outermost op is recorded: the Tracer kernel runs the op with the
// Tracer key excluded, so ops called from inside kernels and composites are
// not. The tracing state is an extension slot of the thread-local snapshot, so
// work handed to other threads with launch() or parallel_for while tracing is
// recorded into the same graph (recording takes a lock). See docs/tracing.md.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/trace/graph.h"

namespace sy {

// The graph being recorded and the map from live tensors to its values.
// Shared by every thread the tracing state was carried to; thread-safe.
class SY_API TracingState {
 public:
  TracingState();
  ~TracingState();

  // Holds the state's lock when more than one thread may record: while the
  // state lives in a single thread's slot (no snapshot has copied it), the
  // owner records without locking. The calling code holds one of these for
  // value_for, set_value and graph().
  class Lock {
   public:
    explicit Lock(TracingState& s) {
      if (s.copies_.load(std::memory_order_relaxed) > 1) held_ = std::unique_lock(s.mu_);
    }

   private:
    std::unique_lock<std::mutex> held_;
  };
  // Called for every slot copy that holds this state (see Lock).
  void note_copy() { copies_.fetch_add(1, std::memory_order_relaxed); }
  // The value `t` currently has in the graph; a tensor the trace has not seen
  // becomes a constant (with a warning in the graph).
  Value* value_for(const Tensor& t);
  // Makes `v` the value of `t` (a graph input, or an op's result).
  void set_value(const Tensor& t, Value* v);
  Graph& graph() { return graph_; }
  // Whether finish() has run.
  bool finished() const { return finished_; }
  // Whether ops that have a decomposition (switchyard/decompositions/) are
  // recorded as the ops of their decomposition instead; set before tracing.
  bool decompose() const { return decompose_; }
  void set_decompose(bool on) { decompose_ = on; }

  // Starts recording a call of `op`: a node outside the graph whose arguments
  // the caller fills in place (value_for for tensors). The caller holds a Lock;
  // throws once the trace has finished.
  Graph::PendingNode begin(const OperatorHandle& op, std::shared_ptr<const FunctionSchema> schema);
  // Ends recording `node`, whose call returned `results` (its returns, in
  // order): appends it to the graph and maps the returned tensors to its
  // outputs. Takes the lock; throws once the trace has finished.
  Node* end(Node* node, ArrayRef<IValue> results);
  // The same for a call that returned one tensor.
  Node* end(Node* node, const Tensor& result);
  // The error for a call recorded after the trace finished.
  [[noreturn]] static void throw_finished(const FunctionSchema& schema);
  // Ends the trace: `outputs` become the graph's outputs and the graph is
  // moved out; later record() calls throw. Takes the lock.
  Graph finish(const std::vector<Tensor>& outputs);

 private:
  std::mutex mu_;
  // Slot copies made of this state: 1 is the installing thread's own; more
  // means a snapshot carried it (maybe to another thread), and from then on
  // every access locks. Only ever grows.
  std::atomic<int> copies_{0};
  bool finished_ = false;
  bool decompose_ = false;
  Graph graph_;
  // The tensor-to-value map: open addressing over TensorImpl addresses (one
  // allocation per growth, none per tensor). Each entry keeps its tensor alive,
  // so an address is never reused by another tensor and mistaken for it, until
  // the map holds the only reference: then nothing can use the tensor again,
  // and the next sweep (when the table fills) drops the entry and frees the
  // tensor, as eager code would have.

 public:
  struct Entry {  // (public for the probing helper in tracer.cpp)
    const TensorImpl* key = nullptr;
    Tensor tensor;
    Value* value = nullptr;
  };

 private:
  Entry& entry_for(const TensorImpl* key);
  // Rebuilds the table with `capacity` slots (a power of two), keeping the
  // entries whose tensors something else still references.
  void rebuild(size_t capacity);
  std::vector<Entry> entries_;
  size_t num_entries_ = 0;
};

// The calling thread's tracing state, or null.
SY_API std::shared_ptr<TracingState> get_tracing_state();
// Installs `state` on the calling thread (null removes it). Does not enable the
// tracer's dispatch; trace() does both.
SY_API void set_tracing_state(std::shared_ptr<TracingState> state);
// Whether an op called now on this thread would be recorded.
SY_API bool is_tracing();

// Runs fn(example_inputs) once with tracing on and returns what it recorded:
// the inputs are the graph's inputs, every op fn calls (outermost only) a
// node, the tensors fn returns the graph's outputs. Restores the thread's
// tracing state and Tracer key exactly, also when fn throws.
SY_API Graph trace(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn,
                   const std::vector<Tensor>& example_inputs);

struct TraceOptions {
  // Record each op that has a decomposition (the decomposition registry that
  // forward-mode AD and vmap use) as the ops it decomposes into, recursively.
  bool decompose = false;
};
SY_API Graph trace(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn,
                   const std::vector<Tensor>& example_inputs, const TraceOptions& options);

}  // namespace sy
