#include "switchyard/trace/graph.h"

#include <string_view>
#include <unordered_set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "switchyard/core/error.h"

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
      return list_text(v.to_bool_list(), [](bool b) { return std::string(b ? "True" : "False"); });
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

}  // namespace

// ---- Value and Node ---------------------------------------------------------------------

ValueType ValueType::of(const Tensor& t) {
  ValueType type;
  type.dtype = t.dtype();
  type.sizes = DimVector(t.sizes());
  type.device = t.device();
  return type;
}

ValueType ValueType::of(const IValue& v) {
  if (v.is_tensor()) return of(v.to_tensor_ref());
  ValueType type;
  type.is_tensor = false;
  type.non_tensor = non_tensor_type(v);
  return type;
}

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

Graph::Graph() : runner_mu_(std::make_unique<std::mutex>()) {}
Graph::~Graph() = default;
Graph::Graph(Graph&&) noexcept = default;
Graph& Graph::operator=(Graph&&) noexcept = default;

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

void Graph::set_type(Value* v, const ValueType& t) {
  v->is_tensor_ = t.is_tensor;
  if (t.is_tensor) {
    v->sizes_ = t.sizes;
    v->dtype_ = t.dtype;
    v->device_ = t.device;
  } else {
    v->non_tensor_type_ = t.non_tensor;
  }
}

Value* Graph::add_input(const Tensor& example) {
  SY_CHECK(example.defined(), ValueError, "Graph::add_input: the example input is undefined");
  Value* v = new_value(Value::Kind::Input);
  set_type(v, example);
  inputs_.push_back(v);
  changed();
  return v;
}

