// The compiled form of a model (internal to aot/): what Model::load makes of a
// Graph once, and every execution state of the model reads without locking.
//
//   * values: every value of the graph has an id; inputs, weights (the graph's
//     constants and the values folded from them) and step results;
//   * steps: the graph's nodes that depend on the inputs, in order, each with
//     its kernel resolved once (the one a call with the traced tensors would
//     pick, with no thread keys), called unboxed when its C++ signature is one
//     of the common ones (trace/common_signatures.h) and boxed otherwise; a
//     step whose op has an out= overload also holds that overload's kernel, so
//     the memory plan can give it a buffer to write into;
//   * lifetimes: which step reads each value last, counting every value that
//     may alias it (views, in-place results), for the memory plan;
//   * weights: an immutable snapshot of the constants and of the values folded
//     from them, published with one pointer store (swap_weights) and read by a
//     run for its whole duration; see Note [Weight snapshots].
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "switchyard/aot/fusion.h"
#include "switchyard/aot/model.h"
#include "switchyard/dispatch/dispatcher.h"
#include "switchyard/trace/graph.h"

namespace sy::aot::detail {

struct ExecutionState;

// Where a step's argument comes from.
struct Operand {
  enum class Kind : uint8_t {
    Tensor,      // the tensor of value `id`
    TensorList,  // the tensors of values `list`
    NonTensor,   // the non-tensor result of value `id` (an op returning int, ...)
    Literal,     // `literal`, fixed when the graph was recorded
  };
  Kind kind = Kind::Literal;
  uint32_t id = 0;
  std::vector<uint32_t> list;
  IValue literal;
};

// A resolved kernel: the dispatch table slot a call with the traced tensors
// reaches, kept alive by the step.
struct StepKernel {
  OperatorHandle op{nullptr};
  std::shared_ptr<const FunctionSchema> schema;
  KernelFunction kernel;
  DispatchKeySet keys;
  std::shared_ptr<OperatorKernel> keep_alive;
  bool overrides_earlier = false;  // registered over the library's kernel
  // Calls the kernel unboxed with the step's operands (and `out` for out=
  // kernels), or null when it has no unboxed form of a common signature.
  Tensor (*unboxed)(const StepKernel& k, const Operand* args, ExecutionState& s,
                    const Tensor* out) = nullptr;
};

struct Step {
  size_t node_index = 0;  // in the graph, for messages
  StepKernel functional;
  // The op's out= overload (same arguments and one `Tensor(a!) out`), when it
  // has one and returns one tensor: the memory plan may use it.
  std::optional<StepKernel> out_variant;
  std::vector<Operand> args;
  // The values the step defines: one per return (a list return: its items).
  struct Result {
    bool is_list = false;
    bool is_tensor = true;
    std::vector<uint32_t> ids;
  };
  std::vector<Result> results;
  // Values (not planned, not graph outputs) this step reads last: their
  // tensors are released after it, as eager code would free them.
  std::vector<uint32_t> release_after;
};

// Weights: the graph's constants, and the values folded from them.
struct WeightSnapshot {
  std::vector<Tensor> tensors;  // by weight slot
  uint64_t version = 0;         // unique among the model's snapshots
};

// A node computed from weights alone, rerun for every new snapshot.
struct FoldStep {
  OperatorHandle op{nullptr};
  std::vector<Operand> args;      // Operand::Tensor ids are weight slots
  std::vector<uint32_t> results;  // weight slots
};

struct CompiledModel {
  // Builds the compiled form; throws sy::ValueError naming the node for a
  // graph it cannot run (see docs/aot.md, "What a model can hold").
  explicit CompiledModel(const Graph& g, const CompileOptions& options = {});
  ~CompiledModel();

  uint64_t id;  // unique in the process, never reused
  size_t num_values = 0;
  // Per value: its kind, and for tensors the dtype it was traced with.
  enum class ValueKind : uint8_t { Input, Weight, Step };
  std::vector<ValueKind> value_kind;
  std::vector<uint32_t> value_slot;  // input index, weight slot, or the value's own id
  std::vector<bool> value_is_tensor;
  std::vector<ScalarType> value_dtype;
  std::vector<DimVector> traced_sizes;
  // The value each value may alias (itself when it is fresh), and the last
  // step reading any value of its alias group (steps.size() for outputs).
  std::vector<uint32_t> alias_root;
  std::vector<size_t> group_last_use;
  // Whether a planned buffer may hold the value: a tensor result of a step
  // with an out= overload that is the root of its alias group.
  std::vector<bool> plannable;
  // The ids of the weights (their tensors come from the snapshot) and of the
  // step results that are tensors.
  std::vector<uint32_t> weight_ids;
  std::vector<uint32_t> step_tensor_ids;

  std::vector<TensorSpec> inputs;
  std::vector<uint32_t> input_ids;
  // Inputs whose first dim is the batch (when the model allows it to vary).
  std::vector<bool> batch_input;
  int64_t traced_batch = -1;
  bool batch_varies = false;

  std::vector<OutputInfo> outputs;
  std::vector<uint32_t> output_ids;
  // Per output: a fresh step result (no view, the first output that is this
  // value), which a borrowed run can hand out as it is instead of copying it.
  std::vector<uint8_t> output_is_fresh;

  std::vector<Step> steps;
  // Runs of elementwise steps computed in one loop (fusion.h), and per step
  // the group that starts there (-1 for none).
  std::vector<FusedGroup> fused;
  std::vector<int32_t> fused_at;

  // Weights: slots [0, num_weights) are the graph's constants, in graph
  // order; the rest are computed by fold_steps from them.
  size_t num_weights = 0;
  size_t num_weight_slots = 0;
  std::vector<TensorSpec> weight_specs;
  std::vector<FoldStep> fold_steps;
  // Weights some node writes in place: each run copies them first.
  std::vector<uint32_t> written_weights;

  // The current snapshot. Note [Weight snapshots]: a run reads it once, inside
  // a CallScope, and uses it to the end; swap_weights publishes a new one with
  // one store and retires the old, freed once no run that may hold it is left.
  std::atomic<const WeightSnapshot*> snapshot{nullptr};
  mutable std::atomic<uint64_t> next_snapshot_version{1};
  std::mutex swap_mu;  // serialises swaps (never taken by a run)

  // A snapshot of `weights` (the graph's constants, in order): checked against
  // the specs, folded values computed. Throws ValueError/TypeError.
  std::unique_ptr<const WeightSnapshot> make_snapshot(std::vector<Tensor> weights) const;
  void swap_weights(std::vector<Tensor> weights);

  // Execution states: created on demand, reused when their thread ends.
  std::mutex states_mu;
  std::vector<std::unique_ptr<ExecutionState>> states;
  std::vector<ExecutionState*> free_states;
  ExecutionState* acquire_state();
  void release_state(ExecutionState* s);
};

}  // namespace sy::aot::detail
