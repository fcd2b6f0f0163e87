// Reverse-mode automatic differentiation: the public entry points.
//
// Ops called with grad mode on, on tensors that require grad, record a graph
// of nodes (node.h). backward() walks it from the given outputs and
// accumulates gradients into the .grad of the leaves; grad() returns the
// gradients of chosen inputs instead. Tensor has the per-tensor side
// (requires_grad_, grad(), backward(), retain_grad(), register_hook(), ...).
//
//   Tensor x = sy::ones({3}, TensorOptions().requires_grad(true));
//   Tensor y = (x * x).sum();
//   y.backward();                                  // x.grad() == 2 * x
//   auto [g] = sy::autograd::grad({y2}, {x});      // or without touching .grad
//
// retain_graph (default: create_graph) keeps the saved tensors for another
// backward; create_graph records the backward itself (grad mode is on while it
// runs), so its results can be differentiated again. See docs/autograd.md.
//
// A backward runs under the calling thread's state as it was when backward()
// was called (grad mode set to create_graph); independent branches of a large
// graph may run on the pool under that same state. Several threads may run
// backward at once, also through graphs that share leaves.
#pragma once

#include <optional>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy::autograd {

// Accumulates the gradients of `tensors` (weighted by `grad_tensors`, which
// may be left out for one-element tensors) into the .grad of the leaves they
// depend on; with `inputs`, only into those. An error leaves every .grad as it
// was.
SY_API void backward(const std::vector<Tensor>& tensors,
                     const std::vector<Tensor>& grad_tensors = {},
                     std::optional<bool> retain_graph = std::nullopt, bool create_graph = false,
                     const std::vector<Tensor>& inputs = {});

// The gradients of `outputs` (weighted by `grad_outputs`) with respect to each
// of `inputs`; .grad is left alone. An input the outputs do not depend on is
// an error unless `allow_unused`, which gives an undefined Tensor for it.
SY_API std::vector<Tensor> grad(const std::vector<Tensor>& outputs,
                                const std::vector<Tensor>& inputs,
                                const std::vector<Tensor>& grad_outputs = {},
                                std::optional<bool> retain_graph = std::nullopt,
                                bool create_graph = false, bool allow_unused = false);

}  // namespace sy::autograd