Value* Graph::add_input(const ValueType& type) {
  SY_CHECK(type.is_tensor, ValueError, "Graph::add_input: a graph input is a tensor, not {}",
           type.non_tensor);
  Value* v = new_value(Value::Kind::Input);
  set_type(v, type);
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

Graph::PendingNode Graph::begin_node(const OperatorHandle& op,
                                     std::shared_ptr<const FunctionSchema> schema,
                                     size_t num_args) {
  Node* node = node_store_.make_n(1, op);
  node->schema_ = std::move(schema);
  node->args_ = {arg_store_.make_n(num_args), num_args};
  return {node, node->args_.data};
}

Value* Graph::new_output(Node* node, const Tensor& t) {
  Value* v = new_value(Value::Kind::Output);
  v->producer_ = node;
  set_type(v, t);
  return v;
}

void Graph::append(Node* node) {
  nodes_.push_back(node);
  changed();
}

Node* Graph::end_node(Node* node, ArrayRef<IValue> results) {
  node->outputs_ = {output_store_.make_n(results.size()), results.size()};
  for (size_t r_i = 0; r_i < results.size(); ++r_i) {
    const IValue& r = results[r_i];
    NodeOutput& out = node->outputs_[r_i];
    if (r.is_tensor_list()) {
      out.is_list = true;
      for (const Tensor& t : r.to_tensor_list()) out.list.push_back(new_output(node, t));
    } else if (r.is_tensor()) {
      out.value = new_output(node, r.to_tensor_ref());
    } else {
      Value* v = new_value(Value::Kind::Output);
      v->producer_ = node;
      set_type(v, ValueType::of(r));
      out.value = v;
    }
  }
  append(node);
  return node;
}

Node* Graph::end_node(Node* node, const Tensor& result) {
  node->outputs_ = {output_store_.make_n(1), 1};
  node->outputs_[0].value = new_output(node, result);
  append(node);
  return node;
}

Node* Graph::add_node(const OperatorHandle& op, std::shared_ptr<const FunctionSchema> schema,
                      std::vector<NodeArg>& args, ArrayRef<IValue> results) {
  PendingNode p = begin_node(op, std::move(schema), args.size());
  for (size_t i = 0; i < args.size(); ++i) p.args[i] = std::move(args[i]);
  return end_node(p.node, results);
}

Node* Graph::add_node(const OperatorHandle& op, std::shared_ptr<const FunctionSchema> schema,
                      std::vector<NodeArg>& args, const std::vector<OutputType>& outputs) {
  PendingNode p = begin_node(op, std::move(schema), args.size());
  Node* node = p.node;
  for (size_t i = 0; i < args.size(); ++i) p.args[i] = std::move(args[i]);
  node->outputs_ = {output_store_.make_n(outputs.size()), outputs.size()};
  for (size_t r = 0; r < outputs.size(); ++r) {
    NodeOutput& out = node->outputs_[r];
    out.is_list = outputs[r].is_list;
    SY_CHECK(out.is_list || outputs[r].values.size() == 1, ValueError,
             "Graph::add_node: output {} of {} is one value, given {} types", r,
             node->schema_->full_name(), outputs[r].values.size());
    for (const ValueType& t : outputs[r].values) {
      Value* v = new_value(Value::Kind::Output);
      v->producer_ = node;
      set_type(v, t);
      if (out.is_list) {
        out.list.push_back(v);
      } else {
        out.value = v;
      }
    }
  }
  append(node);
  return node;
}

void Graph::add_output(Value* v) {
  outputs_.push_back(v);
  changed();
}

void Graph::add_warning(std::string w) { warnings_.push_back(std::move(w)); }

// Building and passes never run concurrently with run() (see the header), so a
// plain counter is enough; runner() rebuilds when it moved.
void Graph::changed() { ++version_; }

// ---- Graph: editing ---------------------------------------------------------------------

void Graph::keep_nodes(std::vector<Node*> kept) {
  SY_CHECK(kept.size() <= nodes_.size(), ValueError,
           "Graph::keep_nodes: {} nodes given, the graph has {}", kept.size(), nodes_.size());
  size_t at = 0;
  for (Node* n : kept) {
    while (at < nodes_.size() && nodes_[at] != n) ++at;
    SY_CHECK(at < nodes_.size(), ValueError,
             "Graph::keep_nodes: the nodes kept must be the graph's, in its order");
    ++at;
  }
  if (kept.size() != nodes_.size()) changed();
  nodes_ = std::move(kept);
}

void Graph::make_constant(Value* v, IValue value) {
  v->kind_ = Value::Kind::Constant;
  v->producer_ = nullptr;
  v->constant_ = std::move(value);
  changed();
}

void Graph::drop_unused_values() {
  std::unordered_set<const Value*> reachable(inputs_.begin(), inputs_.end());
  reachable.insert(outputs_.begin(), outputs_.end());
  for (const Node* n : nodes_) {
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
  const size_t before = values_.size();
  std::erase_if(values_, [&](const Value* v) { return !reachable.count(v); });
  if (values_.size() != before) changed();
}

// ---- Graph: reading ---------------------------------------------------------------------

std::string Graph::to_string() const {
  std::string out = "graph(";
  for (size_t i = 0; i < inputs_.size(); ++i) {
    out +=
        fmt::format("{}{} : {}", i ? ",\n      " : "", ref(inputs_[i]), inputs_[i]->type_string());
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
      for (const Value* v : o.list)
        parts.push_back(fmt::format("{} : {}", ref(v), v->type_string()));
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
    out +=
        fmt::format("  {} = {}({})\n", lhs.empty() ? "()" : fmt::format("{}", fmt::join(lhs, ", ")),
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
    SY_CHECK(n.op_.schema() == *n.schema_, ValueError,
             "invalid graph: node {} calls {}, which was redefined after the graph was "
             "recorded: recorded as `{}`, now `{}`. Trace again with the op as it is now",
             i, n.schema_->full_name(), n.schema_->to_string(), n.op_.schema().to_string());
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
             "invalid graph: node {} ({}) has {} outputs, its schema {}", i, n.schema_->full_name(),
             n.outputs_.size(), n.schema_->returns().size());
    for (const NodeOutput& o : n.outputs_) {
      if (o.value) defined.insert(o.value);
      for (const Value* v : o.list) defined.insert(v);
    }
  }
  for (size_t i = 0; i < outputs_.size(); ++i) {
    SY_CHECK(outputs_[i] != nullptr && mine.count(outputs_[i]) && defined.count(outputs_[i]),
             ValueError, "invalid graph: output {} is not a value defined in this graph", i);
    SY_CHECK(outputs_[i]->is_tensor(), ValueError, "invalid graph: output {} ({}) is not a tensor",
             i, ref(outputs_[i]));
  }
}

}  // namespace sy
