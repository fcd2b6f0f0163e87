#include "switchyard/trace/graph.h"

#include <algorithm>
#include <array>
#include <string_view>
#include <unordered_set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "switchyard/core/error.h"
#include "switchyard/core/tracer_mode.h"

namespace sy {
namespace {

// Python's spelling of a float: always with a '.', or inf/nan.
std::string float_text(double d) {
  std::string s = fmt::format("{}", d);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

template <typename T, typename F>
std::string list_text(const std::vector<T>& v, F each) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + each(v[i]);
  return out + "]";
}

std::string constant_text(const IValue& v) {
  switch (v.tag()) {
    case IValue::Tag::None: return "None";
    case IValue::Tag::Bool: return v.to_bool() ? "True" : "False";
    case IValue::Tag::Int: return std::to_string(v.to_int());
    case IValue::Tag::Double: return float_text(v.to_double());
    case IValue::Tag::String: return fmt::format("'{}'", v.to_string_ref());
    case IValue::Tag::IntList:
      return list_text(v.to_int_list(), [](int64_t i) { return std::to_string(i); });
    case IValue::Tag::DoubleList: return list_text(v.to_double_list(), float_text);
    case IValue::Tag::BoolList:
      return list_text(v.to_bool_list(),
                       [](bool b) { return std::string(b ? "True" : "False"); });
    case IValue::Tag::ScalarType: return std::string(to_string(v.to_scalar_type()));
    case IValue::Tag::Device: return v.to_device().str();
    case IValue::Tag::Tensor: return v.to_tensor().to_string();
    case IValue::Tag::TensorList: return "[<tensors>]";
  }
  return "?";
}

std::string non_tensor_type(const IValue& v) {
  switch (v.tag()) {
    case IValue::Tag::None: return "None";
    case IValue::Tag::Bool: return "bool";
    case IValue::Tag::Int: return "int";
    case IValue::Tag::Double: return "float";
    case IValue::Tag::String: return "str";
    case IValue::Tag::IntList: return "int[]";
    case IValue::Tag::DoubleList: return "float[]";
    case IValue::Tag::BoolList: return "bool[]";
    case IValue::Tag::ScalarType: return "ScalarType";
    case IValue::Tag::Device: return "Device";
    default: return "Tensor";
  }
}

std::string ref(const Value* v) { return fmt::format("%{}", v->id()); }

// Ops whose results differ from run to run (or are uninitialised memory), which
// constant folding must leave alone.
bool is_nondeterministic(const FunctionSchema& s) {
  static constexpr std::array<std::string_view, 8> kNames = {
      "rand", "randn", "rand_like", "randn_like", "empty", "empty_like", "randint", "normal"};
  return std::find(kNames.begin(), kNames.end(), s.name()) != kNames.end();
}

bool argument_is_aliased(const FunctionSchema& s, size_t i) {
  return i < s.arguments().size() && s.arguments()[i].alias.has_value();
}

}  // namespace

// ---- Value and Node ---------------------------------------------------------------------

std::string Value::type_string() const {
  if (!is_tensor_) return non_tensor_type_;
  std::string s = fmt::format("{}{}", to_string(dtype_), sy::to_string(IntArrayRef(sizes_)));
  if (!device_.is_cpu()) s += fmt::format(", {}", device_.str());
  return s;
}

bool Node::writes_arguments() const {
  for (const Argument& a : schema_->arguments()) {
    if (a.alias && a.alias->is_write) return true;
  }
  return false;
}

// ---- Graph: building --------------------------------------------------------------------

struct Graph::Plan {
  struct Arg {
    NodeArg::Kind kind;
    int64_t slot = -1;
    bool last_use = false;  // the value is not read again: move it out of env
    std::vector<int64_t> list;
    IValue constant;
  };
  struct Out {
    bool is_list = false;
    int64_t slot = -1;
    std::vector<int64_t> list;
  };
  struct Step {
    OperatorHandle op;
    std::vector<Arg> args;
    std::vector<Out> outs;
  };
  struct InputType {
    ScalarType dtype;
    int64_t dim;
  };
  std::vector<Step> steps;
  std::vector<std::pair<int64_t, IValue>> constants;
  std::vector<int64_t> input_slots;
  std::vector<InputType> input_types;
  std::vector<int64_t> output_slots;
  size_t num_slots = 0;
  size_t max_stack = 0;
};

Graph::Graph() : plan_mu_(std::make_unique<std::mutex>()) {}
Graph::~Graph() = default;
Graph::Graph(Graph&&) noexcept = default;
Graph& Graph::operator=(Graph&&) noexcept = default;

std::vector<const Node*> Graph::nodes() const {
  std::vector<const Node*> out;
  out.reserve(nodes_.size());
  for (const Node* n : nodes_) out.push_back(n);
  return out;
}

Value* Graph::new_value(Value::Kind kind) {
  Value* v = value_store_.make_n(1);
  v->id_ = next_id_++;
  v->kind_ = kind;
  values_.push_back(v);
  return v;
}

void Graph::set_type(Value* v, const Tensor& t) {
  v->sizes_ = DimVector(t.sizes());
  v->dtype_ = t.dtype();
  v->device_ = t.device();
}

Value* Graph::add_input(const Tensor& example) {
  SY_CHECK(example.defined(), ValueError, "Graph::add_input: the example input is undefined");
  Value* v = new_value(Value::Kind::Input);
  set_type(v, example);
  inputs_.push_back(v);
  changed();
  return v;
}

Value* Graph::add_constant(const Tensor& t) {
  Value* v = new_value(Value::Kind::Constant);
  set_type(v, t);
  v->constant_ = IValue(t);
  changed();
  return v;
}

Node* Graph::add_node(const OperatorHandle& op, std::shared_ptr<const FunctionSchema> schema,
                      std::vector<NodeArg>& args, ArrayRef<IValue> results) {
  Node* node = node_store_.make_n(1, op);
  node->schema_ = std::move(schema);
  node->args_ = {arg_store_.make_n(args.size()), args.size()};
  for (size_t i = 0; i < args.size(); ++i) node->args_[i] = std::move(args[i]);
  node->outputs_ = {output_store_.make_n(results.size()), results.size()};
  for (size_t r_i = 0; r_i < results.size(); ++r_i) {
    const IValue& r = results[r_i];
    NodeOutput& out = node->outputs_[r_i];
    auto make = [&](const IValue& x) {
      Value* v = new_value(Value::Kind::Output);
      v->producer_ = node;
      if (x.is_tensor()) {
        set_type(v, x.to_tensor());
      } else {
        v->is_tensor_ = false;
        v->non_tensor_type_ = non_tensor_type(x);
      }
      return v;
    };
    if (r.is_tensor_list()) {
      out.is_list = true;
      for (const Tensor& t : r.to_tensor_list()) out.list.push_back(make(IValue(t)));
    } else {
      out.value = make(r);
    }
  }
  nodes_.push_back(node);
  changed();
  return node;
}

void Graph::add_output(Value* v) {
  outputs_.push_back(v);
  changed();
}

void Graph::add_warning(std::string w) { warnings_.push_back(std::move(w)); }

// Building and passes never run concurrently with run() (see the header), so a
// plain counter is enough; plan() rebuilds when it moved.
void Graph::changed() { ++version_; }

// ---- Graph: reading ---------------------------------------------------------------------

std::string Graph::to_string() const {
  std::string out = "graph(";
  for (size_t i = 0; i < inputs_.size(); ++i) {
    out += fmt::format("{}{} : {}", i ? ",\n      " : "", ref(inputs_[i]),
                       inputs_[i]->type_string());
  }
  out += "):\n";
  // Constants first, in the order nodes first use them.
  std::unordered_set<const Value*> printed;
  auto print_constant = [&](const Value* v) {
    if (v->kind() != Value::Kind::Constant || !printed.insert(v).second) return;
    out += fmt::format("  {} : {} = constant({})\n", ref(v), v->type_string(),
                       constant_text(v->constant()));
  };
  for (const auto& n : nodes_) {
    for (const NodeArg& a : n->args_) {
      if (a.kind == NodeArg::Kind::Value) print_constant(a.value);
      for (const Value* v : a.list) print_constant(v);
    }
  }
  for (const Value* v : outputs_) print_constant(v);

  for (const auto& n : nodes_) {
    std::vector<std::string> lhs;
    for (const NodeOutput& o : n->outputs_) {
      if (!o.is_list) {
        lhs.push_back(fmt::format("{} : {}", ref(o.value), o.value->type_string()));
        continue;
      }
      std::vector<std::string> parts;
      for (const Value* v : o.list) parts.push_back(fmt::format("{} : {}", ref(v), v->type_string()));
      lhs.push_back(fmt::format("[{}]", fmt::join(parts, ", ")));
    }
    std::vector<std::string> args;
    const auto& params = n->schema_->arguments();
    for (size_t i = 0; i < n->args_.size(); ++i) {
      const NodeArg& a = n->args_[i];
      std::string text;
      switch (a.kind) {
        case NodeArg::Kind::Value: text = ref(a.value); break;
        case NodeArg::Kind::ValueList: {
          std::vector<std::string> refs;
          for (const Value* v : a.list) refs.push_back(ref(v));
          text = fmt::format("[{}]", fmt::join(refs, ", "));
          break;
        }
        case NodeArg::Kind::Constant: text = constant_text(a.constant); break;
      }
      if (i < params.size() && params[i].kwarg_only) text = params[i].name + "=" + text;
      args.push_back(std::move(text));
    }
    out += fmt::format("  {} = {}({})\n", lhs.empty() ? "()" : fmt::format("{}", fmt::join(lhs, ", ")),
                       n->schema_->qualified_name(), fmt::join(args, ", "));
  }
  std::vector<std::string> rets;
  for (const Value* v : outputs_) rets.push_back(ref(v));
  out += fmt::format("  return ({})\n", fmt::join(rets, ", "));
  return out;
}

void Graph::check() const {
  std::unordered_set<const Value*> mine;
  for (const Value* v : values_) mine.insert(v);
  std::unordered_set<const Value*> defined;
  for (const Value* v : inputs_) defined.insert(v);
  for (const Value* v : values_) {
    if (v->kind() == Value::Kind::Constant) defined.insert(v);
  }
  auto need = [&](const Value* v, size_t node_index, const Node& n) {
    SY_CHECK(v != nullptr && mine.count(v), ValueError,
             "invalid graph: node {} ({}) uses a value that is not in this graph", node_index,
             n.schema_->full_name());
    SY_CHECK(defined.count(v), ValueError,
             "invalid graph: node {} ({}) uses {} before it is defined", node_index,
             n.schema_->full_name(), ref(v));
  };
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = *nodes_[i];
    SY_CHECK(n.op_.is_defined(), ValueError,
             "invalid graph: node {} calls {}, which is no longer registered (its library was "
             "removed); re-register it or trace again",
             i, n.schema_->full_name());
    const auto& params = n.schema_->arguments();
    SY_CHECK(n.args_.size() == params.size(), ValueError,
             "invalid graph: node {} ({}) has {} arguments, its schema {}", i,
             n.schema_->full_name(), n.args_.size(), params.size());
    for (size_t a = 0; a < n.args_.size(); ++a) {
      const NodeArg& arg = n.args_[a];
      if (arg.kind == NodeArg::Kind::Value) need(arg.value, i, n);
      for (const Value* v : arg.list) need(v, i, n);
    }
    SY_CHECK(n.outputs_.size() == n.schema_->returns().size(), ValueError,
             "invalid graph: node {} ({}) has {} outputs, its schema {}", i,
             n.schema_->full_name(), n.outputs_.size(), n.schema_->returns().size());
    for (const NodeOutput& o : n.outputs_) {
      if (o.value) defined.insert(o.value);
      for (const Value* v : o.list) defined.insert(v);
    }
  }
  for (size_t i = 0; i < outputs_.size(); ++i) {
    SY_CHECK(outputs_[i] != nullptr && mine.count(outputs_[i]) && defined.count(outputs_[i]),
             ValueError, "invalid graph: output {} is not a value defined in this graph", i);
    SY_CHECK(outputs_[i]->is_tensor(), ValueError,
             "invalid graph: output {} ({}) is not a tensor", i, ref(outputs_[i]));
  }
}

