// Node: one step of a recorded computation, run backwards. An op that records
// for autograd makes a node that knows how to turn gradients with respect to
// the op's outputs into gradients with respect to its inputs (apply), and
// edges to the nodes that produced those inputs (next_edges). The backward
// engine (engine.h) walks these edges from the tensors backward() starts at.
//
// Naming: a node's *inputs* are the gradients it receives, one for each output
// of the forward op (described by input_metadata(i)); its *outputs* are the
// gradients it returns, one for each input of the forward op (sent along
// next_edge(i)). Node names are PyTorch's: "MulBackward0", "AccumulateGrad".
//
// Thread-safety: a node's edges and metadata are set while the forward op
// records it, then only read; apply() may run on any thread, and on several at
// once when threads run backward through a retained graph. Hooks are added by
// the thread that owns the graph; adding them while a backward runs through
// the node is a data race (as in PyTorch).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "switchyard/autograd/small_vector.h"
#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy::autograd {

class Node;
using variable_list = std::vector<Tensor>;

// Where a gradient goes: input `input_nr` of `function`. An edge without a
// function means "no gradient needed here" (the input does not require grad).
struct Edge {
  std::shared_ptr<Node> function;
  uint32_t input_nr = 0;

  Edge() = default;
  Edge(std::shared_ptr<Node> fn, uint32_t nr) : function(std::move(fn)), input_nr(nr) {}
  bool is_valid() const { return function != nullptr; }
};

// What a node knows about one of its inputs (an output of the forward op): the
// shape, dtype and device its gradient must have. The engine checks every
// gradient against it, sums broadcast gradients down to the shape, and makes
// zeros from it where a gradient is missing.
struct SY_API InputMetadata {
  DimVector sizes;
  ScalarType dtype = kFloat32;
  Device device = kCPU;
  bool defined = false;

  InputMetadata() = default;
  explicit InputMetadata(const Tensor& t)
      : sizes(t.sizes()), dtype(t.dtype()), device(t.device()), defined(true) {}
  // Zeros of this shape, dtype and device.
  Tensor zeros() const;
};

// A hook on a tensor's gradient: returns a replacement, or an undefined Tensor
// to keep the gradient as it is.
using TensorHook = std::function<Tensor(const Tensor&)>;

// A node's hook on all of its input gradients before apply() (returning the
// gradients to use), or on its inputs and outputs after it (returning
// replacement outputs, or an empty list to keep them).
using NodePreHook = std::function<variable_list(const variable_list& grad_outputs)>;
using NodePostHook = std::function<variable_list(const variable_list& grad_inputs,
                                                 const variable_list& grad_outputs)>;

// Not enable_shared_from_this: the weak self-reference would cost two atomic
// operations on every node made and freed; what needs a node's shared_ptr
// (the engine's deferred work, a saved output) keeps one from where it has it.
class SY_API Node {
 public:
  // A node numbered after every node the calling thread made before it (the
  // engine runs later nodes first among those ready).
  Node();
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Gradients with respect to the forward op's inputs (one per next edge; an
  // undefined Tensor where none is needed or the gradient is zero) from
  // gradients with respect to its outputs (one per input; undefined ones mean
  // zero).
  virtual variable_list apply(variable_list&& grads) = 0;
  // "MulBackward0"
  virtual std::string name() const = 0;
  // Drops saved tensors once a backward without retain_graph ran the node.
  virtual void release_variables() {}

  // ---- edges: one per forward input, in order -----------------------------------------
  size_t num_outputs() const { return next_edges_.size(); }
  const Edge& next_edge(size_t i) const { return next_edges_[i]; }
  const detail::SmallVector<Edge, 2>& next_edges() const { return next_edges_; }
  void add_next_edge(Edge e) { next_edges_.push_back(std::move(e)); }
  void set_next_edge(size_t i, Edge e) { next_edges_[i] = std::move(e); }
  void set_next_edges(detail::SmallVector<Edge, 2> edges) { next_edges_ = std::move(edges); }

  // Whether gradient `i` can be needed at all: its edge leads somewhere (what
  // an op asks when it records the node, to save only what is needed).
  bool should_compute_output(size_t i) const { return next_edges_[i].is_valid(); }
  // Whether gradient `i` must be computed by the backward running now: its
  // edge leads somewhere and, in a backward that computes gradients of chosen
  // inputs only (autograd::grad), toward one of them. What apply() asks.
  bool task_should_compute_output(size_t i) const;

  // ---- inputs: one per forward output -------------------------------------------------
  // Describes the next forward output; returns its number.
  uint32_t add_input_metadata(const Tensor& t);
  // An output that takes no part in autograd (an integer result, say).
  uint32_t add_input_metadata_undefined();
  size_t num_inputs() const { return input_metadata_.size(); }
  const InputMetadata& input_metadata(size_t i) const { return input_metadata_[i]; }

  uint64_t sequence_nr() const { return sequence_nr_; }

  // ---- hooks -----------------------------------------------------------------------------
  // A hook on the gradient of input `input_nr` (a tensor's register_hook on a
  // non-leaf lands here). Returns its id.
  uint64_t add_tensor_pre_hook(uint32_t input_nr, TensorHook hook);
  // Removes the hook with `id`; returns whether there was one.
  bool remove_tensor_pre_hook(uint64_t id);
  uint64_t add_pre_hook(NodePreHook hook);
  uint64_t add_post_hook(NodePostHook hook);
  bool has_hooks() const { return hooks_ != nullptr; }
  // Applies the tensor pre-hooks to `grads` in registration order.
  void run_tensor_pre_hooks(variable_list& grads);
  void run_pre_hooks(variable_list& grads);
  void run_post_hooks(const variable_list& inputs, variable_list& outputs);

  // The non-leaf tensor that retains its gradient at input `input_nr` (see
  // Tensor::retain_grad): the engine sets its grad when this node runs.
  // `meta` is the tensor's autograd state, which clears this on destruction.
  void set_retains_grad(uint32_t input_nr, class AutogradMeta* meta);
  void clear_retains_grad(uint32_t input_nr, const class AutogradMeta* meta);
  bool has_retains_grad() const;
  // Adds grads[input_nr] into the grad of each tensor retaining input_nr.
  void deliver_retained_grads(const variable_list& grads);

  // Whether this node is the AccumulateGrad of a leaf (the engine defers it).
  virtual bool is_accumulate_grad() const { return false; }

 protected:
  explicit Node(uint64_t sequence_nr) : sequence_nr_(sequence_nr) {}

 private:
  struct Hooks {
    struct Tensor_ {
      uint32_t input_nr;
      uint64_t id;
      TensorHook fn;
    };
    std::vector<Tensor_> tensor_pre;
    std::vector<NodePreHook> pre;
    std::vector<NodePostHook> post;
    std::vector<std::pair<uint32_t, AutogradMeta*>> retains_grad;
  };
  Hooks& hooks();

  uint64_t sequence_nr_;
  detail::SmallVector<Edge, 2> next_edges_;
  detail::SmallVector<InputMetadata, 1> input_metadata_;
  std::unique_ptr<Hooks> hooks_;
  mutable std::mutex hooks_mutex_;  // guards hooks_->retains_grad against tensor destruction
};

// The next sequence number of the calling thread (for nodes made elsewhere).
SY_API uint64_t next_sequence_nr();
// A process-wide unique id for a hook.
SY_API uint64_t next_hook_id();

}  // namespace sy::autograd
