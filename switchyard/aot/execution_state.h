// An execution state of a compiled model (internal to aot/): everything one
// run needs that is not shared, used by one thread at a time (its thread's
// runs, or the holder of an InstancePool lease).
//
//   * the value frame: for each value, where its tensor is (an input, a weight
//     of the snapshot the run started with, or a tensor the state owns);
//   * memory plans for the last few input shapes seen: which steps write into
//     a planned buffer through their out= kernel, with buffers shared by values
//     whose lifetimes do not overlap, found by running the steps on meta
//     tensors; buffers and the output cache grow only when outgrown, so a run
//     with shapes seen before allocates nothing;
//   * the output cache (seed 001): each output's tensor, handed out borrowed
//     until the state's next run.
#pragma once

#include <cstdint>
#include <vector>

#include "switchyard/aot/compiled_model.h"

namespace sy::aot::detail {

enum class OutputMode : uint8_t { Copy, Borrow, Into };

// The shapes a run infers for every value, from the inputs' and the weights'
// by running each step's op on meta tensors. A step whose meta call fails (an
// op with no meta kernel, a data-dependent shape) leaves its results unknown,
// and so everything computed from them.
struct InferredShapes {
  std::vector<bool> known;  // per value
  std::vector<DimVector> sizes;
  std::vector<ScalarType> dtypes;
  std::vector<bool> step_ok;  // per step: its meta call succeeded
};
InferredShapes infer_shapes(const CompiledModel& m, const WeightSnapshot& weights,
                            const std::vector<DimVector>& input_sizes);

struct ExecutionState {
  explicit ExecutionState(const CompiledModel& model);

  const CompiledModel& model;

  // Runs the model on `inputs` (checked first). Copy mode appends new tensors
  // to *copies; Into mode writes into `into`; Borrow mode fills *borrowed.
  void run(const std::vector<Tensor>& inputs, OutputMode mode, std::vector<Tensor>* copies,
           const std::vector<Tensor>* into, BorrowedOutputs* borrowed);

  // Counts runs; BorrowedOutputs compare it with the run that made them.
  uint64_t runs = 0;
  uint64_t fused_runs = 0, fused_fallbacks = 0;  // RunStats
  bool busy = false;  // inside run(): a nested run on this thread uses another state

  // ---- the frame --------------------------------------------------------------------
  std::vector<const Tensor*> where;           // per value
  std::vector<Tensor> owned;                  // per value: step results, planned buffers
  std::vector<IValue> non_tensor;             // per value: non-tensor step results
  std::vector<Tensor> written_weight_copies;  // per written weight
  uint64_t weights_version = 0;               // the snapshot where[] points into
  Stack stack;                                // boxed calls

  // ---- memory plans, one per input shapes seen lately ------------------------------
  struct ShapePlan {
    std::vector<DimVector> input_sizes;
    std::vector<uint8_t> use_out;          // per step: write into the planned buffer
    std::vector<uint8_t> persistent;       // per value: a planned buffer, kept between runs
    std::vector<Tensor> planned;           // per value: its tensor over a buffer (or undefined)
    std::vector<uint8_t> output_in_cache;  // per output: the plan writes it there directly
    std::vector<FusedPlan> fused;          // per fused group of the model
  };
  static constexpr size_t kMaxPlans = 4;
  std::vector<std::unique_ptr<ShapePlan>> plans;  // most recently used first
  ShapePlan* active = nullptr;                    // the plan owned[] holds the tensors of
  std::vector<Storage> buffers;                   // shared by values with disjoint lifetimes
  std::vector<size_t> buffer_bytes;
  // ---- the output cache ----------------------------------------------------------------
  std::vector<Storage> cache;  // per output
  std::vector<size_t> cache_bytes;
  std::vector<Tensor> outputs;  // per output: what run_borrowed hands out

 private:
  void check_inputs(const std::vector<Tensor>& inputs) const;
  std::unique_ptr<ShapePlan> plan(const std::vector<Tensor>& inputs, const WeightSnapshot& weights);
  void use_plan_for(const std::vector<Tensor>& inputs, const WeightSnapshot& weights);
  void run_steps();
  void run_step(const Step& step, bool out);
  void release_after(const Step& step);
  // Runs fused group `g` in one loop; false (nothing done) when this plan or
  // its operands do not allow it, and the caller runs its steps one by one.
  bool run_group(size_t g);
  void finish_outputs(OutputMode mode, std::vector<Tensor>* copies,
                      const std::vector<Tensor>* into);
  Storage& grown(std::vector<Storage>& pool, std::vector<size_t>& bytes, size_t i, size_t need);
};

}  // namespace sy::aot::detail
