#include "switchyard/autograd/custom_function.h"

#include <atomic>
#include <cstdlib>

#include "switchyard/autograd/autograd_meta.h"
#include "switchyard/autograd/kernel_support.h"
#include "switchyard/autograd/view_nodes.h"

namespace sy::autograd {

void AutogradContext::save_for_backward(variable_list to_save) { to_save_ = std::move(to_save); }

variable_list AutogradContext::get_saved_variables() const {
  if (raised_saved_ != nullptr) return *raised_saved_;
  variable_list out;
  out.reserve(saved_.size());
  const auto fn = grad_fn_.lock();
  for (const SavedVariable& s : saved_) out.push_back(s.unpack(fn.get()));
  return out;
}

void AutogradContext::mark_dirty(const variable_list& inputs) {
  for (const Tensor& t : inputs) {
    if (t.defined()) dirty_.insert(t.impl());
  }
}

void AutogradContext::mark_non_differentiable(const variable_list& outputs) {
  for (const Tensor& t : outputs) {
    if (t.defined()) non_differentiable_.insert(t.impl());
  }
}

bool AutogradContext::needs_input_grad(size_t i) const {
  return i < needs_input_grad_.size() && needs_input_grad_[i];
}

std::string CustomFunctionParts::demangle(const char* name) {
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string out = status == 0 && d != nullptr ? d : name;
  std::free(d);
  return out;
}

bool CustomFunctionParts::begin(const variable_list& inputs, bool cpp) {
  if (SY_UNLIKELY(tls_any_slot_set())) {
    if (cpp) {
      check_slots_support_cpp_autograd_function();
    } else {
      check_slots_support_single_level_autograd_function();
    }
  }
  return detail::compute_requires_grad(ArrayRef<Tensor>(inputs));
}

namespace {
std::atomic<WrappedCallFactory> g_wrapped_call_factory{nullptr};
}  // namespace

void set_wrapped_call_factory(WrappedCallFactory factory) {
  g_wrapped_call_factory.store(factory, std::memory_order_release);
}

std::shared_ptr<WrappedCall> CustomFunctionParts::wrapped_call(const variable_list& inputs,
                                                               variable_list* seen) {
  const WrappedCallFactory factory = g_wrapped_call_factory.load(std::memory_order_acquire);
  if (factory == nullptr) return nullptr;
  std::shared_ptr<WrappedCall> call = factory(inputs);
  if (call == nullptr) return nullptr;
  variable_list lowered;
  lowered.reserve(inputs.size());
  bool forward = false;
  for (const Tensor& t : inputs) {
    lowered.push_back(t.defined() ? call->lower(t) : t);
    forward = forward || (lowered.back().defined() && detail::has_forward_grad(lowered.back()));
  }
  // Nothing to differentiate: the forward on the wrappers is all there is to do.
  if (!forward && !detail::compute_requires_grad(ArrayRef<Tensor>(lowered))) return nullptr;
  *seen = std::move(lowered);
  return call;
}

void CustomFunctionParts::lower_results(const WrappedCall& call, AutogradContext& ctx,
                                        const variable_list& inputs, const variable_list& seen,
                                        variable_list& outputs, const std::string& function_name) {
  SY_CHECK(ctx.dirty_.empty(), AutogradError,
           "{}: mark_dirty (an in-place custom function) on batched tensors inside a transform "
           "that differentiates is not supported; return a new tensor instead",
           function_name);
  // Each tensor lowered once, so that an output that is an input (or a saved
  // output) is the very tensor autograd sees for it.
  std::unordered_map<const TensorImpl*, Tensor> lowered;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].defined()) lowered.emplace(inputs[i].impl(), seen[i]);
  }
  auto lower = [&](const Tensor& t) {
    if (!t.defined()) return t;
    auto it = lowered.find(t.impl());
    if (it == lowered.end()) it = lowered.emplace(t.impl(), call.lower(t)).first;
    return it->second;
  };
  std::unordered_set<const TensorImpl*> non_differentiable;
  for (Tensor& o : outputs) {
    const bool nd = o.defined() && ctx.non_differentiable_.count(o.impl()) != 0;
    o = lower(o);
    if (nd) non_differentiable.insert(o.impl());
  }
  ctx.non_differentiable_ = std::move(non_differentiable);
  for (Tensor& t : ctx.to_save_) t = lower(t);
}

variable_list CustomFunctionParts::run_raised(
    const WrappedCall& call, AutogradContext& ctx, const variable_list& args,
    const std::function<variable_list(const variable_list&)>& body) {
  variable_list all = args;
  const variable_list saved = ctx.get_saved_variables();
  all.insert(all.end(), saved.begin(), saved.end());
  return call.run_raised(all, [&](const variable_list& raised) {
    const variable_list raised_saved(raised.begin() + static_cast<ptrdiff_t>(args.size()),
                                     raised.end());
    struct Restore {
      AutogradContext& c;
      const variable_list* before;
      ~Restore() { c.raised_saved_ = before; }
    } restore{ctx, ctx.raised_saved_};
    ctx.raised_saved_ = &raised_saved;
    return body(
        variable_list(raised.begin(), raised.begin() + static_cast<ptrdiff_t>(args.size())));
  });
}

