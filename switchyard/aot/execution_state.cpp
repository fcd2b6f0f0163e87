#include "switchyard/aot/execution_state.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "switchyard/aot/run_guard.h"
#include "switchyard/core/retire.h"
#include "switchyard/ops/shape.h"

namespace sy::aot::detail {
namespace {

size_t bytes_of(IntArrayRef sizes, ScalarType dtype) {
  int64_t n = 1;
  for (int64_t s : sizes) n *= s;
  return static_cast<size_t>(n) * element_size(dtype);
}

// A tensor of `sizes` and `dtype`, contiguous, over `storage` from its start.
Tensor over(const Storage& storage, IntArrayRef sizes, ScalarType dtype) {
  return Tensor(
      IntrusivePtr<TensorImpl>::make(storage, dtype, sizes, contiguous_strides(sizes), 0));
}

// dst = src (same dtype and shape): one memcpy when both are contiguous.
void copy_into(const Tensor& dst, const Tensor& src) {
  if (dst.is_contiguous() && src.is_contiguous() && dst.dtype() == src.dtype()) {
    const size_t n = bytes_of(src.sizes(), src.dtype());
    if (n) std::memcpy(dst.raw_data(), src.raw_data(), n);
    return;
  }
  copy_(dst, src);
}

void push_operand(Stack& stack, const Operand& o, const ExecutionState& s) {
  switch (o.kind) {
    case Operand::Kind::Tensor: stack.emplace_back(*s.where[o.id]); break;
    case Operand::Kind::TensorList: {
      std::vector<Tensor> ts;
      ts.reserve(o.list.size());
      for (uint32_t i : o.list) ts.push_back(*s.where[i]);
      stack.emplace_back(std::move(ts));
      break;
    }
    case Operand::Kind::NonTensor: stack.push_back(s.non_tensor[o.id]); break;
    case Operand::Kind::Literal: stack.push_back(o.literal); break;
  }
}

std::string node_name(const Step& step) {
  return fmt::format("node {} ({})", step.node_index, step.functional.schema->full_name());
}

}  // namespace

// ---- shape inference ------------------------------------------------------------------------

InferredShapes infer_shapes(const CompiledModel& m, const WeightSnapshot& weights,
                            const std::vector<DimVector>& input_sizes) {
  InferredShapes r;
  r.known.assign(m.num_values, false);
  r.sizes.resize(m.num_values);
  r.dtypes.assign(m.num_values, kFloat32);
  r.step_ok.assign(m.steps.size(), false);
  std::vector<Tensor> meta(m.num_values);
  const Device kMeta("meta");
  auto set = [&](uint32_t id, const Tensor& t) {
    meta[id] = t;
    r.known[id] = true;
    r.sizes[id] = DimVector(t.sizes());
    r.dtypes[id] = t.dtype();
  };
  for (uint32_t id = 0; id < m.num_values; ++id) {
    if (m.value_kind[id] == CompiledModel::ValueKind::Input) {
      set(id, make_tensor(input_sizes[m.value_slot[id]], m.value_dtype[id], kMeta));
    } else if (m.value_kind[id] == CompiledModel::ValueKind::Weight) {
      const Tensor& w = weights.tensors[m.value_slot[id]];
      set(id, make_tensor(w.sizes(), w.dtype(), kMeta));
    }
  }
  RunGuard guard;
  Stack stack;
  for (size_t s = 0; s < m.steps.size(); ++s) {
    const Step& step = m.steps[s];
    bool ready = true;
    for (const Operand& o : step.args) {
      if (o.kind == Operand::Kind::Tensor || o.kind == Operand::Kind::NonTensor) {
        ready = ready && r.known[o.id] && o.kind == Operand::Kind::Tensor;
      }
      for (uint32_t i : o.list) ready = ready && r.known[i];
    }
    if (!ready) continue;
    stack.clear();
    for (const Operand& o : step.args) {
      switch (o.kind) {
        case Operand::Kind::Tensor: stack.emplace_back(meta[o.id]); break;
        case Operand::Kind::TensorList: {
          std::vector<Tensor> ts;
          for (uint32_t i : o.list) ts.push_back(meta[i]);
          stack.emplace_back(std::move(ts));
          break;
        }
        case Operand::Kind::Literal: stack.push_back(o.literal); break;
        case Operand::Kind::NonTensor: break;  // not ready (above)
      }
    }
    try {
      step.functional.op.call_boxed(stack);
    } catch (const Error&) {
      continue;  // no meta kernel, or shapes this op refuses: unknown from here
    }
    if (stack.size() != step.results.size()) continue;
    bool ok = true;
    for (size_t k = 0; k < step.results.size() && ok; ++k) {
      const Step::Result& res = step.results[k];
      if (res.is_list) {
        ok = stack[k].is_tensor_list() && stack[k].to_tensor_list().size() == res.ids.size();
        for (size_t j = 0; ok && j < res.ids.size(); ++j)
          set(res.ids[j], stack[k].to_tensor_list()[j]);
      } else if (res.is_tensor) {
        ok = stack[k].is_tensor();
        if (ok) set(res.ids[0], stack[k].to_tensor_ref());
      }
    }
    r.step_ok[s] = ok;
  }
  return r;
}

// ---- the state ------------------------------------------------------------------------------

ExecutionState::ExecutionState(const CompiledModel& m)
    : model(m),
      where(m.num_values, nullptr),
      owned(m.num_values),
      non_tensor(m.num_values),
      written_weight_copies(m.written_weights.size()),
      cache(m.outputs.size()),
      cache_bytes(m.outputs.size(), 0),
      outputs(m.outputs.size()) {
  for (uint32_t id = 0; id < m.num_values; ++id) {
    if (m.value_kind[id] == CompiledModel::ValueKind::Step) where[id] = &owned[id];
  }
  size_t max_args = 1;
  for (const Step& s : m.steps) max_args = std::max(max_args, s.args.size() + 1);
  stack.reserve(max_args);
}

void ExecutionState::check_inputs(const std::vector<Tensor>& inputs) const {
  const CompiledModel& m = model;
  SY_CHECK(inputs.size() == m.inputs.size(), ValueError,
           "aot::Model::run: the model takes {} inputs, got {}", m.inputs.size(), inputs.size());
  int64_t batch = -1;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& t = inputs[k];
    const TensorSpec& spec = m.inputs[k];
    SY_CHECK(t.defined(), ValueError, "aot::Model::run: input {} is undefined", k);
    SY_CHECK(t.dtype() == spec.dtype, TypeError,
             "aot::Model::run: input {} has dtype {}, the model takes {}", k, to_string(t.dtype()),
             to_string(spec.dtype));
    SY_CHECK(t.device().is_cpu(), ValueError,
             "aot::Model::run: input {} is on {}; the model runs on cpu tensors", k,
             t.device().str());
    const IntArrayRef sizes = t.sizes();
    const IntArrayRef want = spec.sizes;
    bool same = sizes.size() == want.size();
    for (size_t d = spec.first_dim_varies ? 1 : 0; same && d < sizes.size(); ++d) {
      same = sizes[d] == want[d];
    }
    if (!same) {
      throw ValueError(fmt::format(
          "aot::Model::run: input {} has shape {}, the model takes {}{}", k, to_string(sizes),
          to_string(want),
          spec.first_dim_varies ? " (its first dim may vary)"
          : want.empty()        ? ""
                         : " (the first dim is fixed: the traced ops do not allow another)"));
    }
    if (spec.first_dim_varies) {
      SY_CHECK(batch < 0 || sizes[0] == batch, ValueError,
               "aot::Model::run: input {} has first dim {}, but an earlier input has {}; the "
               "inputs whose first dim is the batch must agree on it",
               k, sizes[0], batch);
      batch = sizes[0];
    }
  }
}

