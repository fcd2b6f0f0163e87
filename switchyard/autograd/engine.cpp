#include "switchyard/autograd/engine.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <queue>
#include <typeinfo>

#include "switchyard/autograd/autograd_meta.h"
#include "switchyard/autograd/basic_nodes.h"
#include "switchyard/autograd/grad_mode.h"
#include "switchyard/core/thread_local_state.h"
#include "switchyard/ops/elementwise.h"
#include "switchyard/ops/reduction.h"
#include "switchyard/ops/shape.h"
#include "switchyard/parallel/parallel.h"

namespace sy::autograd::detail {
namespace {

// Note [Parallel branches]
// The calling thread walks the graph itself. When it takes a ready node while
// another ready node waits whose gradient has at least kParallelNumel
// elements, it launches a helper task on the inter-op pool (at most
// kMaxHelpers at once per backward). From then on the task's queue and buffers
// are shared under one lock; every thread takes the highest-priority ready
// node, runs it without the lock, and delivers its gradients under the lock.
// The caller never waits for a helper to start: a helper that starts after the
// walk is over finds nothing to do. The caller returns once no node is running.
// Small graphs (the common case) never take the lock.
constexpr int64_t kParallelNumel = 1 << 16;

struct NodeTask {
  Node* node = nullptr;
  // The node itself, held for the work done after the walk (accumulating into
  // a leaf, delivering a retained gradient): kept for nodes that can need it.
  std::shared_ptr<Node> keep;
  int32_t dependencies = 0;
  bool execute = true;      // run apply() (false: only capture)
  bool is_capture = false;  // some captured gradient arrives here
  bool leads_to_capture = false;
  variable_list buffer;
  std::vector<std::pair<uint32_t, uint32_t>> captures;  // (input_nr, capture index)
};

// Node* -> index into the task's nodes; open addressing, sized for few nodes.
class NodeIndex {
 public:
  NodeIndex() : slots_(16, {nullptr, 0}) {}
  // The index of `n`, or -1.
  int64_t find(const Node* n) const {
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash(n) & mask;; i = (i + 1) & mask) {
      if (slots_[i].first == n) return slots_[i].second;
      if (slots_[i].first == nullptr) return -1;
    }
  }
  // Inserts n -> value unless present; returns (index, inserted).
  std::pair<uint32_t, bool> insert(Node* n, uint32_t value) {
    if (2 * (count_ + 1) > slots_.size()) grow();
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash(n) & mask;; i = (i + 1) & mask) {
      if (slots_[i].first == n) return {slots_[i].second, false};
      if (slots_[i].first == nullptr) {
        slots_[i] = {n, value};
        ++count_;
        return {value, true};
      }
    }
  }

 private:
  static size_t hash(const Node* n) {
    return (reinterpret_cast<uintptr_t>(n) >> 4) * 0x9E3779B97F4A7C15ull >> 7;
  }
  void grow() {
    std::vector<std::pair<Node*, uint32_t>> old(slots_.size() * 2, {nullptr, 0});
    old.swap(slots_);
    count_ = 0;
    for (auto& [n, v] : old) {
      if (n != nullptr) insert(n, v);
    }
  }
  std::vector<std::pair<Node*, uint32_t>> slots_;
  size_t count_ = 0;
};

struct ReadyItem {
  uint64_t sequence_nr;
  uint32_t index;
  bool operator<(const ReadyItem& o) const { return sequence_nr < o.sequence_nr; }
};

class GraphTask;
constinit thread_local const GraphTask* tls_current_task SY_TLS_MODEL = nullptr;

class GraphTask : public std::enable_shared_from_this<GraphTask> {
 public:
  explicit GraphTask(bool keep_graph) : keep_graph_(keep_graph) {}

  void build(Node* root, const std::vector<Edge>& capture);
  void run();
  variable_list take_captured() { return std::move(captured_); }
  void apply_deferred();

  bool edge_needed(const Edge& e) const {
    if (!has_exec_info_) return true;
    const int64_t i = index_.find(e.function.get());
    if (i < 0) return false;
    const NodeTask& t = nodes_[static_cast<size_t>(i)];
    return t.execute || t.is_capture;
  }

 private:
  uint32_t index_of(Node* n) {
    auto [i, inserted] = index_.insert(n, static_cast<uint32_t>(nodes_.size()));
    if (inserted) nodes_.push_back(NodeTask{n});
    return i;
  }
  void mark_needed();
  void worker(bool owner);
  // Runs one node; returns the indices of the nodes it made ready. Called
  // without the lock; takes it (when parallel) only around shared state.
  void evaluate(uint32_t index);
  void deliver(Node* fn, variable_list& outputs);
  void push_ready(uint32_t index) { ready_.push({nodes_[index].node->sequence_nr(), index}); }
  void maybe_spawn_helper();

