#include "switchyard/trace/graph_runner.h"

#include <algorithm>
#include <memory>
#include <mutex>

#include "switchyard/core/error.h"
#include "switchyard/core/retire.h"
#include "switchyard/trace/common_signatures.h"

namespace sy {

// An argument of a step, as the C++ parameter type P of its op.
template <typename P>
decltype(auto) GraphRunner::unbox_arg(const Arg& a, const IValue* env) {
  using C = detail::canonical_arg_t<P>;
  if constexpr (std::is_same_v<C, Tensor>) {
    return env[a.slot].to_tensor_ref();
  } else {
    return detail::ArgTraits<C>::unbox(a.constant);
  }
}

template <typename... Args>
Tensor GraphRunner::call_unboxed(const void* typed, const Arg* args, const IValue* env) {
  const auto& op = *static_cast<const TypedOperatorHandle<Tensor(Args...)>*>(typed);
  return [&]<size_t... I>(std::index_sequence<I...>) {
    return op.call(unbox_arg<Args>(args[I], env)...);
  }
  (std::index_sequence_for<Args...>{});
}

void GraphRunner::plan_unboxed(Step& step) {
  detail::with_common_signature(*step.schema, [&]<typename... Args>() {
    // Tensor parameters must come from slots and the others from the plan
    // (hand-built graphs may differ); Tensor[] arguments are left boxed.
    bool fits = true;
    size_t i = 0;
    ((fits = fits && !std::is_same_v<detail::canonical_arg_t<Args>, ArrayRef<Tensor>> &&
             (step.args[i++].kind == NodeArg::Kind::Value) ==
                 std::is_same_v<detail::canonical_arg_t<Args>, Tensor>),
     ...);
    if (!fits) return;
    step.typed = std::make_shared<const TypedOperatorHandle<Tensor(Args...)>>(
        step.op.typed<Tensor(Args...)>());
    step.unboxed = &call_unboxed<Args...>;
  });
}

GraphRunner::GraphRunner(const Graph& g) {
  g.check();
  num_slots_ = static_cast<size_t>(g.id_bound());
  for (const Value* v : g.values()) {
    if (v->kind() == Value::Kind::Constant) constants_.emplace_back(v->id(), v->constant());
  }
  for (const Value* v : g.inputs()) {
    input_slots_.push_back(v->id());
    input_types_.push_back({v->dtype(), static_cast<int64_t>(v->sizes().size())});
  }
  for (const Value* v : g.outputs()) output_slots_.push_back(v->id());
  for (const Node* n : g.nodes()) {
    Step step(n->op(), n->schema_ptr());
    // check() has compared the schema with the op's current one.
    step.generation.store(n->op().definition_generation(), std::memory_order_relaxed);
    for (const NodeArg& a : n->args()) {
      Arg arg{a.kind, -1, false, {}, {}};
      if (a.value) arg.slot = a.value->id();
      for (const Value* v : a.list) arg.list.push_back(v->id());
      arg.constant = a.constant;
      step.args.push_back(std::move(arg));
    }
    for (const NodeOutput& o : n->outputs()) {
      Out out;
      out.is_list = o.is_list;
      if (o.value) out.slot = o.value->id();
      for (const Value* v : o.list) out.list.push_back(v->id());
      step.outs.push_back(std::move(out));
    }
    plan_unboxed(step);
    max_stack_ = std::max({max_stack_, step.args.size(), step.outs.size()});
    steps_.push_back(std::move(step));
  }
  // Mark each value's last read, so replay hands it over instead of copying
  // (and intermediates are freed as soon as nothing needs them, as in eager).
  std::vector<bool> read_later(num_slots_, false);
  for (int64_t s : output_slots_) read_later[s] = true;
  for (const auto& [slot, value] : constants_) read_later[slot] = true;  // reused every run
  for (size_t i = steps_.size(); i-- > 0;) {
    for (size_t a = steps_[i].args.size(); a-- > 0;) {
      Arg& arg = steps_[i].args[a];
      if (arg.kind != NodeArg::Kind::Value) continue;
      arg.last_use = !read_later[arg.slot];
      read_later[arg.slot] = true;
    }
    for (const Arg& arg : steps_[i].args) {
      for (int64_t s : arg.list) read_later[s] = true;
    }
  }
}

void GraphRunner::check_op_unchanged(const Step& step, size_t index) const {
  const uint32_t now = step.op.definition_generation();
  SY_CHECK(step.op.is_defined(), ValueError,
           "Graph::run: node {} calls {}, which is no longer registered (its library was "
           "removed); re-register it or trace again",
           index, step.schema->full_name());
  SY_CHECK(step.op.schema() == *step.schema, ValueError,
           "Graph::run: node {} calls {}, which was redefined after the graph was recorded: "
           "recorded as `{}`, now `{}`. Trace again with the op as it is now",
           index, step.schema->full_name(), step.schema->to_string(), step.op.schema().to_string());
  step.generation.store(now, std::memory_order_relaxed);  // same schema: later runs skip this
}

void GraphRunner::check_inputs(const std::vector<Tensor>& inputs) const {
  SY_CHECK(inputs.size() == input_slots_.size(), ValueError,
           "Graph::run: the graph takes {} inputs, got {}", input_slots_.size(), inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const InputType& want = input_types_[i];
    SY_CHECK(inputs[i].defined(), ValueError, "Graph::run: input {} is undefined", i);
    SY_CHECK(inputs[i].dtype() == want.dtype, TypeError,
             "Graph::run: input {} has dtype {}, but the graph was traced with {}", i,
             sy::to_string(inputs[i].dtype()), sy::to_string(want.dtype));
    SY_CHECK(inputs[i].dim() == want.dim, ValueError,
             "Graph::run: input {} has {} dimensions (shape {}), but the graph was traced with "
             "{}",
             i, inputs[i].dim(), sy::to_string(inputs[i].sizes()), want.dim);
  }
}

std::vector<Tensor> GraphRunner::run(const std::vector<Tensor>& inputs) const {
  check_inputs(inputs);
  // One scope for the run: each step's definition_generation() nests in it cheaply.
  detail::CallScope scope;
  // The value slots: one buffer per thread kept between runs (a nested run
  // finds it taken and makes its own).
  thread_local std::vector<IValue> spare_env;
  std::vector<IValue> env = std::move(spare_env);
  env.resize(num_slots_);
  struct GiveBack {
    std::vector<IValue>& env;
    ~GiveBack() {
      env.clear();
      if (spare_env.capacity() < env.capacity()) spare_env = std::move(env);
    }
  } give_back{env};
  for (const auto& [slot, value] : constants_) env[slot] = value;
  for (size_t i = 0; i < inputs.size(); ++i) env[input_slots_[i]] = IValue(inputs[i]);
  Stack stack;
  stack.reserve(max_stack_);
  for (size_t index = 0; index < steps_.size(); ++index) {
    const Step& step = steps_[index];
    if (SY_UNLIKELY(step.op.definition_generation() !=
                    step.generation.load(std::memory_order_relaxed))) {
      check_op_unchanged(step, index);
    }
    if (step.unboxed != nullptr) {
      Tensor result = step.unboxed(step.typed.get(), step.args.data(), env.data());
      // Values read for the last time are freed as early as the boxed path frees
      // them. Moving a value out and destroying it, and constructing the result in
      // its (empty) slot, cost one release each; move-assigning (a swap through
      // temporaries) cost three.
      for (const Arg& a : step.args) {
        if (a.last_use) IValue dead(std::move(env[a.slot]));
      }
      IValue& out = env[step.outs[0].slot];
      out.~IValue();
      new (&out) IValue(std::move(result));
      continue;
    }
    stack.clear();
    for (const Arg& a : step.args) {
      switch (a.kind) {
        case NodeArg::Kind::Value:
          if (a.last_use) {
            stack.push_back(std::move(env[a.slot]));
          } else {
            stack.push_back(env[a.slot]);
          }
          break;
        case NodeArg::Kind::ValueList: {
          std::vector<Tensor> ts;
          ts.reserve(a.list.size());
          for (int64_t s : a.list) ts.push_back(env[s].to_tensor());
          stack.emplace_back(std::move(ts));
          break;
        }
        case NodeArg::Kind::Constant: stack.push_back(a.constant); break;
      }
    }
    step.op.call_boxed(stack);
    SY_CHECK(stack.size() == step.outs.size(), ValueError,
             "Graph::run: {} returned {} values, the graph expects {}", step.op.name(),
             stack.size(), step.outs.size());
    for (size_t i = 0; i < step.outs.size(); ++i) {
      const Out& o = step.outs[i];
      if (!o.is_list) {
        env[o.slot] = std::move(stack[i]);
        continue;
      }
      const auto& ts = stack[i].to_tensor_list();
      SY_CHECK(ts.size() == o.list.size(), ValueError,
               "Graph::run: {} returned {} tensors; the graph was traced when it returned {} "
               "(the list's length depends on the inputs' shapes)",
               step.op.name(), ts.size(), o.list.size());
      for (size_t j = 0; j < ts.size(); ++j) env[o.list[j]] = IValue(ts[j]);
    }
  }
  std::vector<Tensor> out;
  out.reserve(output_slots_.size());
  for (int64_t s : output_slots_) out.push_back(env[s].to_tensor());
  return out;
}

// ---- Graph's own runner -----------------------------------------------------------------

std::shared_ptr<const GraphRunner> Graph::runner() const {
  std::lock_guard<std::mutex> lock(*runner_mu_);
  if (runner_ && runner_version_ == version_) return runner_;
  runner_ = std::make_shared<const GraphRunner>(*this);
  runner_version_ = version_;
  return runner_;
}

std::vector<Tensor> Graph::run(const std::vector<Tensor>& inputs) const {
  return runner()->run(inputs);
}

}  // namespace sy