Storage& ExecutionState::grown(std::vector<Storage>& pool, std::vector<size_t>& bytes, size_t i,
                               size_t need) {
  if (i >= pool.size()) {
    pool.resize(i + 1);
    bytes.resize(i + 1, 0);
  }
  if (!pool[i] || bytes[i] < need) {
    pool[i] = Storage::make(need, Device(DeviceType::CPU));
    bytes[i] = need;
  }
  return pool[i];
}

std::unique_ptr<ExecutionState::ShapePlan> ExecutionState::plan(const std::vector<Tensor>& inputs,
                                                                const WeightSnapshot& weights) {
  const CompiledModel& m = model;
  std::vector<DimVector> sizes;
  sizes.reserve(inputs.size());
  for (const Tensor& t : inputs) sizes.emplace_back(t.sizes());
  const InferredShapes shapes = infer_shapes(m, weights, sizes);
  auto p = std::make_unique<ShapePlan>();
  std::vector<uint8_t>& use_out = p->use_out;
  std::vector<uint8_t>& persistent = p->persistent;
  std::vector<uint8_t>& output_in_cache = p->output_in_cache;
  use_out.assign(m.steps.size(), 0);
  persistent.assign(m.num_values, 0);
  output_in_cache.assign(m.outputs.size(), 0);
  p->planned.resize(m.num_values);

  // Fused groups: the steps before a group's last are not computed (no
  // buffer), and the group reads its operands while it writes its result, so
  // they stay alive (unshared) until its last step.
  std::vector<uint8_t> inside_group(m.steps.size(), 0);
  std::vector<size_t> read_until(m.num_values, 0);  // per alias root
  p->fused.reserve(m.fused.size());
  for (const FusedGroup& g : m.fused) {
    p->fused.push_back(plan_fused(m, g, shapes.known, shapes.sizes));
    if (!p->fused.back().on) continue;
    for (size_t s = g.first; s < g.last; ++s) inside_group[s] = 1;
    for (uint32_t v : g.loads) {
      read_until[m.alias_root[v]] = std::max(read_until[m.alias_root[v]], g.last);
    }
  }

  // Greedy assignment by lifetime: each planned value takes a buffer whose
  // last value's alias group is no longer read, or a new one.
  struct Live {
    size_t end;
    size_t buffer;
  };
  std::vector<Live> live;
  std::vector<size_t> free_buffers;
  std::vector<size_t> need;  // per buffer
  std::vector<int64_t> buffer_of(m.num_values, -1);
  const size_t end = m.steps.size();
  for (size_t s = 0; s < m.steps.size(); ++s) {
    for (size_t k = 0; k < live.size();) {
      if (live[k].end < s) {
        free_buffers.push_back(live[k].buffer);
        live[k] = live.back();
        live.pop_back();
      } else {
        ++k;
      }
    }
    const Step& step = m.steps[s];
    if (inside_group[s]) continue;
    if (!step.out_variant || step.results.size() != 1 || step.results[0].is_list) continue;
    const uint32_t v = step.results[0].ids[0];
    if (!m.plannable[v] || !shapes.known[v]) continue;
    use_out[s] = 1;
    persistent[v] = 1;
    const size_t bytes = bytes_of(shapes.sizes[v], shapes.dtypes[v]);
    if (m.group_last_use[v] == end) {
      // A graph output: written straight into its own cache when it is the
      // first output that is this value.
      const auto it = std::find(m.output_ids.begin(), m.output_ids.end(), v);
      if (it != m.output_ids.end()) {
        output_in_cache[it - m.output_ids.begin()] = 1;
        buffer_of[v] = -2 - (it - m.output_ids.begin());
        continue;
      }
    }
    // Best fit: the smallest free buffer that holds it, else the largest
    // (which grows), else a new one.
    auto best = free_buffers.end();
    for (auto f = free_buffers.begin(); f != free_buffers.end(); ++f) {
      if (best == free_buffers.end()) {
        best = f;
      } else if (need[*f] >= bytes) {
        if (need[*best] < bytes || need[*f] < need[*best]) best = f;
      } else if (need[*best] < bytes && need[*f] > need[*best]) {
        best = f;
      }
    }
    size_t b;
    if (best != free_buffers.end()) {
      b = *best;
      free_buffers.erase(best);
    } else {
      b = need.size();
      need.push_back(0);
    }
    need[b] = std::max(need[b], bytes);
    buffer_of[v] = static_cast<int64_t>(b);
    live.push_back({std::max({m.group_last_use[v], read_until[v], s}), b});
  }
  for (size_t b = 0; b < need.size(); ++b) grown(buffers, buffer_bytes, b, need[b]);
  for (uint32_t v = 0; v < m.num_values; ++v) {
    if (!persistent[v]) continue;
    const Storage& storage = buffer_of[v] >= 0
                                 ? buffers[buffer_of[v]]
                                 : grown(cache, cache_bytes, static_cast<size_t>(-2 - buffer_of[v]),
                                         bytes_of(shapes.sizes[v], shapes.dtypes[v]));
    p->planned[v] = over(storage, shapes.sizes[v], shapes.dtypes[v]);
  }
  p->input_sizes = std::move(sizes);
  return p;
}

