#include "switchyard/aot/model.h"

#include <bit>

#include <fmt/format.h>

#include "switchyard/aot/compiled_model.h"
#include "switchyard/aot/execution_state.h"
#include "switchyard/core/retire.h"
#include "switchyard/trace/graph_file.h"

namespace sy::aot {
namespace {

// The model this thread ran last and its state: one TLS read on the usual path.
constinit thread_local uint64_t tls_last_model __attribute__((tls_model("initial-exec"))) = 0;
constinit thread_local detail::ExecutionState* tls_last_state
    __attribute__((tls_model("initial-exec"))) = nullptr;

// The calling thread's execution state of each model it has run. An entry
// whose model is gone is never matched again (model ids are never reused) and
// is dropped on the next miss; when the thread ends, each live model gets its
// state back for another thread to reuse.
struct ThreadStates {
  struct Entry {
    uint64_t model_id;
    std::weak_ptr<detail::CompiledModel> model;
    detail::ExecutionState* state;
  };
  std::vector<Entry> entries;
  ~ThreadStates() {
    tls_last_model = 0;  // its state goes back to the model below
    for (Entry& e : entries) {
      if (std::shared_ptr<detail::CompiledModel> m = e.model.lock()) m->release_state(e.state);
    }
  }
};

SY_NOINLINE detail::ExecutionState& find_state(const std::shared_ptr<detail::CompiledModel>& m) {
  thread_local ThreadStates tls;
  detail::ExecutionState* s = nullptr;
  for (const ThreadStates::Entry& e : tls.entries) {
    if (e.model_id == m->id) s = e.state;
  }
  if (s == nullptr) {
    std::erase_if(tls.entries, [](const ThreadStates::Entry& e) { return e.model.expired(); });
    s = m->acquire_state();
    tls.entries.push_back({m->id, m, s});
  }
  tls_last_model = m->id;
  tls_last_state = s;
  return *s;
}

detail::ExecutionState& state_for(const std::shared_ptr<detail::CompiledModel>& m) {
  if (SY_LIKELY(tls_last_model == m->id)) return *tls_last_state;
  return find_state(m);
}

}  // namespace

// ---- BorrowedOutputs ------------------------------------------------------------------------

bool BorrowedOutputs::valid() const { return state_ != nullptr && state_->runs == run_; }

const Tensor& BorrowedOutputs::operator[](size_t i) const {
  SY_CHECK(valid(), ValueError,
           "aot: borrowed output {} was read after the thread that borrowed it ran the model "
           "again (borrowed outputs live in the thread's cache until its next run); copy it "
           "with clone() before the next run, or use run() for outputs you own",
           i);
  SY_CHECK(i < size_, IndexError, "aot: output {} of a model with {} outputs", i, size_);
  return outputs_[i];
}

// ---- Model ----------------------------------------------------------------------------------

Model Model::load(const std::string& path, const CompileOptions& options) {
  return Model(std::make_shared<detail::CompiledModel>(Graph::load(path), options));
}

Model Model::compile(const Graph& graph, const CompileOptions& options) {
  return Model(std::make_shared<detail::CompiledModel>(graph, options));
}

std::vector<std::string> Model::fused_groups() const {
  std::vector<std::string> out;
  for (const detail::FusedGroup& g : impl_->fused) {
    out.push_back(fmt::format("nodes {}-{}: {}", impl_->steps[g.first].node_index,
                              impl_->steps[g.last].node_index, g.describe));
  }
  return out;
}

size_t Model::num_inputs() const { return impl_->inputs.size(); }
const TensorSpec& Model::input(size_t i) const {
  SY_CHECK(i < impl_->inputs.size(), IndexError, "aot::Model: input {} of {}", i,
           impl_->inputs.size());
  return impl_->inputs[i];
}
size_t Model::num_outputs() const { return impl_->outputs.size(); }
const OutputInfo& Model::output(size_t i) const {
  SY_CHECK(i < impl_->outputs.size(), IndexError, "aot::Model: output {} of {}", i,
           impl_->outputs.size());
  return impl_->outputs[i];
}

std::vector<Tensor> Model::run(const std::vector<Tensor>& inputs) const {
  std::vector<Tensor> out;
  out.reserve(impl_->outputs.size());
  state_for(impl_).run(inputs, detail::OutputMode::Copy, &out, nullptr, nullptr);
  return out;
}

BorrowedOutputs Model::run_borrowed(const std::vector<Tensor>& inputs) const {
  BorrowedOutputs out;
  state_for(impl_).run(inputs, detail::OutputMode::Borrow, nullptr, nullptr, &out);
  return out;
}

void Model::run_into(const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs) const {
  state_for(impl_).run(inputs, detail::OutputMode::Into, nullptr, &outputs, nullptr);
}

RunStats Model::this_thread_stats() const {
  const detail::ExecutionState& s = state_for(impl_);
  return {s.runs, s.fused_runs, s.fused_fallbacks};
}

size_t Model::num_weights() const { return impl_->num_weights; }
const TensorSpec& Model::weight(size_t i) const {
  SY_CHECK(i < impl_->num_weights, IndexError, "aot::Model: weight {} of {}", i,
           impl_->num_weights);
  return impl_->weight_specs[i];
}

std::vector<Tensor> Model::weights() const {
  sy::detail::CallScope scope;  // Note [Weight snapshots]
  const detail::WeightSnapshot& s = *impl_->snapshot.load(std::memory_order_acquire);
  return std::vector<Tensor>(s.tensors.begin(), s.tensors.begin() + impl_->num_weights);
}

void Model::swap_weights(const std::vector<Tensor>& weights) const { impl_->swap_weights(weights); }

// ---- InstancePool ---------------------------------------------------------------------------

InstancePool::InstancePool(Model model, size_t instances) : model_(std::move(model)) {
  SY_CHECK(instances >= 1 && instances <= 64, ValueError,
           "aot::InstancePool: between 1 and 64 instances, not {}", instances);
  for (size_t i = 0; i < instances; ++i) {
    states_.push_back(std::make_unique<detail::ExecutionState>(*model_.compiled()));
  }
  free_.store(instances == 64 ? ~uint64_t{0} : (uint64_t{1} << instances) - 1);
}

InstancePool::~InstancePool() = default;

InstancePool::Lease InstancePool::acquire() {
  for (;;) {
    uint64_t f = free_.load(std::memory_order_acquire);
    while (f != 0) {
      const int i = std::countr_zero(f);
      if (free_.compare_exchange_weak(f, f & ~(uint64_t{1} << i), std::memory_order_acquire)) {
        return Lease(this, static_cast<size_t>(i));
      }
    }
    free_.wait(0, std::memory_order_acquire);  // all busy: sleep until one is given back
  }
}

void InstancePool::release(size_t index) {
  free_.fetch_or(uint64_t{1} << index, std::memory_order_release);
  free_.notify_one();
}

std::vector<Tensor> InstancePool::run(const std::vector<Tensor>& inputs) {
  return acquire().run(inputs);
}

void InstancePool::run_into(const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs) {
  acquire().run_into(inputs, outputs);
}

InstancePool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->release(index_);
}

InstancePool::Lease::Lease(Lease&& o) noexcept : pool_(o.pool_), index_(o.index_) {
  o.pool_ = nullptr;
}

std::vector<Tensor> InstancePool::Lease::run(const std::vector<Tensor>& inputs) {
  std::vector<Tensor> out;
  pool_->states_[index_]->run(inputs, detail::OutputMode::Copy, &out, nullptr, nullptr);
  return out;
}

BorrowedOutputs InstancePool::Lease::run_borrowed(const std::vector<Tensor>& inputs) {
  BorrowedOutputs out;
  pool_->states_[index_]->run(inputs, detail::OutputMode::Borrow, nullptr, nullptr, &out);
  return out;
}

void InstancePool::Lease::run_into(const std::vector<Tensor>& inputs,
                                   const std::vector<Tensor>& outputs) {
  pool_->states_[index_]->run(inputs, detail::OutputMode::Into, nullptr, &outputs, nullptr);
}

}  // namespace sy::aot
