// The graph IR the tracer records: values (graph inputs, node outputs and
// constants), each with the dtype, sizes and device it had when traced; nodes,
// each one call of one op with its arguments as values or constants; and the
// graph's inputs and outputs. Nodes are kept in an order where every value is
// defined before it is used.
//
// This file holds the IR alone: building it, printing it (to_string) and
// checking it (check). The passes that rewrite it are in passes.h, the runner
// that replays it in graph_runner.h; Graph::run() is a shortcut to a runner the
// graph keeps for its current version.
//
// Thread-safety: run() may be called from many threads at once; building and
// the passes change the graph and must not run concurrently with anything.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/dispatch/dispatcher.h"
#include "switchyard/tensor/ivalue.h"
#include "switchyard/tensor/tensor.h"
#include "switchyard/trace/graph_arena.h"

namespace sy {

class Node;

// One value of the graph: a tensor (inputs, op results, constant tensors) or a
// non-tensor op result.
class SY_API Value {
 public:
  enum class Kind : uint8_t { Input, Output, Constant };

  int64_t id() const { return id_; }
  Kind kind() const { return kind_; }
  // The node whose output this is; null for inputs and constants.
  Node* producer() const { return producer_; }
  bool is_tensor() const { return is_tensor_; }
  // The type the value had when traced (tensors only).
  ScalarType dtype() const { return dtype_; }
  IntArrayRef sizes() const { return sizes_; }
  Device device() const { return device_; }
  // The constant's value (Constant values only).
  const IValue& constant() const { return constant_; }
  // The type name of a non-tensor value ("int", "float", ...).
  const std::string& non_tensor_type() const { return non_tensor_type_; }
  // "float32[2, 3]", "int".
  std::string type_string() const;

 private:
  friend class Graph;
  int64_t id_ = 0;
  Kind kind_ = Kind::Input;
  Node* producer_ = nullptr;
  bool is_tensor_ = true;
  ScalarType dtype_ = kFloat32;
  DimVector sizes_;
  Device device_ = kCPU;
  IValue constant_;
  std::string non_tensor_type_;
};

// One argument of a node, in schema order: a value, a list of values (a
// Tensor[] argument), or a constant (every non-tensor argument).
struct NodeArg {
  enum class Kind : uint8_t { Value, ValueList, Constant };
  Kind kind = Kind::Constant;
  Value* value = nullptr;
  std::vector<Value*> list;
  IValue constant;
};

// One return of a node: a value, or a list of values for a Tensor[] return
// (its length is the one seen when traced).
struct NodeOutput {
  bool is_list = false;
  Value* value = nullptr;
  std::vector<Value*> list;
};

// One call of one op.
class SY_API Node {
 public:
  // Nodes are made by Graph::add_node (or begin_node).
  explicit Node(OperatorHandle op) : op_(std::move(op)) {}
  const OperatorHandle& op() const { return op_; }
  const FunctionSchema& schema() const { return *schema_; }
  // The schema the node was recorded with, shared.
  const std::shared_ptr<const FunctionSchema>& schema_ptr() const { return schema_; }
  ArrayRef<NodeArg> args() const { return {args_.data, args_.n}; }
  ArrayRef<NodeOutput> outputs() const { return {outputs_.data, outputs_.n}; }
  // Whether the op writes any argument (an alias annotation with '!').
  bool writes_arguments() const;

 private:
  friend class Graph;
  OperatorHandle op_;
  std::shared_ptr<const FunctionSchema> schema_;
  detail::ArenaSpan<NodeArg> args_;  // in the graph's arenas
  detail::ArenaSpan<NodeOutput> outputs_;
};

class GraphRunner;

// The type of a value, as a graph stores it: a tensor's dtype, sizes and
// device, or the name of a non-tensor type ("int", "float", ...).
struct SY_API ValueType {
  bool is_tensor = true;
  ScalarType dtype = kFloat32;
  DimVector sizes;
  Device device = kCPU;
  std::string non_tensor;

  static ValueType of(const Tensor& t);
  // The type of an op's result (a tensor or a non-tensor value).
  static ValueType of(const IValue& v);
};

// The types of one return of a node: one value, or a list (a Tensor[] return).
struct OutputType {
  bool is_list = false;
  std::vector<ValueType> values;
};

class SY_API Graph {
 public:
  Graph();
  ~Graph();
  Graph(Graph&&) noexcept;
  Graph& operator=(Graph&&) noexcept;

