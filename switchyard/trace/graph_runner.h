// GraphRunner: replays a Graph (graph.h) on new inputs. Built once from one
// version of a graph, it holds a flat plan: per node the op handle resolved
// when the node was recorded, where each argument comes from (a value slot, a
// list of slots, or a constant) and where each result goes, and each value's
// last read, so a value is moved into its last reader rather than copied and
// intermediates are freed as early as in eager code. Nodes run through the
// dispatcher, boxed, so every op and every kernel a thread would pick for an
// eager call run the same way on replay. An op redefined with another schema
// after the runner was built is an error naming its node, before it runs.
//
// Graph::run() keeps one runner per graph version; build one directly to hold
// on to a plan while the graph changes.
//
// Thread-safety: run() may be called from many threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/trace/graph.h"

namespace sy {

class SY_API GraphRunner {
 public:
  // Checks `g` (Graph::check) and plans its replay; the runner does not refer
  // to the graph afterwards.
  explicit GraphRunner(const Graph& g);

  // Runs the plan on `inputs`: they must match the graph's inputs in count,
  // dtype and rank (a sy::ValueError or TypeError names the first that does
  // not); other sizes are for the ops to accept or refuse.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs) const;

 private:
  struct Arg {
    NodeArg::Kind kind;
    int64_t slot = -1;
    bool last_use = false;  // the value is not read again: move it out of its slot
    std::vector<int64_t> list;
    IValue constant;
  };
  struct Out {
    bool is_list = false;
    int64_t slot = -1;
    std::vector<int64_t> list;
  };
  struct Step {
    OperatorHandle op;
    std::shared_ptr<const FunctionSchema> schema;  // as recorded
    // The op's schema generation this step was checked against; a run that
    // finds another checks the schema again (the op was redefined).
    mutable std::atomic<uint32_t> generation{0};
    std::vector<Arg> args;
    std::vector<Out> outs;

    Step(OperatorHandle o, std::shared_ptr<const FunctionSchema> s)
        : op(std::move(o)), schema(std::move(s)) {}
    Step(Step&& o) noexcept
        : op(o.op),
          schema(std::move(o.schema)),
          generation(o.generation.load(std::memory_order_relaxed)),
          args(std::move(o.args)),
          outs(std::move(o.outs)) {}
  };
  struct InputType {
    ScalarType dtype;
    int64_t dim;
  };
  void check_inputs(const std::vector<Tensor>& inputs) const;
  void check_op_unchanged(const Step& step, size_t index) const;

  std::vector<Step> steps_;
  std::vector<std::pair<int64_t, IValue>> constants_;
  std::vector<int64_t> input_slots_;
  std::vector<InputType> input_types_;
  std::vector<int64_t> output_slots_;
  size_t num_slots_ = 0;
  size_t max_stack_ = 0;
};

}  // namespace sy
