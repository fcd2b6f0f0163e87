// The backward engine: runs a recorded graph from root edges down to the
// leaves. Internal to autograd; users call autograd::backward / grad
// (autograd.h) or Tensor::backward.
//
// Note [How the engine walks a graph]
// 1. Count, for every node reachable from the roots, how many edges lead into
//    it (its dependencies). In a grad() call, also mark which nodes lead to
//    the wanted inputs: only those run, and only their needed outputs are
//    computed (Node::should_compute_output asks the running task).
// 2. Give the roots their gradients. A node whose dependencies have all
//    delivered is ready; ready nodes run latest-recorded first. Running a node
//    applies its tensor hooks, pre-hooks, apply(), post-hooks; each gradient it
//    returns is checked against the metadata of the input it goes to (shape:
//    summed down if it was broadcast; dtype: converted), then added into that
//    node's input buffer.
// 3. Leaves' AccumulateGrad nodes and retained gradients are not applied
//    while the walk runs: their hooks run, their gradients are kept, and they
//    are stored into .grad after the whole walk succeeded. So an error
//    anywhere leaves every .grad as it was.
// 4. Without retain_graph, each node releases its saved tensors after it ran.
//
// The walk runs on the calling thread, under the thread's state as it was
// when backward was called, with grad mode set to create_graph. When several
// nodes are ready at once and the next one has a large gradient, it is handed
// to a pool task that joins the walk under the same state (See Note
// [Parallel branches] in engine.cpp). An exception from a node stops the walk
// and reaches the caller, its message prefixed with the node's name.
#pragma once

#include <vector>

#include "switchyard/autograd/node.h"
#include "switchyard/core/export.h"

namespace sy::autograd::detail {

// Runs the graph from `roots` with gradients `root_grads` (one each, defined).
// With `capture` non-empty, returns the gradient arriving at each of those
// edges (undefined where none arrived) and runs only what leads to them.
// Leaves' and retained gradients are written only with `write_grads`, after
// the whole walk succeeded.
SY_API variable_list run_backward(const std::vector<Edge>& roots, variable_list root_grads,
                                  bool keep_graph, bool create_graph,
                                  const std::vector<Edge>& capture, bool write_grads);

// Whether the backward running on this thread needs the gradient sent along
// `e` (always true outside a grad() call that chose its inputs).
SY_API bool edge_is_needed(const Edge& e);

// Adds gradients the way the engine does (in place when `a` is not shared and
// no graph is being recorded).
SY_API Tensor accumulate(Tensor a, const Tensor& b);

// Sums `grad` down to `sizes` (the reverse of broadcasting); throws AutogradError
// naming `what` when `grad` does not broadcast from `sizes`.
SY_API Tensor sum_to(const Tensor& grad, IntArrayRef sizes);

}  // namespace sy::autograd::detail