  bool keep_graph_;
  bool has_exec_info_ = false;
  NodeIndex index_;
  // Inline for small graphs: a backward of a few ops allocates little.
  SmallVector<NodeTask, 8> nodes_;
  std::priority_queue<ReadyItem, SmallVector<ReadyItem, 8>> ready_;
  variable_list captured_;
  std::vector<std::pair<std::shared_ptr<Node>, Tensor>> deferred_accumulations_;
  std::vector<std::pair<std::shared_ptr<Node>, variable_list>> deferred_retained_;
  ThreadLocalState state_;

  // See Note [Parallel branches]. Set by the calling thread before it launches
  // the first helper; never cleared.
  std::atomic<bool> parallel_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  int running_ = 0;
  int helpers_ = 0;
  std::exception_ptr error_;
};

void GraphTask::build(Node* root, const std::vector<Edge>& capture) {
  // 1. Dependencies: how many edges lead into each node reachable from the root.
  index_of(root);
  SmallVector<Node*, 16> stack;
  stack.push_back(root);
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next_edges()) {
      if (!e.is_valid()) continue;
      const size_t before = nodes_.size();
      const uint32_t i = index_of(e.function.get());
      nodes_[i].dependencies++;
      if (nodes_.size() != before) {
        if (e.function->is_accumulate_grad() || e.function->has_hooks())
          nodes_[i].keep = e.function;
        stack.push_back(e.function.get());
      }
    }
  }
  if (capture.empty()) return;
  // 2. A grad() call: only what leads to a captured edge runs.
  has_exec_info_ = true;
  captured_.resize(capture.size());
  for (size_t c = 0; c < capture.size(); ++c) {
    const int64_t i = index_.find(capture[c].function.get());
    if (i < 0) continue;  // not reached from the outputs: stays undefined
    NodeTask& t = nodes_[static_cast<size_t>(i)];
    t.is_capture = true;
    t.captures.emplace_back(capture[c].input_nr, static_cast<uint32_t>(c));
  }
  mark_needed();
}

// A node runs when one of its edges leads (through running nodes) to a
// captured edge. Post-order over the graph, iteratively (graphs can be deep).
void GraphTask::mark_needed() {
  std::vector<uint8_t> state(nodes_.size(), 0);  // 0 new, 1 open, 2 done
  std::vector<std::pair<uint32_t, size_t>> stack{{0, 0}};
  state[0] = 1;
  while (!stack.empty()) {
    auto& [i, next] = stack.back();
    Node* n = nodes_[i].node;
    if (next < n->num_outputs()) {
      const Edge& e = n->next_edge(next++);
      if (!e.is_valid()) continue;
      const uint32_t j = static_cast<uint32_t>(index_.find(e.function.get()));
      if (state[j] == 0) {
        state[j] = 1;
        stack.emplace_back(j, 0);
      }
      continue;
    }
    bool leads = false;
    for (const Edge& e : n->next_edges()) {
      if (!e.is_valid()) continue;
      const NodeTask& t = nodes_[static_cast<size_t>(index_.find(e.function.get()))];
      leads = leads || t.is_capture || t.leads_to_capture;
    }
    NodeTask& self = nodes_[i];
    self.leads_to_capture = leads;
    self.execute = leads;
    state[i] = 2;
    stack.pop_back();
  }
}

void GraphTask::maybe_spawn_helper() {
  if (ready_.empty() || helpers_ >= std::max(1, get_num_interop_threads() - 1)) return;
  const NodeTask& next = nodes_[ready_.top().index];
  int64_t numel = 0;
  for (const Tensor& g : next.buffer) {
    if (g.defined()) numel = std::max(numel, g.numel());
  }
  if (numel < kParallelNumel) return;
  parallel_ = true;
  ++helpers_;
  auto self = shared_from_this();
  launch([self] { self->worker(false); });
}

void GraphTask::run() {
  push_ready(0);
  worker(true);
  if (parallel_) {
    // Helpers may still be running nodes after an error stopped the walk.
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return running_ == 0; });
  }
  if (error_) std::rethrow_exception(error_);
}