void ExecutionState::use_plan_for(const std::vector<Tensor>& inputs,
                                  const WeightSnapshot& weights) {
  auto matches = [&](const ShapePlan& p) {
    for (size_t k = 0; k < inputs.size(); ++k) {
      if (inputs[k].sizes() != IntArrayRef(p.input_sizes[k])) return false;
    }
    return true;
  };
  if (active != nullptr && matches(*active)) return;
  auto it = std::find_if(plans.begin(), plans.end(), [&](const auto& p) { return matches(*p); });
  std::unique_ptr<ShapePlan> p;
  if (it != plans.end()) {
    p = std::move(*it);
    plans.erase(it);
  } else {
    p = plan(inputs, weights);
    if (plans.size() >= kMaxPlans) plans.pop_back();
  }
  plans.insert(plans.begin(), std::move(p));
  active = plans.front().get();
  // The planned buffers' tensors become the values' tensors; the others are
  // made by their steps.
  for (uint32_t v = 0; v < model.num_values; ++v) {
    if (model.value_kind[v] == CompiledModel::ValueKind::Step) owned[v] = active->planned[v];
  }
}

void ExecutionState::run_step(const Step& step, bool out) {
  if (out) {
    const StepKernel& k = *step.out_variant;
    const Tensor& buffer = owned[step.results[0].ids[0]];
    if (k.unboxed != nullptr) {
      k.unboxed(k, step.args.data(), *this, &buffer);
    } else {
      stack.clear();
      for (const Operand& o : step.args) push_operand(stack, o, *this);
      stack.emplace_back(buffer);
      k.kernel.call_boxed(k.op, k.keys, &stack);
      stack.clear();
    }
  } else if (step.functional.unboxed != nullptr) {
    owned[step.results[0].ids[0]] =
        step.functional.unboxed(step.functional, step.args.data(), *this, nullptr);
  } else {
    const StepKernel& k = step.functional;
    stack.clear();
    for (const Operand& o : step.args) push_operand(stack, o, *this);
    k.kernel.call_boxed(k.op, k.keys, &stack);
    SY_CHECK(stack.size() == step.results.size(), ValueError,
             "aot::Model::run: {} returned {} values, the graph expects {}", node_name(step),
             stack.size(), step.results.size());
    for (size_t r = 0; r < step.results.size(); ++r) {
      const Step::Result& res = step.results[r];
      IValue& v = stack[r];
      if (res.is_list) {
        SY_CHECK(v.is_tensor_list() && v.to_tensor_list().size() == res.ids.size(), ValueError,
                 "aot::Model::run: {} returned a list of another length than when traced ({}): "
                 "its length depends on the inputs' shapes",
                 node_name(step), res.ids.size());
        for (size_t j = 0; j < res.ids.size(); ++j) owned[res.ids[j]] = v.to_tensor_list()[j];
      } else if (res.is_tensor) {
        SY_CHECK(v.is_tensor(), ValueError, "aot::Model::run: {} returned a non-tensor",
                 node_name(step));
        owned[res.ids[0]] = std::move(v).to_tensor();
      } else {
        non_tensor[res.ids[0]] = std::move(v);
      }
    }
    stack.clear();
  }
  release_after(step);
}

