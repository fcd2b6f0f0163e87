#include "switchyard/transforms/grad.h"

#include <fmt/format.h>

#include "switchyard/autograd/autograd.h"
#include "switchyard/autograd/custom_function.h"
#include "switchyard/autograd/forward_ad.h"
#include "switchyard/core/error.h"
#include "switchyard/ops/ops.h"
#include "switchyard/transforms/batched_tensor.h"

namespace sy::func {
namespace detail {
namespace {

// Vmap levels with their stack positions, outermost first.
using LevelList = std::vector<std::pair<size_t, Level>>;

// The visible vmap levels.
LevelList visible_vmap_levels() {
  LevelList out;
  const TransformState* s = transform_state();
  if (s == nullptr) return out;
  for (size_t p = 0; p < s->active; ++p) {
    if (s->levels[p].kind == TransformKind::Vmap) out.emplace_back(p, s->levels[p]);
  }
  return out;
}

// `t` with its dim `from` moved to `to`, the others in order.
Tensor move_dim(const Tensor& t, int64_t from, int64_t to) {
  if (from == to) return t;
  std::vector<int64_t> perm;
  for (int64_t i = 0; i < t.dim(); ++i) {
    if (i != from) perm.push_back(i);
  }
  perm.insert(perm.begin() + to, from);
  return permute(t, perm);
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

// canonical() and wrap_canonical() at `levels` (visible ones) instead of every visible level.
Tensor canonical_at(const Tensor& x, const LevelList& levels) {
  // x's wrappers, by level id, with their batch dims.
  std::vector<std::pair<uint64_t, int64_t>> chain;
  Tensor cur = x;
  while (const BatchedTensorImpl* b = maybe_batched(cur)) {
    chain.emplace_back(b->level_id(), b->bdim());
    cur = b->value();
  }
  for (const auto& [id, bdim] : chain) {
    bool visible = false;
    for (const auto& [p, l] : levels) visible |= l.id == id;
    SY_CHECK(visible, ValueError,
             "a batched tensor of a vmap that is not active here ({}) was passed to grad, jvp, "
             "vjp or a custom function; it escaped its vmap (return it from the function instead)",
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

Tensor wrap_at(Tensor physical, const LevelList& levels) {
  for (const auto& [pos, level] : levels) physical = make_batched(std::move(physical), 0, level);
  return physical;
}

}  // namespace

Tensor canonical(const Tensor& x) { return canonical_at(x, visible_vmap_levels()); }

Tensor wrap_canonical(Tensor physical) {
  return wrap_at(std::move(physical), visible_vmap_levels());
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

VjpBackward::VjpBackward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         bool create_graph)
    : create_graph_(create_graph) {
  for (const Tensor& o : outputs) {
    SY_CHECK(o.defined(), ValueError, "vjp: output {} is undefined", outputs_.size());
    outputs_.push_back(physical_of(canonical(o)));
    shapes_.emplace_back(o.sizes().begin(), o.sizes().end());
  }
  for (const Tensor& in : inputs) inputs_.push_back(physical_of(canonical(in)));
  for (const auto& [pos, level] : visible_vmap_levels()) level_ids_.push_back(level.id);
}

std::vector<Tensor> VjpBackward::operator()(const std::vector<Tensor>& cotangents) const {
  const auto levels = visible_vmap_levels();
  const size_t d = level_ids_.size();
  bool inside = levels.size() >= d;
  for (size_t i = 0; inside && i < d; ++i) inside = levels[i].second.id == level_ids_[i];
  SY_CHECK(inside, ValueError,
           "vjp: vjp_fn was called inside {}, outside the {} vmap level(s) vjp was called in; "
           "call vjp_fn inside the transforms vjp ran in (vmaps added around it are fine), or "
           "return what you need from them",
           describe_transform_stack(), d);
  SY_CHECK(cotangents.size() == outputs_.size(), ValueError,
           "vjp: {} cotangents for {} outputs; give one per output", cotangents.size(),
           outputs_.size());
  // The vmap levels newer than vjp's: their batch of cotangents goes through one backward.
  const std::vector<std::pair<size_t, Level>> added(levels.begin() + static_cast<ptrdiff_t>(d),
                                                    levels.end());
  bool create_graph = create_graph_ || outer_levels_need_graph();
  std::vector<Tensor> outs, cots;
  for (size_t i = 0; i < cotangents.size(); ++i) {
    const Tensor& c = cotangents[i];
    SY_CHECK(c.defined() && std::vector<int64_t>(c.sizes().begin(), c.sizes().end()) == shapes_[i],
             ValueError, "vjp: cotangent {} has shape {}, its output {}", i,
             c.defined() ? to_string(c.sizes()) : std::string("undefined"),
             to_string(IntArrayRef(shapes_[i])));
    if (!outputs_[i].requires_grad()) continue;
    create_graph = create_graph || c.requires_grad();
    outs.push_back(outputs_[i]);
    if (d == 0) {
      // Every batched level of c is an added one: c already is [*output] at each.
      cots.push_back(c);
      continue;
    }
    // [B_1..B_d, A_1..A_m, *shape] physically; each added level A_j then takes its
    // dim (at d once the newer ones are out), so c reads [B_1..B_d, *shape], the
    // physical output's shape, at every added level.
    Tensor cur = physical_of(canonical(c));
    for (const auto& [pos, level] : added) cur = make_batched(std::move(cur), d, level);
    cots.push_back(std::move(cur));
  }
  std::vector<Tensor> grads;
  if (!outs.empty()) {
    grads = autograd::grad(outs, inputs_, cots, /*retain_graph=*/true, create_graph,
                           /*allow_unused=*/true);
  } else {
    grads.resize(inputs_.size());
  }
  std::vector<Tensor> result;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    Tensor g = grads[i].defined() ? grads[i] : zeros_like(inputs_[i].detach());
    if (d == 0) {
      // Batched at the added levels only (or not at all): already what the caller sees.
      result.push_back(std::move(g));
      continue;
    }
    // g reads [B_1..B_d, *input] at the added levels: each added level's dim goes to d,
    // newest first, for the physical [B_1..B_d, A_1..A_m, *input] of wrap_canonical.
    for (size_t j = added.size(); j-- > 0;) {
      const auto& [pos, level] = added[j];
      Unwrapped u = unwrap_at(g, level.id);
      ShowLevels below(pos);
      if (u.bdim) {
        g = move_dim(u.value, *u.bdim, static_cast<int64_t>(d));
      } else {
        std::vector<int64_t> sizes(u.value.sizes().begin(), u.value.sizes().end());
        sizes.insert(sizes.begin() + static_cast<ptrdiff_t>(d), level.batch_size);
        g = expand(unsqueeze(u.value, static_cast<int64_t>(d)), sizes);
      }
    }
    SY_CHECK(maybe_batched(g) == nullptr, ValueError,
             "vjp: a vector-Jacobian product came back batched at a vmap level vjp_fn does not "
             "run under ({}); a batched tensor escaped into the function",
             describe_transform_stack());
    result.push_back(wrap_canonical(std::move(g)));
  }
  return result;
}

// ---- custom functions on batched tensors ----------------------------------------------

namespace {

// A custom function called on batched tensors (autograd/custom_function.h): the
// node sits on the canonical physical tensors of the call's vmap levels; backward
// and jvp see those wrapped again at fresh levels of the same batch sizes, pushed
// for the run (a backward may run after the call's levels ended, or on another
// thread), which is functorch's generate_vmap_rule done for every function.
class BatchedCall final : public autograd::WrappedCall {
 public:
  explicit BatchedCall(LevelList levels) : levels_(std::move(levels)) {}

  Tensor lower(const Tensor& t) const override { return physical_of(canonical_at(t, levels_)); }
  Tensor raise(const Tensor& lowered) const override { return wrap_at(lowered, levels_); }

  std::vector<Tensor> run_raised(
      const std::vector<Tensor>& lowered,
      const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn) const override {
    FreshLevels fresh(levels_);
    std::vector<Tensor> raised;
    raised.reserve(lowered.size());
    for (const Tensor& t : lowered) raised.push_back(t.defined() ? wrap_at(t, fresh.levels) : t);
    std::vector<Tensor> out = fn(raised);
    for (Tensor& r : out) {
      if (r.defined()) r = physical_of(canonical_at(r, fresh.levels));
    }
    return out;
  }

 private:
  // One new vmap level for each of `like`, pushed for the object's life (popped
  // newest first).
  struct FreshLevels {
    explicit FreshLevels(const LevelList& like) {
      for (const auto& [pos, l] : like) {
        guards.push_back(
            std::make_unique<LevelGuard>(TransformKind::Vmap, l.batch_size, l.randomness));
        const Level& level = guards.back()->level();
        levels.emplace_back(static_cast<size_t>(level.number - 1), level);
      }
    }
    ~FreshLevels() {
      while (!guards.empty()) guards.pop_back();
    }
    FreshLevels(const FreshLevels&) = delete;
    FreshLevels& operator=(const FreshLevels&) = delete;
    std::vector<std::unique_ptr<LevelGuard>> guards;
    LevelList levels;
  };

  LevelList levels_;
};

std::shared_ptr<autograd::WrappedCall> make_batched_call(const std::vector<Tensor>& inputs) {
  bool batched = false;
  for (const Tensor& t : inputs) batched = batched || maybe_batched(t) != nullptr;
  if (!batched) return nullptr;
  LevelList levels = visible_vmap_levels();
  if (levels.empty()) return nullptr;  // an escaped wrapper: the forward's ops say so
  return std::make_shared<BatchedCall>(std::move(levels));
}

[[maybe_unused]] const bool kBatchedCallsInstalled =
    (autograd::set_wrapped_call_factory(&make_batched_call), true);

}  // namespace
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
  auto backward = std::make_shared<const detail::VjpBackward>(outputs, leaves, needs_graph);
  std::vector<Tensor> values;
  for (const Tensor& o : outputs) values.push_back(needs_graph ? o : detail::without_graph(o));
  VjpFunction vjp_fn = [backward](const std::vector<Tensor>& cotangents) {
    return (*backward)(cotangents);
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
