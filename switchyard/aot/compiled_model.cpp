#include "switchyard/aot/compiled_model.h"

#include <algorithm>
#include <array>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "switchyard/aot/execution_state.h"
#include "switchyard/aot/run_guard.h"
#include "switchyard/core/retire.h"
#include "switchyard/trace/common_signatures.h"

namespace sy::aot::detail {
namespace {

std::atomic<uint64_t> g_next_model_id{1};

// Ops whose results differ from run to run (or are uninitialised memory),
// which folding must leave to every run (as trace/passes.cpp's fold_constants).
bool is_nondeterministic(const FunctionSchema& s) {
  static constexpr std::array<std::string_view, 8> kNames = {
      "rand", "randn", "rand_like", "randn_like", "empty", "empty_like", "randint", "normal"};
  return std::find(kNames.begin(), kNames.end(), s.name()) != kNames.end();
}

// Whether the op's outputs may share memory with an argument: any alias
// annotation on an argument (a view, an in-place write or out=).
bool may_alias_arguments(const FunctionSchema& s) {
  for (const Argument& a : s.arguments()) {
    if (a.alias) return true;
  }
  return false;
}

// An argument of a step, as the canonical C++ parameter type P of its kernel.
template <typename P>
decltype(auto) fetch(const Operand& o, ExecutionState& s) {
  using C = sy::detail::canonical_arg_t<P>;
  if constexpr (std::is_same_v<C, Tensor>) {
    return *s.where[o.id];
  } else {
    return sy::detail::ArgTraits<C>::unbox(o.kind == Operand::Kind::Literal ? o.literal
                                                                            : s.non_tensor[o.id]);
  }
}

// Calls k's unboxed kernel with the step's operands; an out= kernel (Out) gets
// the planned buffer `out` as its last parameter.
template <bool Out, typename... Args>
Tensor call_unboxed(const StepKernel& k, const Operand* args, ExecutionState& s,
                    const Tensor* out) {
  using Fn = Tensor (*)(OperatorKernel*, DispatchKeySet, sy::detail::param_t<Args>...);
  const auto fn = reinterpret_cast<Fn>(k.kernel.unboxed);
  constexpr size_t n = sizeof...(Args);
  return [&]<size_t... I>(std::index_sequence<I...>)->Tensor {
    auto arg = [&]<size_t J, typename P>() -> decltype(auto) {
      if constexpr (Out && J + 1 == n) {
        return static_cast<const Tensor&>(*out);
      } else {
        return fetch<P>(args[J], s);
      }
    };
    return fn(k.kernel.functor, k.keys, arg.template operator()<I, Args>()...);
  }
  (std::index_sequence_for<Args...>{});
}

// Every C++ parameter type of the signature is one fetch can produce.
template <typename... Args>
constexpr bool fetchable() {
  return (!std::is_same_v<sy::detail::canonical_arg_t<Args>, ArrayRef<Tensor>> && ...);
}

// The kernel a call of `op` with tensors of `devices` (the traced ones)
// reaches with no thread keys, resolved once from the op's current table.
StepKernel resolve(const OperatorHandle& op, const std::vector<Device>& devices) {
  DispatchKeySet keys;
  for (const Device& d : devices) keys = keys | make_tensor({0}, kFloat32, d).key_set();
  OperatorHandle::ResolvedKernel r = op.resolve(keys);
  StepKernel k;
  k.op = op;
  k.schema = std::move(r.schema);
  k.kernel = r.kernel;
  k.keys = r.keys;
  k.keep_alive = std::move(r.keep_alive);
  k.overrides_earlier = r.overrides_earlier;
  return k;
}

// The unboxed caller for `k` when its op has a common signature (for an out=
// kernel, one whose last parameter is the out tensor).
void plan_unboxed(StepKernel& k, bool is_out) {
  if (k.kernel.unboxed == nullptr) return;
  sy::detail::with_common_signature(*k.schema, [&]<typename... Args>() {
    if constexpr (fetchable<Args...>()) {
      using Last = std::tuple_element_t<sizeof...(Args) - 1, std::tuple<Args...>>;
      if constexpr (std::is_same_v<sy::detail::canonical_arg_t<Last>, Tensor>) {
        if (is_out) k.unboxed = &call_unboxed<true, Args...>;
      }
      if (!is_out) k.unboxed = &call_unboxed<false, Args...>;
    }
  });
}

// The op's out= overload: same arguments, then a keyword-only `Tensor(a!) out`,
// returning it.
std::optional<OperatorHandle> find_out_variant(const FunctionSchema& s,
                                               const std::vector<std::string>& op_names) {
  const std::string base = s.qualified_name();
  auto first = std::lower_bound(op_names.begin(), op_names.end(), base);
  for (auto it = first; it != op_names.end() && it->rfind(base, 0) == 0; ++it) {
    if (it->size() != base.size() && (*it)[base.size()] != '.') continue;
    std::optional<OperatorHandle> h = Dispatcher::singleton().find_op_or_null(*it);
    if (!h) continue;
    const FunctionSchema o = h->schema();
    const auto& args = o.arguments();
    if (args.size() != s.arguments().size() + 1 || o.returns().size() != 1) continue;
    if (!std::equal(s.arguments().begin(), s.arguments().end(), args.begin())) continue;
    const Argument& out = args.back();
    if (out.type.is_tensor() && out.kwarg_only && out.alias && out.alias->is_write &&
        o.returns()[0].alias == out.alias) {
      return h;
    }
  }
  return std::nullopt;
}

bool is_functional_single_tensor(const FunctionSchema& s) {
  if (may_alias_arguments(s) || s.returns().size() != 1) return false;
  return s.returns()[0].type.is_tensor() && !s.returns()[0].alias;
}

}  // namespace

CompiledModel::CompiledModel(const Graph& g, const CompileOptions& options)
    : id(g_next_model_id.fetch_add(1)) {
  g.check();
  // ---- values: dense ids ---------------------------------------------------------------
  std::unordered_map<const Value*, uint32_t> ids;
  auto id_of = [&](const Value* v) { return ids.at(v); };
  std::vector<const Value*> by_id;
  auto add_value = [&](const Value* v, ValueKind kind) {
    const uint32_t i = static_cast<uint32_t>(by_id.size());
    ids.emplace(v, i);
    by_id.push_back(v);
    value_kind.push_back(kind);
    value_slot.push_back(i);
    value_is_tensor.push_back(v->is_tensor());
    value_dtype.push_back(v->is_tensor() ? v->dtype() : kFloat32);
    traced_sizes.emplace_back(v->is_tensor() ? v->sizes() : IntArrayRef());
    return i;
  };
  for (const Value* v : g.inputs()) {
    SY_CHECK(v->device().is_cpu(), ValueError,
             "aot::Model: input {} was traced on {}; models run on cpu tensors", input_ids.size(),
             v->device().str());
    const uint32_t i = add_value(v, ValueKind::Input);
    value_slot[i] = static_cast<uint32_t>(input_ids.size());
    input_ids.push_back(i);
    inputs.push_back({v->dtype(), DimVector(v->sizes()), false});
  }
  std::vector<Tensor> initial_weights;
  for (const Value* v : g.values()) {
    if (v->kind() != Value::Kind::Constant) continue;
    const uint32_t i = add_value(v, ValueKind::Weight);
    value_slot[i] = static_cast<uint32_t>(initial_weights.size());
    initial_weights.push_back(v->constant().to_tensor());
    weight_specs.push_back({v->dtype(), DimVector(v->sizes()), false});
  }
  num_weights = initial_weights.size();
  num_weight_slots = num_weights;

  // ---- folding: nodes computed from weights alone ----------------------------------------
  // Values some node views or writes, or that leave the graph, stay per run:
  // a weight is one tensor shared by every run and every thread.
  std::unordered_map<const Value*, bool> pinned;
  for (const Value* v : g.outputs()) pinned[v] = true;
  for (const Node* n : g.nodes()) {
    const auto& params = n->schema().arguments();
    for (size_t a = 0; a < n->args().size(); ++a) {
      if (!params[a].alias) continue;
      if (n->args()[a].value) pinned[n->args()[a].value] = true;
      for (const Value* v : n->args()[a].list) pinned[v] = true;
    }
  }
  auto is_weight = [&](const Value* v) {
    auto it = ids.find(v);
    return it != ids.end() && value_kind[it->second] == ValueKind::Weight;
  };
  auto operand_of = [&](const NodeArg& a) {
    Operand o;
    switch (a.kind) {
      case NodeArg::Kind::Value:
        o.kind = a.value->is_tensor() ? Operand::Kind::Tensor : Operand::Kind::NonTensor;
        o.id = id_of(a.value);
        break;
      case NodeArg::Kind::ValueList:
        o.kind = Operand::Kind::TensorList;
        for (const Value* v : a.list) o.list.push_back(id_of(v));
        break;
      case NodeArg::Kind::Constant:
        o.kind = Operand::Kind::Literal;
        o.literal = a.constant;
        break;
    }
    return o;
  };

  const std::vector<std::string> op_names = Dispatcher::singleton().op_names();
  std::vector<size_t> last_use;
  for (size_t node_index = 0; node_index < g.nodes().size(); ++node_index) {
    const Node* n = g.nodes()[node_index];
    bool foldable = !n->writes_arguments() && !is_nondeterministic(n->schema());
    for (const NodeArg& a : n->args()) {
      if (a.kind == NodeArg::Kind::Value) foldable = foldable && is_weight(a.value);
      for (const Value* v : a.list) foldable = foldable && is_weight(v);
    }
    for (const NodeOutput& o : n->outputs()) {
      if (o.value) foldable = foldable && o.value->is_tensor() && !pinned.count(o.value);
      for (const Value* v : o.list) foldable = foldable && !pinned.count(v);
    }
    if (foldable) {
      FoldStep f;
      f.op = n->op();
      for (const NodeArg& a : n->args()) {
        Operand o = operand_of(a);
        if (o.kind == Operand::Kind::Tensor) o.id = value_slot[o.id];
        for (uint32_t& i : o.list) i = value_slot[i];
        f.args.push_back(std::move(o));
      }
      auto add_folded = [&](const Value* v) {
        const uint32_t i = add_value(v, ValueKind::Weight);
        value_slot[i] = static_cast<uint32_t>(num_weight_slots++);
        f.results.push_back(value_slot[i]);
      };
      for (const NodeOutput& o : n->outputs()) {
        if (o.value) add_folded(o.value);
        for (const Value* v : o.list) add_folded(v);
      }
      fold_steps.push_back(std::move(f));
      continue;
    }

    // ---- a step -----------------------------------------------------------------------
    Step step;
    step.node_index = node_index;
    std::vector<Device> devices;
    for (const NodeArg& a : n->args()) {
      step.args.push_back(operand_of(a));
      if (a.kind == NodeArg::Kind::Value && a.value->is_tensor())
        devices.push_back(a.value->device());
      for (const Value* v : a.list) devices.push_back(v->device());
    }
    step.functional = resolve(n->op(), devices);
    SY_CHECK(step.functional.schema && *step.functional.schema == n->schema(), ValueError,
             "aot::Model: node {} calls {}, whose schema changed since the graph was loaded",
             node_index, n->schema().full_name());
    plan_unboxed(step.functional, /*is_out=*/false);
    // A kernel registered over the library's keeps every call: its out=
    // overload (the library's) would compute something else.
    if (is_functional_single_tensor(n->schema()) && !step.functional.overrides_earlier) {
      if (std::optional<OperatorHandle> out = find_out_variant(n->schema(), op_names)) {
        step.out_variant = resolve(*out, devices);
        plan_unboxed(*step.out_variant, /*is_out=*/true);
      }
    }
    for (const NodeOutput& o : n->outputs()) {
      Step::Result r;
      r.is_list = o.is_list;
      if (o.value) {
        r.is_tensor = o.value->is_tensor();
        r.ids.push_back(add_value(o.value, ValueKind::Step));
      }
      for (const Value* v : o.list) r.ids.push_back(add_value(v, ValueKind::Step));
      step.results.push_back(std::move(r));
    }
    steps.push_back(std::move(step));
  }
  num_values = by_id.size();

  // ---- aliasing and lifetimes ------------------------------------------------------------
  alias_root.resize(num_values);
  for (uint32_t v = 0; v < num_values; ++v) alias_root[v] = v;
  last_use.assign(num_values, 0);
  const size_t end = steps.size();
  for (size_t s = 0; s < steps.size(); ++s) {
    const Step& step = steps[s];
    const FunctionSchema& schema = *step.functional.schema;
    std::optional<uint32_t> aliased;
    for (size_t a = 0; a < step.args.size(); ++a) {
      const Operand& o = step.args[a];
      if (o.kind == Operand::Kind::Tensor || o.kind == Operand::Kind::NonTensor) last_use[o.id] = s;
      for (uint32_t i : o.list) last_use[i] = s;
      if (!schema.arguments()[a].alias) continue;
      if (o.kind == Operand::Kind::Tensor && !aliased) aliased = alias_root[o.id];
      if (o.kind == Operand::Kind::TensorList && !o.list.empty() && !aliased) {
        aliased = alias_root[o.list[0]];
      }
      if (schema.arguments()[a].alias->is_write) {
        auto note_write = [&](uint32_t i) {
          const uint32_t root = alias_root[i];
          if (value_kind[root] == ValueKind::Weight) {
            SY_CHECK(value_slot[root] < num_weights, ValueError,
                     "aot::Model: node {} ({}) writes into a value folded from weights",
                     step.node_index, schema.full_name());
            if (std::find(written_weights.begin(), written_weights.end(), root) ==
                written_weights.end()) {
              written_weights.push_back(root);
            }
          }
        };
        if (o.kind == Operand::Kind::Tensor) note_write(o.id);
        for (uint32_t i : o.list) note_write(i);
      }
    }
    if (aliased) {
      for (const Step::Result& r : step.results) {
        for (uint32_t i : r.ids) alias_root[i] = *aliased;
      }
    }
  }
  for (const Value* v : g.outputs()) last_use[id_of(v)] = end;
  group_last_use.assign(num_values, 0);
  for (uint32_t v = 0; v < num_values; ++v) {
    group_last_use[alias_root[v]] = std::max(group_last_use[alias_root[v]], last_use[v]);
  }
  plannable.assign(num_values, false);
  // A step value's tensor is released after the step that reads it last (or
  // its own, when nothing reads it), as eager code would free it; outputs are
  // kept to the end.
  for (size_t s = 0; s < steps.size(); ++s) {
    for (const Step::Result& r : steps[s].results) {
      for (uint32_t i : r.ids) {
        const size_t last = std::max(last_use[i], s);
        if (last != end) steps[last].release_after.push_back(i);
      }
    }
    Step& step = steps[s];
    if (step.out_variant && step.results.size() == 1 && !step.results[0].is_list) {
      const uint32_t i = step.results[0].ids[0];
      plannable[i] = alias_root[i] == i;
    }
  }
  // ---- outputs ----------------------------------------------------------------------------
  for (size_t k = 0; k < g.outputs().size(); ++k) {
    const uint32_t i = id_of(g.outputs()[k]);
    OutputInfo info;
    info.dtype = value_dtype[i];
    info.sizes = traced_sizes[i];
    for (size_t j = 0; j < output_ids.size(); ++j) {
      if (output_ids[j] == i) {
        info.same_as_output = static_cast<int64_t>(j);
        break;
      }
    }
    const uint32_t root = alias_root[i];
    if (value_kind[root] == ValueKind::Input) info.aliases_input = value_slot[root];
    info.aliases_weight = value_kind[root] == ValueKind::Weight;
    outputs.push_back(info);
    output_ids.push_back(i);
  }

  for (uint32_t v = 0; v < num_values; ++v) {
    if (value_kind[v] == ValueKind::Weight) weight_ids.push_back(v);
    if (value_kind[v] == ValueKind::Step && value_is_tensor[v]) step_tensor_ids.push_back(v);
  }
  for (size_t k = 0; k < output_ids.size(); ++k) {
    const uint32_t v = output_ids[k];
    output_is_fresh.push_back(value_kind[v] == ValueKind::Step && alias_root[v] == v &&
                              outputs[k].same_as_output < 0);
  }

  // ---- elementwise fusion ------------------------------------------------------------------
  fused_at.assign(steps.size(), -1);
  if (options.fuse_elementwise) {
    fused = find_fused_groups(*this);
    for (size_t k = 0; k < fused.size(); ++k) fused_at[fused[k].first] = static_cast<int32_t>(k);
  }

  // ---- weights, then the batch rule (needs them for shape inference) -----------------------
  snapshot.store(make_snapshot(std::move(initial_weights)).release(), std::memory_order_release);
  if (!inputs.empty() && !inputs[0].sizes.empty()) {
    traced_batch = inputs[0].sizes[0];
    batch_input.assign(inputs.size(), false);
    std::vector<DimVector> traced, other;
    for (size_t k = 0; k < inputs.size(); ++k) {
      batch_input[k] = !inputs[k].sizes.empty() && inputs[k].sizes[0] == traced_batch;
      traced.push_back(inputs[k].sizes);
      other.push_back(inputs[k].sizes);
      if (batch_input[k]) other.back()[0] = traced_batch + 1;
    }
    const WeightSnapshot& w = *snapshot.load(std::memory_order_acquire);
    const InferredShapes at_traced = infer_shapes(*this, w, traced);
    const InferredShapes at_other = infer_shapes(*this, w, other);
    batch_varies = true;
    for (size_t s = 0; s < steps.size(); ++s) {
      if (at_traced.step_ok[s] && !at_other.step_ok[s]) batch_varies = false;
    }
    for (size_t k = 0; k < inputs.size(); ++k)
      inputs[k].first_dim_varies = batch_varies && batch_input[k];
  }
}

CompiledModel::~CompiledModel() { delete snapshot.load(std::memory_order_acquire); }

std::unique_ptr<const WeightSnapshot> CompiledModel::make_snapshot(
    std::vector<Tensor> weights) const {
  SY_CHECK(weights.size() == num_weights, ValueError,
           "aot::Model: the model has {} weights, got {}", num_weights, weights.size());
  for (size_t i = 0; i < weights.size(); ++i) {
    const TensorSpec& spec = weight_specs[i];
    SY_CHECK(weights[i].defined(), ValueError, "aot::Model: weight {} is undefined", i);
    SY_CHECK(weights[i].dtype() == spec.dtype, TypeError,
             "aot::Model: weight {} has dtype {}, the model's is {}", i,
             to_string(weights[i].dtype()), to_string(spec.dtype));
    SY_CHECK(weights[i].sizes() == IntArrayRef(spec.sizes), ValueError,
             "aot::Model: weight {} has shape {}, the model's is {}", i,
             to_string(weights[i].sizes()), to_string(IntArrayRef(spec.sizes)));
    SY_CHECK(weights[i].device().is_cpu(), ValueError,
             "aot::Model: weight {} is on {}; models run on cpu tensors", i,
             weights[i].device().str());
  }
  auto s = std::make_unique<WeightSnapshot>();
  s->version = next_snapshot_version.fetch_add(1);
  s->tensors = std::move(weights);
  s->tensors.resize(num_weight_slots);
  RunGuard guard;
  for (const FoldStep& f : fold_steps) {
    Stack stack;
    for (const Operand& o : f.args) {
      switch (o.kind) {
        case Operand::Kind::Tensor: stack.emplace_back(s->tensors[o.id]); break;
        case Operand::Kind::TensorList: {
          std::vector<Tensor> ts;
          for (uint32_t i : o.list) ts.push_back(s->tensors[i]);
          stack.emplace_back(std::move(ts));
          break;
        }
        case Operand::Kind::Literal: stack.push_back(o.literal); break;
        case Operand::Kind::NonTensor: break;  // folded nodes take no non-tensor values
      }
    }
    f.op.call_boxed(stack);
    size_t k = 0;
    for (const IValue& r : stack) {
      if (r.is_tensor_list()) {
        for (const Tensor& t : r.to_tensor_list()) {
          SY_CHECK(k < f.results.size(), ValueError,
                   "aot::Model: {} returned more tensors than traced", f.op.name());
          s->tensors[f.results[k++]] = t;
        }
      } else {
        SY_CHECK(k < f.results.size(), ValueError,
                 "aot::Model: {} returned more values than traced", f.op.name());
        s->tensors[f.results[k++]] = r.to_tensor();
      }
    }
    SY_CHECK(k == f.results.size(), ValueError,
             "aot::Model: {} returned {} tensors, the graph expects {}", f.op.name(), k,
             f.results.size());
  }
  return s;
}

void CompiledModel::swap_weights(std::vector<Tensor> weights) {
  // The model keeps copies: a caller writing into its tensors later must not
  // change a snapshot runs may be reading.
  {
    RunGuard guard;
    for (Tensor& w : weights) {
      if (w.defined()) w = w.clone();
    }
  }
  std::unique_ptr<const WeightSnapshot> next = make_snapshot(std::move(weights));
  std::lock_guard<std::mutex> lock(swap_mu);
  const WeightSnapshot* old = snapshot.exchange(next.release(), std::memory_order_acq_rel);
  sy::detail::retire([old] { delete old; });
  sy::detail::collect_retired();
}

ExecutionState* CompiledModel::acquire_state() {
  std::lock_guard<std::mutex> lock(states_mu);
  if (!free_states.empty()) {
    ExecutionState* s = free_states.back();
    free_states.pop_back();
    return s;
  }
  states.push_back(std::make_unique<ExecutionState>(*this));
  return states.back().get();
}

void CompiledModel::release_state(ExecutionState* s) {
  std::lock_guard<std::mutex> lock(states_mu);
  free_states.push_back(s);
}

}  // namespace sy::aot::detail