// ---- passes -----------------------------------------------------------------------------

size_t Graph::eliminate_dead_code() {
  std::unordered_set<const Value*> used(outputs_.begin(), outputs_.end());
  std::vector<bool> live(nodes_.size(), false);
  for (size_t i = nodes_.size(); i-- > 0;) {
    const Node& n = *nodes_[i];
    bool keep = n.writes_arguments();
    for (const NodeOutput& o : n.outputs_) {
      if (o.value && used.count(o.value)) keep = true;
      for (const Value* v : o.list) keep = keep || used.count(v);
    }
    if (!keep) continue;
    live[i] = true;
    for (const NodeArg& a : n.args_) {
      if (a.value) used.insert(a.value);
      used.insert(a.list.begin(), a.list.end());
    }
  }
  size_t removed = 0;
  std::vector<Node*> kept;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (live[i]) {
      kept.push_back(nodes_[i]);
    } else {
      ++removed;
    }
  }
  nodes_ = std::move(kept);
  // Drop the values of removed nodes (and constants nothing uses any more).
  std::unordered_set<const Value*> reachable(inputs_.begin(), inputs_.end());
  reachable.insert(outputs_.begin(), outputs_.end());
  for (const auto& n : nodes_) {
    for (const NodeArg& a : n->args_) {
      if (a.value) reachable.insert(a.value);
      reachable.insert(a.list.begin(), a.list.end());
    }
    for (const NodeOutput& o : n->outputs_) {
      if (o.value) reachable.insert(o.value);
      reachable.insert(o.list.begin(), o.list.end());
    }
  }
  // (Their storage stays in value_store_ until the graph goes.)
  std::erase_if(values_, [&](const Value* v) { return !reachable.count(v); });
  if (removed) changed();
  return removed;
}