void CustomFunctionParts::connect(Node& node, AutogradContext& ctx,
                                  const std::vector<bool>& is_tensor, const variable_list& inputs) {
  size_t t = 0;
  ctx.needs_input_grad_.assign(is_tensor.size(), false);
  for (size_t i = 0; i < is_tensor.size(); ++i) {
    if (!is_tensor[i]) continue;
    const Tensor& in = inputs[t++];
    Edge e = GradMode::is_enabled() ? impl::gradient_edge(in) : Edge();
    ctx.needs_input_grad_[i] = e.is_valid();
    node.add_next_edge(std::move(e));
  }
}

void CustomFunctionParts::wrap_outputs(const std::shared_ptr<Node>& node, AutogradContext& ctx,
                                       const variable_list& inputs, variable_list& outputs,
                                       const std::string& function_name) {
  std::unordered_set<const TensorImpl*> input_impls;
  for (const Tensor& t : inputs) {
    if (t.defined()) input_impls.insert(t.impl());
  }
  for (const TensorImpl* d : ctx.dirty_) {
    bool returned = false;
    for (const Tensor& o : outputs) returned = returned || (o.defined() && o.impl() == d);
    SY_CHECK(returned, AutogradError,
             "{}: an input marked dirty (modified in place) must be returned by forward",
             function_name);
  }
  for (Tensor& out : outputs) {
    if (!out.defined()) {
      if (node) node->add_input_metadata_undefined();
      continue;
    }
    const bool is_input = input_impls.count(out.impl()) != 0;
    const bool dirty = ctx.dirty_.count(out.impl()) != 0;
    const bool differentiable =
        ctx.non_differentiable_.count(out.impl()) == 0 && is_floating_point(out.dtype());
    if (dirty) {
      detail::check_inplace(out, node != nullptr, function_name.c_str());
      out.impl()->bump_version();
    } else if (is_input) {
      // An input returned as it is: the output is a new alias with its own history.
      Tensor alias = impl::alias_without_autograd(out);
      if (is_floating_point(out.dtype())) detail::mark_as_view(out, alias);
      out = std::move(alias);
    }
    if (AutogradMeta* meta = impl::get_autograd_meta(out);
        meta != nullptr && meta->view && !dirty) {
      meta->view->creation_meta = CreationMeta::InCustomFunction;
    }
    if (!node || !differentiable) {
      if (node) node->add_input_metadata_undefined();
      continue;
    }
    if (dirty) {
      detail::rebase_history(out, node);
    } else {
      const uint32_t nr = node->add_input_metadata(out);
      impl::set_gradient_edge(out, node, nr);
    }
  }
  // Save after the outputs have their history: a saved output is stored
  // without it (no reference cycle through the node).
  std::unordered_set<const TensorImpl*> output_impls;
  for (const Tensor& o : outputs) {
    if (o.defined()) output_impls.insert(o.impl());
  }
  ctx.saved_.clear();
  for (const Tensor& t : ctx.to_save_) {
    const bool is_output = t.defined() && output_impls.count(t.impl()) != 0;
    ctx.saved_.emplace_back(t, is_output && node != nullptr);
  }
  ctx.to_save_.clear();
}

variable_list CustomFunctionParts::collect_grads(const std::string& function_name,
                                                 const std::vector<bool>& is_tensor,
                                                 variable_list grads) {
  const size_t expected = is_tensor.size();
  if (grads.size() > expected) {
    bool extra_undefined = true;
    for (size_t i = expected; i < grads.size(); ++i) extra_undefined &= !grads[i].defined();
    if (extra_undefined) grads.resize(expected);
  }
  SY_CHECK(grads.size() == expected, AutogradError,
           "{}: backward returned {} gradients, but forward took {} arguments (return one for "
           "each, undefined for those that are not tensors or need none)",
           function_name, grads.size(), expected);
  variable_list out;
  for (size_t i = 0; i < expected; ++i) {
    if (is_tensor[i]) {
      out.push_back(std::move(grads[i]));
    } else {
      SY_CHECK(!grads[i].defined(), AutogradError,
               "{}: backward returned a gradient at position {}, but forward's argument {} is "
               "not a tensor",
               function_name, i, i);
    }
  }
  return out;
}

variable_list CustomFunctionParts::input_tangents(const variable_list& inputs, uint64_t level) {
  variable_list out;
  out.reserve(inputs.size());
  for (const Tensor& t : inputs) {
    out.push_back(is_floating_point(t.dtype()) ? detail::tangent_or_zeros(t, level) : Tensor());
  }
  return out;
}

void CustomFunctionParts::set_output_tangents(const std::string& function_name,
                                              const variable_list& outputs,
                                              const variable_list& tangents, uint64_t level) {
  SY_CHECK(tangents.size() == outputs.size(), AutogradError,
           "{}: jvp returned {} tangents for {} outputs", function_name, tangents.size(),
           outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i].defined() && tangents[i].defined()) {
      detail::set_fw_grad(outputs[i], level, tangents[i], function_name.c_str());
    }
  }
}

}  // namespace sy::autograd