void GraphTask::worker(bool owner) {
  std::optional<ThreadLocalStateGuard> installed;
  if (!owner) installed.emplace(state_);
  const GraphTask* saved_task = tls_current_task;
  tls_current_task = this;
  struct Restore {
    const GraphTask* saved;
    ~Restore() { tls_current_task = saved; }
  } restore{saved_task};

  std::unique_lock<std::mutex> lock(mu_, std::defer_lock);
  if (parallel_) lock.lock();
  for (;;) {
    if (error_) break;
    if (ready_.empty()) {
      if (owner && running_ > 0) {
        cv_.wait(lock, [&] { return !ready_.empty() || running_ == 0 || error_; });
        continue;
      }
      break;
    }
    const uint32_t index = ready_.top().index;
    ready_.pop();
    ++running_;
    if (owner) {
      const bool was_parallel = parallel_;
      maybe_spawn_helper();
      if (parallel_ && !was_parallel) lock.lock();
    }
    if (lock.owns_lock()) lock.unlock();
    std::exception_ptr failed;
    try {
      evaluate(index);
    } catch (...) {
      failed = std::current_exception();
    }
    if (parallel_) lock.lock();
    --running_;
    if (failed && !error_) error_ = failed;
    if (parallel_) cv_.notify_all();
  }
  if (!owner) {
    --helpers_;
    cv_.notify_all();
  }
}

// Rethrows the exception in flight with the node's name in front of its
// message, keeping its type, for switchyard's own error classes. Any other
// exception, a subclass of those included (a Python exception raised by a
// hook travels as one), passes unchanged, so it reaches its caller as raised.
template <typename E>
bool rethrow_as(const Error& e, const std::string& where) {
  if (typeid(e) != typeid(E)) return false;
  throw E(where + e.what());
}

[[noreturn]] void rethrow_in_node(const Node& n) {
  try {
    throw;
  } catch (const Error& e) {
    const std::string where = "in " + n.name() + " during backward: ";
    rethrow_as<AutogradError>(e, where) || rethrow_as<ValueError>(e, where) ||
        rethrow_as<TypeError>(e, where) || rethrow_as<IndexError>(e, where) ||
        rethrow_as<DispatchError>(e, where) || rethrow_as<SchemaError>(e, where) ||
        rethrow_as<Error>(e, where);
    throw;
  }
}

std::string sizes_str(IntArrayRef s) { return to_string(s); }

// Checks the gradients a node returned against the inputs they go to.
void validate_outputs(const Node& fn, variable_list& outputs) {
  SY_CHECK(outputs.size() == fn.num_outputs(), AutogradError,
           "returned {} gradients, expected {} (one for each input of the forward op)",
           outputs.size(), fn.num_outputs());
  for (size_t i = 0; i < outputs.size(); ++i) {
    Tensor& g = outputs[i];
    const Edge& e = fn.next_edge(i);
    if (!e.is_valid() || !g.defined()) continue;
    const InputMetadata& m = e.function->input_metadata(e.input_nr);
    if (!m.defined) {
      g = Tensor();
      continue;
    }
    if (g.sizes() != m.sizes.ref()) {
      try {
        g = sum_to(g, m.sizes);
      } catch (const AutogradError&) {
        SY_THROW(AutogradError,
                 "returned an invalid gradient at index {}: got shape {} but expected a shape "
                 "that broadcasts to {}",
                 i, sizes_str(g.sizes()), sizes_str(m.sizes));
      }
    }
    SY_CHECK(g.device() == m.device, AutogradError,
             "returned a gradient at index {} on device {}, expected {}", i, g.device().str(),
             m.device.str());
    if (g.dtype() != m.dtype) {
      SY_CHECK(is_floating_point(g.dtype()), AutogradError,
               "returned a gradient of dtype {} at index {}; gradients are floating point ({} "
               "expected)",
               to_string(g.dtype()), i, to_string(m.dtype));
      g = g.to(m.dtype);
    }
  }
}