size_t Graph::fold_constants() {
  // Values some node views or writes, or that leave the graph: folding them
  // would share one tensor between runs.
  std::unordered_set<const Value*> pinned(outputs_.begin(), outputs_.end());
  for (const auto& n : nodes_) {
    for (size_t a = 0; a < n->args_.size(); ++a) {
      if (!argument_is_aliased(*n->schema_, a)) continue;
      if (n->args_[a].value) pinned.insert(n->args_[a].value);
      pinned.insert(n->args_[a].list.begin(), n->args_[a].list.end());
    }
  }
  auto is_constant = [](const Value* v) { return v->kind() == Value::Kind::Constant; };
  tracer::NoTracerDispatchMode no_tracing;  // folding is not part of any trace
  size_t folded = 0;
  std::vector<Node*> kept;
  for (Node* node : nodes_) {
    Node& n = *node;
    bool foldable = !n.writes_arguments() && !is_nondeterministic(*n.schema_) && n.op_.is_defined();
    for (const NodeArg& a : n.args_) {
      if (a.kind == NodeArg::Kind::Value) foldable = foldable && is_constant(a.value);
      for (const Value* v : a.list) foldable = foldable && is_constant(v);
    }
    for (const NodeOutput& o : n.outputs_) {
      if (o.value) foldable = foldable && o.value->is_tensor() && !pinned.count(o.value);
      for (const Value* v : o.list) foldable = foldable && !pinned.count(v);
    }
    if (!foldable) {
      kept.push_back(node);
      continue;
    }
    Stack stack;
    for (const NodeArg& a : n.args_) {
      switch (a.kind) {
        case NodeArg::Kind::Value: stack.push_back(a.value->constant()); break;
        case NodeArg::Kind::ValueList: {
          std::vector<Tensor> ts;
          for (const Value* v : a.list) ts.push_back(v->constant().to_tensor());
          stack.emplace_back(std::move(ts));
          break;
        }
        case NodeArg::Kind::Constant: stack.push_back(a.constant); break;
      }
    }
    n.op_.call_boxed(stack);
    for (size_t i = 0; i < n.outputs_.size(); ++i) {
      NodeOutput& o = n.outputs_[i];
      auto make_constant = [](Value* v, IValue x) {
        v->kind_ = Value::Kind::Constant;
        v->producer_ = nullptr;
        v->constant_ = std::move(x);
      };
      if (o.value) {
        make_constant(o.value, stack[i]);
      } else {
        const auto& ts = stack[i].to_tensor_list();
        for (size_t j = 0; j < o.list.size(); ++j) make_constant(o.list[j], IValue(ts[j]));
      }
    }
    ++folded;
  }
  nodes_ = std::move(kept);
  if (folded) changed();
  return folded;
}