void ExecutionState::release_after(const Step& step) {
  for (uint32_t i : step.release_after) {
    if (active->persistent[i]) continue;
    owned[i] = Tensor();
    non_tensor[i] = IValue();
  }
}

bool ExecutionState::run_group(size_t gi) {
  const FusedGroup& g = model.fused[gi];
  const FusedPlan& p = active->fused[gi];
  if (!p.on) {
    ++fused_fallbacks;
    return false;
  }
  std::array<const Tensor*, kMaxLoads> loads{};
  for (size_t l = 0; l < g.loads.size(); ++l) loads[l] = where[g.loads[l]];
  Tensor& out = owned[g.result];
  const bool planned = active->use_out[g.last] != 0;
  if (!fused_operands_fit(g, p, loads.data(), planned ? &out : nullptr)) {
    ++fused_fallbacks;
    return false;
  }
  if (!planned) out = make_tensor(p.sizes, g.dtype, Device(DeviceType::CPU));
  run_fused(g, p, loads.data(), out);
  ++fused_runs;
  for (size_t s = g.first; s <= g.last; ++s) release_after(model.steps[s]);
  return true;
}

void ExecutionState::run_steps() {
  const std::vector<Step>& steps = model.steps;
  for (size_t s = 0; s < steps.size();) {
    const int32_t g = model.fused_at[s];
    if (g >= 0 && run_group(static_cast<size_t>(g))) {
      s = model.fused[g].last + 1;
      continue;
    }
    run_step(steps[s], active->use_out[s] != 0);
    ++s;
  }
}

