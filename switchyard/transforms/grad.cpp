#include "switchyard/transforms/grad.h"

#include <fmt/format.h>

#include "switchyard/autograd/autograd.h"
#include "switchyard/autograd/forward_ad.h"
#include "switchyard/core/error.h"
#include "switchyard/ops/ops.h"
#include "switchyard/transforms/batched_tensor.h"

namespace sy::func {
namespace detail {
namespace {

// The visible vmap levels with their stack positions, outermost first.
std::vector<std::pair<size_t, Level>> visible_vmap_levels() {
  std::vector<std::pair<size_t, Level>> out;
  const TransformState* s = transform_state();
  if (s == nullptr) return out;
  for (size_t p = 0; p < s->active; ++p) {
    if (s->levels[p].kind == TransformKind::Vmap) out.emplace_back(p, s->levels[p]);
  }
  return out;
}

// Sets the flag that lets make_grad_input call requires_grad_ inside grad levels.
struct MakingGradInputs {
  MakingGradInputs() : s(transform_state()) {
    if (s != nullptr) {
      saved = s->making_grad_inputs;
      s->making_grad_inputs = true;
    }
  }
  ~MakingGradInputs() {
    if (s != nullptr) s->making_grad_inputs = saved;
  }
  TransformState* s;
  bool saved = false;
};

}  // namespace

Tensor canonical(const Tensor& x) {
  // x's wrappers, by level id, with their batch dims.
  std::vector<std::pair<uint64_t, int64_t>> chain;
  Tensor cur = x;
  while (const BatchedTensorImpl* b = maybe_batched(cur)) {
    chain.emplace_back(b->level_id(), b->bdim());
    cur = b->value();
  }
  const auto levels = visible_vmap_levels();
  for (const auto& [id, bdim] : chain) {
    bool visible = false;
    for (const auto& [p, l] : levels) visible |= l.id == id;
    SY_CHECK(visible, ValueError,
             "a batched tensor of a vmap that is not active here ({}) was passed to a grad or "
             "jvp transform; it escaped its vmap",
             describe_transform_stack());
  }
  // Rebuilt from the physical tensor up, one vmap level at a time.
  for (const auto& [pos, level] : levels) {
    std::optional<int64_t> bdim;
    for (const auto& [id, d] : chain) {
      if (id == level.id) bdim = d;
    }
    {
      ShowLevels below(pos);  // cur lives at the levels under this one
      if (!bdim) {
        std::vector<int64_t> sizes{level.batch_size};
        for (int64_t s : cur.sizes()) sizes.push_back(s);
        cur = expand(unsqueeze(cur, 0), sizes);
      } else if (*bdim != 0) {
        std::vector<int64_t> perm{*bdim};
        for (int64_t d = 0; d < cur.dim(); ++d) {
          if (d != *bdim) perm.push_back(d);
        }
        cur = permute(cur, perm);
      }
    }
    cur = make_batched(cur, 0, level);
  }
  return cur;
}

Tensor wrap_canonical(Tensor physical) {
  for (const auto& [pos, level] : visible_vmap_levels()) {
    physical = make_batched(std::move(physical), 0, level);
  }
  return physical;
}

Tensor make_grad_input(const Tensor& x, bool* needs_graph) {
  SY_CHECK(x.defined(), ValueError, "grad: an input to differentiate is an undefined tensor");
  SY_CHECK(is_floating_point(x.dtype()), TypeError,
           "grad: only floating-point inputs can be differentiated, got a {} input; choose "
           "another argnum or convert it with .to(sy.float32)",
           to_string(x.dtype()));
  const Tensor phys = physical_of(canonical(x));
  Tensor leaf;
  if (phys.requires_grad()) {
    *needs_graph = true;
    leaf = phys.view(phys.sizes());  // keeps the outer levels' graph
  } else {
    MakingGradInputs allowed;
    leaf = phys.detach();
    leaf.requires_grad_(true);
    // A tangent of an enclosing jvp stays on the new leaf.
    if (const auto level = autograd::forward_ad::current_level()) {
      const Tensor tangent = autograd::forward_ad::unpack_dual(phys, *level).tangent;
      if (tangent.defined()) {
        *needs_graph = true;
        leaf = autograd::forward_ad::make_dual(leaf, tangent, *level);
      }
    }
  }
  return wrap_canonical(std::move(leaf));
}

bool outer_levels_need_graph() {
  const TransformState* s = transform_state();
  if (s == nullptr) return false;
  for (size_t p = 0; p < s->active; ++p) {
    if (s->levels[p].kind != TransformKind::Vmap) return true;
  }
  return false;
}

std::vector<Tensor> grads_of(const Tensor& output, const std::vector<Tensor>& inputs,
                             bool create_graph) {
  SY_CHECK(output.defined(), ValueError, "grad: the function's output is undefined");
  SY_CHECK(output.numel() == 1, ValueError,
           "grad: the function must return a one-element tensor (a loss) as its first output, "
           "got one of shape {}; use vjp or jacrev for other outputs",
           to_string(output.sizes()));
  SY_CHECK(is_floating_point(output.dtype()), TypeError,
           "grad: the function's output must be floating point, got {}", to_string(output.dtype()));
  const Tensor out = physical_of(canonical(output));
  std::vector<Tensor> leaves;
  for (const Tensor& in : inputs) leaves.push_back(physical_of(in));
  std::vector<Tensor> grads;
  if (out.requires_grad()) {
    grads = autograd::grad({out}, leaves, {ones_like(out)}, create_graph, create_graph,
                           /*allow_unused=*/true);
  } else {
    grads.resize(leaves.size());
  }
  std::vector<Tensor> result;
  for (size_t i = 0; i < leaves.size(); ++i) {
    Tensor g = grads[i].defined() ? grads[i] : zeros_like(leaves[i]);
    result.push_back(wrap_canonical(std::move(g)));
  }
  return result;
}

Tensor without_graph(const Tensor& t) {
  if (!t.defined()) return t;
  const Tensor c = canonical(t);
  return wrap_canonical(physical_of(c).detach());
}

}  // namespace detail

namespace {

std::vector<Tensor> run_grad(const TensorFunction& fn, const std::vector<int64_t>& argnums,
                             bool has_aux, bool with_value, const std::vector<Tensor>& inputs) {
  SY_CHECK(!argnums.empty(), ValueError, "grad: argnums is empty; name at least one input");
  std::vector<Tensor> args = inputs;
  std::vector<Tensor> diff;
  bool needs_graph = detail::outer_levels_need_graph();
  for (int64_t a : argnums) {
    const int64_t n = static_cast<int64_t>(inputs.size());
    SY_CHECK(a >= -n && a < n, IndexError,
             "grad: argnums entry {} is out of range for a function called with {} inputs", a, n);
    const size_t i = static_cast<size_t>(a < 0 ? a + n : a);
    args[i] = detail::make_grad_input(inputs[i], &needs_graph);
    diff.push_back(args[i]);
  }
  std::vector<Tensor> outputs;
  {
    LevelGuard level(TransformKind::Grad);
    outputs = fn(args);
  }
  SY_CHECK(!outputs.empty(), ValueError, "grad: the function returned no outputs");
  SY_CHECK(has_aux || outputs.size() == 1, ValueError,
           "grad: the function returned {} outputs; return one (the loss), or pass has_aux=true "
           "to return more after it",
           outputs.size());
  std::vector<Tensor> result = detail::grads_of(outputs[0], diff, needs_graph);
  if (with_value) {
    result.push_back(needs_graph ? outputs[0] : detail::without_graph(outputs[0]));
  }
  for (size_t i = 1; i < outputs.size(); ++i) {
    result.push_back(needs_graph ? outputs[i] : detail::without_graph(outputs[i]));
  }
  return result;
}

}  // namespace

TensorFunction grad(TensorFunction fn, std::vector<int64_t> argnums, bool has_aux) {
  return [fn = std::move(fn), argnums = std::move(argnums), has_aux](
             const std::vector<Tensor>& in) { return run_grad(fn, argnums, has_aux, false, in); };
}

TensorFunction grad_and_value(TensorFunction fn, std::vector<int64_t> argnums, bool has_aux) {
  return [fn = std::move(fn), argnums = std::move(argnums), has_aux](
             const std::vector<Tensor>& in) { return run_grad(fn, argnums, has_aux, true, in); };
}

namespace {

size_t vmap_depth() {
  size_t n = 0;
  for (const Level& l : transform_stack()) n += l.kind == TransformKind::Vmap;
  return n;
}

}  // namespace

std::pair<std::vector<Tensor>, VjpFunction> vjp(const TensorFunction& fn,
                                                const std::vector<Tensor>& primals) {
  bool needs_graph = detail::outer_levels_need_graph();
  std::vector<Tensor> leaves;
  for (const Tensor& p : primals) {
    SY_CHECK(p.defined(), ValueError, "vjp: primal {} is undefined", leaves.size());
    leaves.push_back(detail::make_grad_input(p, &needs_graph));
  }
  std::vector<Tensor> outputs;
  {
    LevelGuard level(TransformKind::Grad);
    outputs = fn(leaves);
  }
  std::vector<Tensor> phys_out, phys_leaves, values;
  for (const Tensor& o : outputs) {
    SY_CHECK(o.defined(), ValueError, "vjp: output {} is undefined", values.size());
    phys_out.push_back(physical_of(detail::canonical(o)));
    values.push_back(needs_graph ? o : detail::without_graph(o));
  }
  for (const Tensor& l : leaves) phys_leaves.push_back(physical_of(detail::canonical(l)));
  const size_t depth = vmap_depth();
  std::vector<std::vector<int64_t>> shapes;
  for (const Tensor& o : outputs) shapes.emplace_back(o.sizes().begin(), o.sizes().end());
  VjpFunction vjp_fn = [phys_out, phys_leaves, shapes, depth,
                        needs_graph](const std::vector<Tensor>& cotangents) {
    SY_CHECK(vmap_depth() == depth, ValueError,
             "vjp: vjp_fn was called inside {} vmap levels, vjp at {}; call it where vjp was "
             "called (from Python, vmap over vjp_fn is supported)",
             vmap_depth(), depth);
    SY_CHECK(cotangents.size() == phys_out.size(), ValueError,
             "vjp: {} cotangents for {} outputs; give one per output", cotangents.size(),
             phys_out.size());
    std::vector<Tensor> outs, cots;
    for (size_t i = 0; i < cotangents.size(); ++i) {
      const Tensor& c = cotangents[i];
      SY_CHECK(c.defined() && std::vector<int64_t>(c.sizes().begin(), c.sizes().end()) == shapes[i],
               ValueError, "vjp: cotangent {} has shape {}, its output {}", i,
               c.defined() ? to_string(c.sizes()) : std::string("undefined"),
               to_string(IntArrayRef(shapes[i])));
      if (!phys_out[i].requires_grad()) continue;
      outs.push_back(phys_out[i]);
      cots.push_back(physical_of(detail::canonical(c)));
    }
    std::vector<Tensor> grads;
    if (!outs.empty()) {
      grads = autograd::grad(outs, phys_leaves, cots, /*retain_graph=*/true, needs_graph,
                             /*allow_unused=*/true);
    } else {
      grads.resize(phys_leaves.size());
    }
    std::vector<Tensor> result;
    for (size_t i = 0; i < phys_leaves.size(); ++i) {
      Tensor g = grads[i].defined() ? grads[i] : zeros_like(phys_leaves[i].detach());
      result.push_back(detail::wrap_canonical(std::move(g)));
    }
    return result;
  };
  return {values, std::move(vjp_fn)};
}

std::pair<std::vector<Tensor>, std::vector<Tensor>> jvp(const TensorFunction& fn,
                                                        const std::vector<Tensor>& primals,
                                                        const std::vector<Tensor>& tangents) {
  SY_CHECK(primals.size() == tangents.size(), ValueError,
           "jvp: {} primals and {} tangents; give one tangent per primal", primals.size(),
           tangents.size());
  bool needs_graph = detail::outer_levels_need_graph();
  for (size_t i = 0; i < primals.size() && i < tangents.size(); ++i) {
    needs_graph = needs_graph || (primals[i].defined() && primals[i].requires_grad()) ||
                  (tangents[i].defined() && tangents[i].requires_grad());
  }
  autograd::forward_ad::DualLevel dual_level;
  std::vector<Tensor> duals;
  for (size_t i = 0; i < primals.size(); ++i) {
    SY_CHECK(primals[i].defined() && tangents[i].defined(), ValueError,
             "jvp: primal or tangent {} is undefined", i);
    SY_CHECK(primals[i].sizes() == tangents[i].sizes(), ValueError,
             "jvp: primal {} has shape {} but its tangent has shape {}; they must match", i,
             to_string(primals[i].sizes()), to_string(tangents[i].sizes()));
    const Tensor p = physical_of(detail::canonical(primals[i]));
    const Tensor t = physical_of(detail::canonical(tangents[i]));
    duals.push_back(
        detail::wrap_canonical(autograd::forward_ad::make_dual(p, t, dual_level.level())));
  }
  std::vector<Tensor> outputs;
  {
    LevelGuard level(TransformKind::Jvp);
    outputs = fn(duals);
  }
  std::vector<Tensor> primal_out, tangent_out;
  for (const Tensor& o : outputs) {
    const Tensor phys = physical_of(detail::canonical(o));
    auto unpacked = autograd::forward_ad::unpack_dual(phys, dual_level.level());
    Tensor p = needs_graph ? unpacked.primal : unpacked.primal.detach();
    Tensor t = unpacked.tangent.defined() ? unpacked.tangent : zeros_like(p);
    if (!needs_graph) t = t.detach();
    primal_out.push_back(detail::wrap_canonical(p));
    tangent_out.push_back(detail::wrap_canonical(t));
  }
  return {primal_out, tangent_out};
}

}  // namespace sy::func