  const std::vector<Value*>& inputs() const { return inputs_; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  // Nodes in execution order.
  const std::vector<Node*>& nodes() const { return nodes_; }
  size_t num_nodes() const { return nodes_.size(); }
  // Every value the graph uses (inputs, constants, node outputs), in the
  // order they were made.
  const std::vector<Value*>& values() const { return values_; }
  // One more than the largest value id: ids index arrays of this size.
  int64_t id_bound() const { return next_id_; }
  // Notes made while tracing (tensors from outside that became constants).
  const std::vector<std::string>& warnings() const { return warnings_; }
  // Changes whenever the graph does; a runner is built for one version.
  uint64_t version() const { return version_; }

  // ---- building (the tracer's and the loader's; also usable by hand) ----------------
  // A new graph input shaped like `example`.
  Value* add_input(const Tensor& example);
  // A new graph input of type `type` (a tensor type).
  Value* add_input(const ValueType& type);
  // A constant value holding `t` (a tensor that came from outside the trace).
  Value* add_constant(const Tensor& t);
  // Appends a node calling `op` (whose schema is `schema`) with `args`; its
  // outputs are made from `results`, the values the call returned (tensors are
  // typed from them).
  // Moves the args out of `args`.
  Node* add_node(const OperatorHandle& op, std::shared_ptr<const FunctionSchema> schema,
                 std::vector<NodeArg>& args, ArrayRef<IValue> results);
  // The same, with the outputs' types given instead of example results.
  Node* add_node(const OperatorHandle& op, std::shared_ptr<const FunctionSchema> schema,
                 std::vector<NodeArg>& args, const std::vector<OutputType>& outputs);

  // add_node in two halves, for the tracer: begin_node makes a node with
  // `num_args` empty arguments for the caller to fill in place, outside the
  // graph; end_node gives it outputs typed from the call's results and appends
  // it. A node begun and never ended is not part of the graph.
  struct PendingNode {
    Node* node;
    NodeArg* args;
  };
  PendingNode begin_node(const OperatorHandle& op, std::shared_ptr<const FunctionSchema> schema,
                         size_t num_args);
  Node* end_node(Node* node, ArrayRef<IValue> results);
  // For a call that returned one tensor.
  Node* end_node(Node* node, const Tensor& result);
  void add_output(Value* v);
  void add_warning(std::string w);

  // ---- reading ----------------------------------------------------------------------
  // The text form:
  //   graph(%0 : float32[2, 3], %1 : float32[3]):
  //     %2 : float32[2, 3] = sy::add(%0, %1, alpha=1)
  //     return (%2)
  std::string to_string() const;
  // Throws sy::ValueError, naming the node, when a value is used before it is
  // defined or not in this graph, an op is no longer registered or was
  // redefined with another schema since the node was recorded, a node's
  // arguments do not match its schema, or an output is missing.
  void check() const;

  // ---- files (graph_file.h; the format is in docs/aot.md) ----------------------------
  // Writes the graph, with its constants, to `path`. Throws GraphFileError when
  // the file cannot be written, and the check()'s error for a graph that fails it.
  void save(const std::string& path) const;
  // The graph saved at `path`. Throws GraphFileError, saying what is wrong,
  // for a file that is missing, truncated, corrupted, of a newer format
  // version, or that calls an op this process lacks or has with another schema.
  static Graph load(const std::string& path);

  // ---- editing (what the passes in passes.h use) ------------------------------------
  // Replaces the node list by `kept`, a subsequence of nodes() in the same order.
  void keep_nodes(std::vector<Node*> kept);
  // Makes `v` a constant holding `value` (it no longer has a producer).
  void make_constant(Value* v, IValue value);
  // Forgets values that no node, input or output refers to any more.
  void drop_unused_values();

  // ---- replay -----------------------------------------------------------------------
  // Runs the graph on `inputs` with a runner (graph_runner.h) built for the
  // graph's current version. The inputs must match the graph's in count, dtype
  // and rank (a sy::ValueError or TypeError names the first that does not); a
  // graph that fails check() cannot run.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs) const;

 private:
  std::shared_ptr<const GraphRunner> runner() const;
  void changed();
  Value* new_value(Value::Kind kind);
  Value* new_output(Node* node, const Tensor& t);
  void append(Node* node);
  static void set_type(Value* v, const ValueType& t);
  static void set_type(Value* v, const Tensor& t);

  // Values and nodes live in arenas; values_ and nodes_ list the live ones,
  // nodes_ in execution order.
  detail::GraphArena<Value> value_store_;
  detail::GraphArena<Node> node_store_;
  detail::GraphArena<NodeArg> arg_store_;
  detail::GraphArena<NodeOutput> output_store_;
  std::vector<Value*> values_;
  std::vector<Node*> nodes_;
  std::vector<Value*> inputs_;
  std::vector<Value*> outputs_;
  std::vector<std::string> warnings_;
  int64_t next_id_ = 0;
  uint64_t version_ = 0;  // bumped by every change; the runner is rebuilt when it moves
  mutable uint64_t runner_version_ = 0;
  mutable std::unique_ptr<std::mutex> runner_mu_;
  mutable std::shared_ptr<const GraphRunner> runner_;
};

}  // namespace sy
