// The graph IR the tracer records: values (graph inputs, node outputs and
// constants), each with the dtype, sizes and device it had when traced; nodes,
// each one call of one op with its arguments as values or constants; and the
// graph's inputs and outputs. Nodes are kept in an order where every value is
// defined before it is used.
//
// A Graph prints as text (to_string), checks itself (check), can be simplified
// (eliminate_dead_code, fold_constants) and replayed on new inputs (run), each
// node through the dispatcher with its op handle resolved when it was recorded.
//
// Thread-safety: run() may be called from many threads at once; the passes and
// the builders change the graph and must not run concurrently with anything.
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

namespace sy {

namespace detail {
// Stable storage for a graph's objects, allocated in blocks of at least 128, so
// recording a node rarely allocates; everything is freed with the arena.
template <typename T>
class GraphArena {
 public:
  GraphArena() = default;
  GraphArena(GraphArena&& o) noexcept : blocks_(std::move(o.blocks_)) { o.blocks_.clear(); }
  GraphArena& operator=(GraphArena&& o) noexcept {
    if (this != &o) {
      release();
      blocks_ = std::move(o.blocks_);
      o.blocks_.clear();
    }
    return *this;
  }
  ~GraphArena() { release(); }

  // n objects, contiguous, each made from `args`.
  template <typename... A>
  T* make_n(size_t n, const A&... args) {
    if (blocks_.empty() || blocks_.back().cap - blocks_.back().used < n) {
      const size_t cap = n > kBlock ? n : kBlock;
      blocks_.push_back({std::allocator<T>().allocate(cap), cap, 0});
    }
    Block& b = blocks_.back();
    T* first = b.data + b.used;
    for (size_t i = 0; i < n; ++i) {
      new (first + i) T(args...);
      ++b.used;
    }
    return first;
  }

 private:
  static constexpr size_t kBlock = 128;
  struct Block {
    T* data;
    size_t cap;
    size_t used;
  };
  void release() {
    for (Block& b : blocks_) {
      for (size_t i = 0; i < b.used; ++i) b.data[i].~T();
      std::allocator<T>().deallocate(b.data, b.cap);
    }
    blocks_.clear();
  }
  std::vector<Block> blocks_;
};

// A view of n objects in a GraphArena, iterable like a vector.
template <typename T>
struct ArenaSpan {
  T* data = nullptr;
  size_t n = 0;
  T* begin() const { return data; }
  T* end() const { return data + n; }
  size_t size() const { return n; }
  T& operator[](size_t i) const { return data[i]; }
};
}  // namespace detail

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
  // Nodes are made by Graph::add_node.
  explicit Node(OperatorHandle op) : op_(std::move(op)) {}
  const OperatorHandle& op() const { return op_; }
  const FunctionSchema& schema() const { return *schema_; }
  ArrayRef<NodeArg> args() const { return {args_.data, args_.n}; }
  ArrayRef<NodeOutput> outputs() const { return {outputs_.data, outputs_.n}; }
  // Whether the op writes any argument (an alias annotation with '!').
  bool writes_arguments() const;

 private:
  friend class Graph;
  OperatorHandle op_;
  std::shared_ptr<const FunctionSchema> schema_;
  detail::ArenaSpan<NodeArg> args_;        // in the graph's arenas
  detail::ArenaSpan<NodeOutput> outputs_;
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
  std::vector<const Node*> nodes() const;
  size_t num_nodes() const { return nodes_.size(); }
  // Notes made while tracing (tensors from outside that became constants).
  const std::vector<std::string>& warnings() const { return warnings_; }

  // ---- building (the tracer's; also usable by hand) --------------------------------
  // A new graph input shaped like `example`.
  Value* add_input(const Tensor& example);
  // A constant value holding `t` (a tensor that came from outside the trace).
  Value* add_constant(const Tensor& t);
  // Appends a node calling `op` (whose schema is `schema`) with `args`; its
  // outputs are made from `results`, the values the call returned (tensors are
  // typed from them).
  // Moves the args out of `args`.
  Node* add_node(const OperatorHandle& op, std::shared_ptr<const FunctionSchema> schema,
                 std::vector<NodeArg>& args, ArrayRef<IValue> results);
  void add_output(Value* v);
  void add_warning(std::string w);

  // ---- reading ----------------------------------------------------------------------
  // The text form:
  //   graph(%0 : float32[2, 3], %1 : float32[3]):
  //     %2 : float32[2, 3] = sy::add(%0, %1, alpha=1)
  //     return (%2)
  std::string to_string() const;
  // Throws sy::ValueError, naming the node, when a value is used before it is
  // defined or not in this graph, an op is no longer registered, a node's
  // arguments do not match its schema, or an output is missing.
  void check() const;

  // ---- passes -------------------------------------------------------------------------
  // Removes nodes whose outputs nothing uses and that write no argument;
  // returns how many it removed.
  size_t eliminate_dead_code();
  // Runs nodes whose arguments are all constants (and whose results are
  // neither written later, viewed, nor graph outputs, and whose op is not
  // random) once, and replaces their outputs by constants; returns how many
  // nodes it folded.
  size_t fold_constants();

  // ---- replay -------------------------------------------------------------------------
  // Runs the graph on `inputs` through the dispatcher. The inputs must match
  // the graph's in count, dtype and rank (a sy::ValueError or TypeError names
  // the first that does not); a graph that fails check() cannot run.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs) const;

 private:
  struct Plan;
  std::shared_ptr<const Plan> plan() const;
  void changed();
  Value* new_value(Value::Kind kind);
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
  uint64_t version_ = 0;  // bumped by every change; the plan is rebuilt when it moves
  mutable uint64_t plan_version_ = 0;
  mutable std::unique_ptr<std::mutex> plan_mu_;
  mutable std::shared_ptr<const Plan> plan_;
};

}  // namespace sy
