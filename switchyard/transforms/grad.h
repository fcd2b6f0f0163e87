// grad and jvp: levels of the transform stack over autograd's reverse and
// forward modes.
//
//   auto df = sy::func::grad(f);                       // f: inputs -> {one-element loss, ...}
//   auto per_sample = sy::func::vmap(df, {std::nullopt, 0, 0})({w, xs, ys});
//   auto [out, tangent_out] = sy::func::jvp(f, {x}, {v});
//
// grad and jvp do not wrap tensors: they act on the physical tensors (every
// enclosing vmap's batch dims in front), which autograd differentiates. An
// input that an enclosing vmap does not batch is expanded to the batch first,
// so each example's gradient stays its own (per-sample gradients of shared
// weights). See docs/transforms.md, "grad, vjp and jvp".
#pragma once

#include <functional>
#include <utility>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/transforms/vmap.h"

namespace sy::func {

// The gradients of fn's first output (one element) with respect to its inputs
// at `argnums`, one per argnum; with `has_aux`, fn's other outputs follow them.
SY_API TensorFunction grad(TensorFunction fn, std::vector<int64_t> argnums = {0},
                           bool has_aux = false);
// As grad, with the value of fn's first output after the gradients (before any aux).
SY_API TensorFunction grad_and_value(TensorFunction fn, std::vector<int64_t> argnums = {0},
                                     bool has_aux = false);

// fn's outputs at `primals`, and the Jacobian-vector products with `tangents`
// (one per primal, same shapes).
SY_API std::pair<std::vector<Tensor>, std::vector<Tensor>> jvp(const TensorFunction& fn,
                                                               const std::vector<Tensor>& primals,
                                                               const std::vector<Tensor>& tangents);

// fn's outputs at `primals`, and a function from cotangents (one per output,
// its shape) to the vector-Jacobian products, one per primal. The function
// may be called more than once, inside the transforms vjp was called in, and
// also under vmaps newer than those: vmap(vjp_fn) over a batch of cotangents
// runs one backward whose formulas are batched (the Jacobian's rows at once).
using VjpFunction = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;
SY_API std::pair<std::vector<Tensor>, VjpFunction> vjp(const TensorFunction& fn,
                                                       const std::vector<Tensor>& primals);

namespace detail {

// The building blocks (the Python sy.func uses them). `x` batched at every
// visible vmap level, each batch dim at 0 of its level's value (expanded where
// x was not batched): its physical tensor is [B_outer, ..., B_inner, *x.sizes()].
SY_API Tensor canonical(const Tensor& x);
// A physical tensor of that layout wrapped again at every visible vmap level.
SY_API Tensor wrap_canonical(Tensor physical);
// A fresh input for a grad level: canonical(x) whose physical tensor is a new
// leaf that requires grad (or, when it already did, a view that keeps the
// graph of the levels outside); `*needs_graph` is set in that case.
SY_API Tensor make_grad_input(const Tensor& x, bool* needs_graph);
// Whether a visible grad or jvp level (outside the one being left) needs the
// graph of what the current level computes.
SY_API bool outer_levels_need_graph();
// The gradients of the one-element `output` with respect to each of `inputs`
// (made by make_grad_input), zeros for an input it does not depend on.
SY_API std::vector<Tensor> grads_of(const Tensor& output, const std::vector<Tensor>& inputs,
                                    bool create_graph);
// `t` with its physical tensor detached from autograd's graph.
SY_API Tensor without_graph(const Tensor& t);

// The backward half of vjp (sy::func::vjp and the Python vjp share it): made
// from the outputs of a function run under a grad level and its inputs (made
// by make_grad_input); called with one cotangent per output (the output's
// shape), it returns one vector-Jacobian product per input. The vmap levels
// vjp ran in must be visible at the call; vmap levels newer than those batch
// the cotangents, and the backward then runs once on that batch (its formulas
// through the batching rules), as in functorch.
class SY_API VjpBackward {
 public:
  VjpBackward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
              bool create_graph);
  std::vector<Tensor> operator()(const std::vector<Tensor>& cotangents) const;

 private:
  std::vector<Tensor> outputs_;               // physical, canonical at vjp's levels
  std::vector<Tensor> inputs_;                // the same for the inputs
  std::vector<std::vector<int64_t>> shapes_;  // the outputs' shapes as fn saw them
  std::vector<uint64_t> level_ids_;           // vjp's vmap levels, outermost first
  bool create_graph_;
};

}  // namespace detail
}  // namespace sy::func