void GraphTask::evaluate(uint32_t index) {
  std::unique_lock<std::mutex> lock(mu_, std::defer_lock);
  if (parallel_) lock.lock();
  NodeTask& task = nodes_[index];
  Node* fn = task.node;
  variable_list inputs = std::move(task.buffer);
  inputs.resize(fn->num_inputs());
  const bool execute = task.execute;
  const auto captures = task.captures;
  if (lock.owns_lock()) lock.unlock();

  try {
    if (fn->has_hooks()) fn->run_tensor_pre_hooks(inputs);
    if (fn->is_accumulate_grad()) {
      inputs[0] = static_cast<AccumulateGrad*>(fn)->run_leaf_hooks(std::move(inputs[0]));
    }
  } catch (...) {
    rethrow_in_node(*fn);
  }

  if (parallel_) lock.lock();
  for (const auto& [input_nr, c] : captures) captured_[c] = inputs[input_nr];
  if (fn->has_hooks() && fn->has_retains_grad()) {
    SY_CHECK(task.keep != nullptr, AutogradError,
             "{}: a gradient was retained on a tensor during the backward that computes it; "
             "call retain_grad() before backward",
             fn->name());
    deferred_retained_.emplace_back(task.keep, inputs);
  }
  if (!execute) return;
  if (fn->is_accumulate_grad()) {
    if (inputs[0].defined()) deferred_accumulations_.emplace_back(task.keep, std::move(inputs[0]));
    return;
  }
  if (lock.owns_lock()) lock.unlock();

  variable_list outputs;
  try {
    if (fn->has_hooks()) fn->run_pre_hooks(inputs);
    variable_list inputs_for_hooks;
    if (fn->has_hooks()) inputs_for_hooks = inputs;
    outputs = fn->apply(std::move(inputs));
    if (fn->has_hooks()) fn->run_post_hooks(inputs_for_hooks, outputs);
    validate_outputs(*fn, outputs);
  } catch (...) {
    rethrow_in_node(*fn);
  }
  if (!keep_graph_) fn->release_variables();

  if (parallel_) lock.lock();
  deliver(fn, outputs);
}

// Adds each gradient into the buffer of the node it goes to; queues the nodes
// that became ready. Called with the lock held when parallel.
void GraphTask::deliver(Node* fn, variable_list& outputs) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Edge& e = fn->next_edge(i);
    if (!e.is_valid()) continue;
    const int64_t j = index_.find(e.function.get());
    NodeTask& next = nodes_[static_cast<size_t>(j)];
    if (has_exec_info_ && !next.execute && !next.is_capture) continue;
    if (outputs[i].defined()) {
      if (next.buffer.size() < next.node->num_inputs()) next.buffer.resize(next.node->num_inputs());
      Tensor& slot = next.buffer[e.input_nr];
      slot = accumulate(std::move(slot), outputs[i]);
    }
    if (--next.dependencies == 0) push_ready(static_cast<uint32_t>(j));
  }
}

void GraphTask::apply_deferred() {
  for (auto& [fn, grads] : deferred_retained_) fn->deliver_retained_grads(grads);
  for (auto& [fn, grad] : deferred_accumulations_) {
    auto* acc = static_cast<AccumulateGrad*>(fn.get());
    AutogradMeta& meta = impl::materialize_autograd_meta(acc->variable());
    std::lock_guard<std::mutex> lock(meta.mutex);
    accumulate_into_grad(acc->variable(), std::move(grad));
  }
  deferred_retained_.clear();
  deferred_accumulations_.clear();
}

}  // namespace

bool edge_is_needed(const Edge& e) {
  const GraphTask* t = tls_current_task;
  return t == nullptr || t->edge_needed(e);
}

Tensor accumulate(Tensor a, const Tensor& b) {
  if (!a.defined()) return b;
  if (!GradMode::is_enabled() && a.use_count() == 1 && a.impl()->storage()->use_count() == 1 &&
      !a.requires_grad() && a.is_contiguous() && a.sizes() == b.sizes() && a.dtype() == b.dtype()) {
    a.add_(b);
    return a;
  }
  return sy::add(a, b);
}

Tensor sum_to(const Tensor& grad, IntArrayRef sizes) {
  const IntArrayRef g = grad.sizes();
  SY_CHECK(g.size() >= sizes.size(), AutogradError, "sum_to: shape {} does not broadcast from {}",
           to_string(g), to_string(sizes));
  const size_t lead = g.size() - sizes.size();
  std::vector<int64_t> dims;
  for (size_t d = 0; d < lead; ++d) dims.push_back(static_cast<int64_t>(d));
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == g[lead + d]) continue;
    SY_CHECK(sizes[d] == 1, AutogradError, "sum_to: shape {} does not broadcast from {}",
             to_string(g), to_string(sizes));
    dims.push_back(static_cast<int64_t>(lead + d));
  }
  if (dims.empty()) return grad;
  return sy::sum(grad, dims, /*keepdim=*/true).reshape(sizes);
}

variable_list run_backward(const std::vector<Edge>& roots, variable_list root_grads,
                           bool keep_graph, bool create_graph, const std::vector<Edge>& capture,
                           bool write_grads) {
  AutoGradMode grad_mode(create_graph);
  auto task = std::make_shared<GraphTask>(keep_graph);
  GraphRoot root(roots, std::move(root_grads));
  task->build(&root, capture);
  task->run();
  if (write_grads) task->apply_deferred();
  return task->take_captured();
}

}  // namespace sy::autograd::detail