void ExecutionState::finish_outputs(OutputMode mode, std::vector<Tensor>* copies,
                                    const std::vector<Tensor>* into) {
  const CompiledModel& m = model;
  for (size_t k = 0; k < m.output_ids.size(); ++k) {
    const Tensor& t = *where[m.output_ids[k]];
    switch (mode) {
      case OutputMode::Copy: {
        Tensor c = make_tensor(t.sizes(), t.dtype(), Device(DeviceType::CPU));
        copy_into(c, t);
        copies->push_back(std::move(c));
        break;
      }
      case OutputMode::Into: copy_into((*into)[k], t); break;
      case OutputMode::Borrow: {
        if (active->output_in_cache[k]) {
          if (!outputs[k].is_same(t)) outputs[k] = t;
          break;
        }
        const uint32_t v = m.output_ids[k];
        if (m.output_is_fresh[k] && !active->persistent[v]) {
          outputs[k] = std::move(owned[v]);  // the step's own result: nothing else holds it
          break;
        }
        const size_t need = bytes_of(t.sizes(), t.dtype());
        const Storage& storage = grown(cache, cache_bytes, k, need);
        if (!outputs[k].defined() || outputs[k].dtype() != t.dtype() ||
            outputs[k].sizes() != t.sizes() ||
            outputs[k].impl()->storage().get() != storage.get()) {
          outputs[k] = over(storage, t.sizes(), t.dtype());
        }
        copy_into(outputs[k], t);
        break;
      }
    }
  }
}

