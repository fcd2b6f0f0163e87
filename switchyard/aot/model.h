// sy::aot::Model: a saved graph (trace/graph_file.h) compiled for serving. A
// model is loaded once and then run from any number of threads:
//
//   sy::aot::Model model = sy::aot::Model::load("model.sy");
//   std::vector<sy::Tensor> out = model.run({x});          // outputs the caller owns
//   sy::aot::BorrowedOutputs b = model.run_borrowed({x});  // the thread's cached outputs
//   model.run_into({x}, {y});                               // into the caller's tensors
//
// Loading turns the graph into a flat list of steps with each kernel resolved
// once (called unboxed where the signature allows), folds the values computed
// from weights alone, and checks every op. A run checks its inputs (count,
// dtype, device, shape: every dim as traced, except that the first dim of the
// batch inputs may change between calls when the model allows it), then runs
// the steps with this thread's execution state: its planned buffers, reused by
// lifetime, and its cached outputs, which grow only when an output outgrows
// them. After the first call of a given shape, a thread's borrowed and
// into-buffer runs allocate nothing.
//
// Threads: runs take no lock shared with other threads. Each thread gets its
// own execution state on its first run (an InstancePool bounds their number).
// Weights are an immutable snapshot: swap_weights publishes a new one with one
// pointer store; runs in flight finish on the snapshot they started with, and
// no run can delay a swap. See docs/aot.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy {
class Graph;
}

namespace sy::aot {

namespace detail {
struct CompiledModel;
struct ExecutionState;
}  // namespace detail

// What a model input or weight must be.
struct TensorSpec {
  ScalarType dtype = kFloat32;
  DimVector sizes;  // as traced
  // Whether sizes[0] may differ from the traced size (the batch dim).
  bool first_dim_varies = false;
};

// A model output, and what it shares memory with in the graph: the same value
// as an earlier output, a view of an input or of a weight. Outputs handed to
// the caller never share memory with each other or with an input (each is
// copied, or written into its own cache), so none is ever freed twice.
struct OutputInfo {
  ScalarType dtype = kFloat32;
  DimVector sizes;              // as traced
  int64_t same_as_output = -1;  // an earlier output that is the same value, or -1
  int64_t aliases_input = -1;   // the input it is (a view of), or -1
  bool aliases_weight = false;  // it is (a view of) a weight
};

// Outputs borrowed from the calling thread's cache (Model::run_borrowed): valid
// until this thread's next run of the same model (or the same pool instance).
// Reading one after that is a sy::ValueError, in every build.
// How Model::load and Model::compile build a model.
struct CompileOptions {
  // Runs of elementwise steps (add, mul, exp, relu, ... on float32/float64)
  // computed in one loop over blocks (docs/aot.md, "Fused elementwise steps").
  bool fuse_elementwise = true;
};

// What the calling thread's execution state of a model has done so far.
struct RunStats {
  uint64_t runs = 0;
  uint64_t fused_runs = 0;       // fused groups computed in one loop
  uint64_t fused_fallbacks = 0;  // fused groups whose steps ran one by one instead
};

class SY_API BorrowedOutputs {
 public:
  // Nothing borrowed (not valid).
  BorrowedOutputs() = default;
  size_t size() const { return size_; }
  // Output i; throws when the thread has run the model again since.
  const Tensor& operator[](size_t i) const;
  // Whether the outputs are still this thread's latest.
  bool valid() const;

 private:
  friend struct detail::ExecutionState;
  BorrowedOutputs(const detail::ExecutionState* state, uint64_t run, const Tensor* outputs,
                  size_t size)
      : state_(state), run_(run), outputs_(outputs), size_(size) {}
  const detail::ExecutionState* state_ = nullptr;
  uint64_t run_ = 0;
  const Tensor* outputs_ = nullptr;
  size_t size_ = 0;
};

class SY_API Model {
 public:
  // Loads the graph saved at `path` (Graph::save) and compiles it. Throws
  // GraphFileError for a bad file and sy::ValueError naming the node for a
  // graph a model cannot run.
  static Model load(const std::string& path, const CompileOptions& options = {});
  // Compiles a graph in memory (it is not changed).
  static Model compile(const Graph& graph, const CompileOptions& options = {});

  size_t num_inputs() const;
  const TensorSpec& input(size_t i) const;
  size_t num_outputs() const;
  const OutputInfo& output(size_t i) const;
  // The fused groups of elementwise steps, in order, each as the graph nodes
  // it covers and its ops: "nodes 3-5: mul+add+relu".
  std::vector<std::string> fused_groups() const;
  // The calling thread's counts for this model (zeros before its first run).
  RunStats this_thread_stats() const;

  // Runs the model; the outputs are new tensors the caller owns.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs) const;
  // Runs the model; the outputs live in this thread's cache until its next run
  // of this model.
  BorrowedOutputs run_borrowed(const std::vector<Tensor>& inputs) const;
  // Runs the model and writes output i into outputs[i], which must have its
  // dtype and shape (any strides).
  void run_into(const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs) const;

  // The weights (the graph's constants) of the current snapshot, in order.
  size_t num_weights() const;
  const TensorSpec& weight(size_t i) const;
  std::vector<Tensor> weights() const;
  // Publishes new weights (same count, dtypes and shapes): runs that start
  // afterwards use them; runs in flight finish with the old ones. The model
  // keeps its own copy, so the caller may change `weights` afterwards.
  void swap_weights(const std::vector<Tensor>& weights) const;

  // The compiled model, shared by every copy of this handle.
  const std::shared_ptr<detail::CompiledModel>& compiled() const { return impl_; }

 private:
  explicit Model(std::shared_ptr<detail::CompiledModel> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<detail::CompiledModel> impl_;
};

// A fixed number of execution states for one model, for callers that bound
// the memory their threads use: a run takes a free instance, or waits until
// one is free (only when all are busy), and gives it back when it is done.
// The waiting uses no lock; instances are handed out with one atomic exchange.
class SY_API InstancePool {
 public:
  // `instances` execution states, 1 to 64.
  InstancePool(Model model, size_t instances);
  ~InstancePool();
  InstancePool(const InstancePool&) = delete;
  InstancePool& operator=(const InstancePool&) = delete;

  size_t size() const { return states_.size(); }
  const Model& model() const { return model_; }

  // One instance, held until the lease is destroyed; borrowed outputs of its
  // runs stay valid until its next run.
  class SY_API Lease {
   public:
    ~Lease();
    Lease(Lease&& o) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    std::vector<Tensor> run(const std::vector<Tensor>& inputs);
    BorrowedOutputs run_borrowed(const std::vector<Tensor>& inputs);
    void run_into(const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs);

   private:
    friend class InstancePool;
    Lease(InstancePool* pool, size_t index) : pool_(pool), index_(index) {}
    InstancePool* pool_;
    size_t index_;
  };
  // Waits for a free instance.
  Lease acquire();

  // A run on some instance; the outputs are the caller's.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs);
  void run_into(const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs);

 private:
  void release(size_t index);
  Model model_;
  std::vector<std::unique_ptr<detail::ExecutionState>> states_;
  std::atomic<uint64_t> free_;  // bit i: instance i is free
};

}  // namespace sy::aot