// ---- replay -----------------------------------------------------------------------------

std::shared_ptr<const Graph::Plan> Graph::plan() const {
  std::lock_guard<std::mutex> lock(*plan_mu_);
  if (plan_ && plan_version_ == version_) return plan_;
  check();
  auto p = std::make_shared<Plan>();
  p->num_slots = static_cast<size_t>(next_id_);
  for (const Value* v : values_) {
    if (v->kind() == Value::Kind::Constant) p->constants.emplace_back(v->id(), v->constant());
  }
  for (const Value* v : inputs_) {
    p->input_slots.push_back(v->id());
    p->input_types.push_back({v->dtype(), static_cast<int64_t>(v->sizes().size())});
  }
  for (const Value* v : outputs_) p->output_slots.push_back(v->id());
  for (const auto& n : nodes_) {
    Plan::Step step{n->op_, {}, {}};
    for (const NodeArg& a : n->args_) {
      Plan::Arg arg{a.kind, -1, false, {}, {}};
      if (a.value) arg.slot = a.value->id();
      for (const Value* v : a.list) arg.list.push_back(v->id());
      arg.constant = a.constant;
      step.args.push_back(std::move(arg));
    }
    for (const NodeOutput& o : n->outputs_) {
      Plan::Out out;
      out.is_list = o.is_list;
      if (o.value) out.slot = o.value->id();
      for (const Value* v : o.list) out.list.push_back(v->id());
      step.outs.push_back(std::move(out));
    }
    p->max_stack = std::max({p->max_stack, step.args.size(), step.outs.size()});
    p->steps.push_back(std::move(step));
  }
  // Mark each value's last read, so replay hands it over instead of copying
  // (and intermediates are freed as soon as nothing needs them, as in eager).
  std::vector<bool> read_later(p->num_slots, false);
  for (int64_t s : p->output_slots) read_later[s] = true;
  for (const auto& [slot, value] : p->constants) read_later[slot] = true;  // reused every run
  for (size_t i = p->steps.size(); i-- > 0;) {
    for (size_t a = p->steps[i].args.size(); a-- > 0;) {
      Plan::Arg& arg = p->steps[i].args[a];
      if (arg.kind != NodeArg::Kind::Value) continue;
      arg.last_use = !read_later[arg.slot];
      read_later[arg.slot] = true;
    }
    for (const Plan::Arg& arg : p->steps[i].args) {
      for (int64_t s : arg.list) read_later[s] = true;
    }
  }
  plan_ = p;
  plan_version_ = version_;
  return p;
}