void ExecutionState::run(const std::vector<Tensor>& inputs, OutputMode mode,
                         std::vector<Tensor>* copies, const std::vector<Tensor>* into,
                         BorrowedOutputs* borrowed) {
  check_inputs(inputs);
  const CompiledModel& m = model;
  if (mode == OutputMode::Into) {
    SY_CHECK(into->size() == m.outputs.size(), ValueError,
             "aot::Model::run_into: the model has {} outputs, got {} buffers", m.outputs.size(),
             into->size());
    for (size_t k = 0; k < into->size(); ++k) {
      const Tensor& o = (*into)[k];
      SY_CHECK(o.defined(), ValueError, "aot::Model::run_into: output buffer {} is undefined", k);
      SY_CHECK(o.dtype() == m.outputs[k].dtype, TypeError,
               "aot::Model::run_into: output buffer {} has dtype {}, output {} is {}", k,
               to_string(o.dtype()), k, to_string(m.outputs[k].dtype));
      SY_CHECK(o.device().is_cpu(), ValueError,
               "aot::Model::run_into: output buffer {} is on {}, not cpu", k, o.device().str());
    }
  }
  // Reached from inside one of this state's own runs (a kernel running the
  // model again on this thread): that run keeps this state; this one gets its own.
  if (busy) {
    SY_CHECK(mode != OutputMode::Borrow, ValueError,
             "aot::Model::run_borrowed called from inside a run of the same model on the same "
             "thread: borrowed outputs would not outlive the call; use run()");
    ExecutionState nested(m);
    nested.run(inputs, mode, copies, into, borrowed);
    return;
  }
  busy = true;
  ++runs;
  struct Finish {
    ExecutionState& s;
    bool completed = false;
    ~Finish() {
      // Whatever a run leaves (its outputs, or everything after an
      // exception) is released now, as eager code would; planned buffers stay.
      const CompiledModel& m = s.model;
      auto release = [&](uint32_t v) {
        if (s.active == nullptr || !s.active->persistent[v]) s.owned[v] = Tensor();
      };
      if (completed) {
        for (uint32_t v : m.output_ids) release(v);
      } else {
        for (uint32_t v : m.step_tensor_ids) release(v);
        for (IValue& v : s.non_tensor) v = IValue();
      }
      s.busy = false;
    }
  } finish{*this};

  RunGuard guard;
  sy::detail::CallScope scope;  // keeps the snapshot (Note [Weight snapshots]) alive to the end
  const WeightSnapshot& weights = *m.snapshot.load(std::memory_order_acquire);
  use_plan_for(inputs, weights);
  for (size_t k = 0; k < inputs.size(); ++k) where[m.input_ids[k]] = &inputs[k];
  if (weights_version != weights.version) {
    for (uint32_t id : m.weight_ids) where[id] = &weights.tensors[m.value_slot[id]];
    weights_version = weights.version;
  }
  for (size_t w = 0; w < m.written_weights.size(); ++w) {
    const uint32_t id = m.written_weights[w];
    const Tensor& src = weights.tensors[m.value_slot[id]];
    Tensor& copy = written_weight_copies[w];
    if (!copy.defined()) copy = make_tensor(src.sizes(), src.dtype(), Device(DeviceType::CPU));
    copy_into(copy, src);
    where[id] = &copy;
  }
  run_steps();
  if (mode == OutputMode::Into) {
    for (size_t k = 0; k < into->size(); ++k) {
      const Tensor& t = *where[m.output_ids[k]];
      SY_CHECK((*into)[k].sizes() == t.sizes(), ValueError,
               "aot::Model::run_into: output buffer {} has shape {}, but output {} has shape {}", k,
               to_string((*into)[k].sizes()), k, to_string(t.sizes()));
    }
  }
  finish_outputs(mode, copies, into);
  finish.completed = true;
  if (mode == OutputMode::Borrow) {
    *borrowed = BorrowedOutputs(this, runs, outputs.data(), outputs.size());
  }
}

}  // namespace sy::aot::detail
