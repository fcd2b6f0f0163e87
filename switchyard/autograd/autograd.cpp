#include "switchyard/autograd/autograd.h"

#include "switchyard/autograd/autograd_meta.h"
#include "switchyard/autograd/basic_nodes.h"
#include "switchyard/autograd/engine.h"
#include "switchyard/autograd/grad_mode.h"
#include "switchyard/ops/creation.h"

namespace sy::autograd {
namespace {

// The root edges of `outputs` and the gradient each starts with.
void make_roots(const char* api, const std::vector<Tensor>& outputs,
                const std::vector<Tensor>& grads, std::vector<Edge>& roots,
                variable_list& root_grads) {
  SY_CHECK(!outputs.empty(), AutogradError, "{}: no tensors given to differentiate", api);
  SY_CHECK(grads.empty() || grads.size() == outputs.size(), AutogradError,
           "{}: got {} tensors but {} gradients; pass one gradient for each tensor (undefined "
           "for one-element tensors) or none",
           api, outputs.size(), grads.size());
  roots.reserve(outputs.size());
  root_grads.reserve(outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    SY_CHECK(out.defined(), AutogradError, "{}: tensor {} is undefined", api, i);
    SY_CHECK(out.requires_grad(), AutogradError,
             "{}: tensor {} does not require grad and has no grad_fn, so no graph was recorded "
             "for it (were its inputs not requiring grad, or was grad mode off?)",
             api, i);
    Tensor g = grads.empty() ? Tensor() : grads[i];
    if (!g.defined()) {
      SY_CHECK(out.numel() == 1, AutogradError,
               "{}: a gradient can be implied only for one-element outputs; tensor {} has shape "
               "{}, so pass a gradient of that shape",
               api, i, to_string(out.sizes()));
      g = sy::ones(out.sizes(), TensorOptions().dtype(out.dtype()).device(out.device()));
    } else {
      SY_CHECK(g.sizes() == out.sizes(), AutogradError,
               "{}: gradient {} has shape {} but tensor {} has shape {}", api, i,
               to_string(g.sizes()), i, to_string(out.sizes()));
      SY_CHECK(is_floating_point(g.dtype()), AutogradError,
               "{}: gradient {} has dtype {}; gradients are floating point", api, i,
               to_string(g.dtype()));
    }
    roots.push_back(impl::gradient_edge(out));
    root_grads.push_back(std::move(g));
  }
}

std::vector<Edge> input_edges(const char* api, const std::vector<Tensor>& inputs) {
  std::vector<Edge> edges;
  edges.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    SY_CHECK(t.defined(), AutogradError, "{}: input {} is undefined", api, i);
    SY_CHECK(t.requires_grad(), AutogradError,
             "{}: input {} does not require grad, so it has no gradient", api, i);
    edges.push_back(impl::gradient_edge(t));
  }
  return edges;
}

}  // namespace

void backward(const std::vector<Tensor>& tensors, const std::vector<Tensor>& grad_tensors,
              std::optional<bool> retain_graph, bool create_graph,
              const std::vector<Tensor>& inputs) {
  std::vector<Edge> roots;
  variable_list root_grads;
  make_roots("backward", tensors, grad_tensors, roots, root_grads);
  const bool keep_graph = retain_graph.value_or(create_graph);
  if (inputs.empty()) {
    detail::run_backward(roots, std::move(root_grads), keep_graph, create_graph, {}, true);
    return;
  }
  const std::vector<Edge> capture = input_edges("backward", inputs);
  variable_list got =
      detail::run_backward(roots, std::move(root_grads), keep_graph, create_graph, capture, false);
  AutoGradMode grad_mode(create_graph);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!got[i].defined()) continue;
    AutogradMeta& meta = impl::materialize_autograd_meta(inputs[i]);
    std::lock_guard<std::mutex> lock(meta.mutex);
    accumulate_into_grad(inputs[i], std::move(got[i]));
  }
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, std::optional<bool> retain_graph,
                         bool create_graph, bool allow_unused) {
  SY_CHECK(!inputs.empty(), AutogradError,
           "grad: no inputs given to differentiate with respect to");
  std::vector<Edge> roots;
  variable_list root_grads;
  make_roots("grad", outputs, grad_outputs, roots, root_grads);
  const std::vector<Edge> capture = input_edges("grad", inputs);
  variable_list got =
      detail::run_backward(roots, std::move(root_grads), retain_graph.value_or(create_graph),
                           create_graph, capture, false);
  if (!allow_unused) {
    for (size_t i = 0; i < got.size(); ++i) {
      SY_CHECK(got[i].defined(), AutogradError,
               "grad: input {} was not used to compute the outputs (no gradient reaches it); "
               "pass allow_unused=True to get an undefined gradient for it",
               i);
    }
  }
  return got;
}

}  // namespace sy::autograd