std::vector<Tensor> Graph::run(const std::vector<Tensor>& inputs) const {
  const std::shared_ptr<const Plan> p = plan();
  SY_CHECK(inputs.size() == p->input_slots.size(), ValueError,
           "Graph::run: the graph takes {} inputs, got {}", p->input_slots.size(),
           inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Plan::InputType& want = p->input_types[i];
    SY_CHECK(inputs[i].defined(), ValueError, "Graph::run: input {} is undefined", i);
    SY_CHECK(inputs[i].dtype() == want.dtype, TypeError,
             "Graph::run: input {} has dtype {}, but the graph was traced with {}", i,
             sy::to_string(inputs[i].dtype()), sy::to_string(want.dtype));
    SY_CHECK(inputs[i].dim() == want.dim, ValueError,
             "Graph::run: input {} has {} dimensions (shape {}), but the graph was traced with "
             "{}",
             i, inputs[i].dim(), sy::to_string(inputs[i].sizes()), want.dim);
  }
  // The value slots: one buffer per thread kept between runs (a nested run
  // finds it taken and makes its own).
  thread_local std::vector<IValue> spare_env;
  std::vector<IValue> env = std::move(spare_env);
  env.resize(p->num_slots);
  struct GiveBack {
    std::vector<IValue>& env;
    ~GiveBack() {
      env.clear();
      if (spare_env.capacity() < env.capacity()) spare_env = std::move(env);
    }
  } give_back{env};
  for (const auto& [slot, value] : p->constants) env[slot] = value;
  for (size_t i = 0; i < inputs.size(); ++i) env[p->input_slots[i]] = IValue(inputs[i]);
  Stack stack;
  stack.reserve(p->max_stack);
  for (const Plan::Step& step : p->steps) {
    stack.clear();
    for (const Plan::Arg& a : step.args) {
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
      const Plan::Out& o = step.outs[i];
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
  out.reserve(p->output_slots.size());
  for (int64_t s : p->output_slots) out.push_back(env[s].to_tensor());
  return out;
}

}  // namespace sy
