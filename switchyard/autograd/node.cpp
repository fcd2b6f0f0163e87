#include "switchyard/autograd/node.h"

#include <algorithm>
#include <atomic>

#include "switchyard/autograd/autograd_meta.h"
#include "switchyard/autograd/engine.h"
#include "switchyard/ops/creation.h"
#include "switchyard/ops/elementwise.h"
#include "switchyard/ops/shape.h"

namespace sy::autograd {
namespace {

constinit thread_local uint64_t tls_sequence_nr SY_TLS_MODEL = 0;
std::atomic<uint64_t> g_next_hook_id{1};

}  // namespace

uint64_t next_sequence_nr() { return tls_sequence_nr++; }
uint64_t next_hook_id() { return g_next_hook_id.fetch_add(1, std::memory_order_relaxed); }

Tensor InputMetadata::zeros() const {
  return sy::zeros(sizes, TensorOptions().dtype(dtype).device(device));
}

Node::Node() : sequence_nr_(next_sequence_nr()) {}

Node::~Node() = default;

bool Node::task_should_compute_output(size_t i) const {
  const Edge& e = next_edges_[i];
  return e.is_valid() && detail::edge_is_needed(e);
}

uint32_t Node::add_input_metadata(const Tensor& t) {
  input_metadata_.emplace_back(t);
  return static_cast<uint32_t>(input_metadata_.size() - 1);
}

uint32_t Node::add_input_metadata_undefined() {
  input_metadata_.emplace_back();
  return static_cast<uint32_t>(input_metadata_.size() - 1);
}

Node::Hooks& Node::hooks() {
  if (!hooks_) hooks_ = std::make_unique<Hooks>();
  return *hooks_;
}

uint64_t Node::add_tensor_pre_hook(uint32_t input_nr, TensorHook hook) {
  const uint64_t id = next_hook_id();
  hooks().tensor_pre.push_back({input_nr, id, std::move(hook)});
  return id;
}

bool Node::remove_tensor_pre_hook(uint64_t id) {
  if (!hooks_) return false;
  auto& v = hooks_->tensor_pre;
  const auto it = std::find_if(v.begin(), v.end(), [&](const auto& h) { return h.id == id; });
  if (it == v.end()) return false;
  v.erase(it);
  return true;
}

uint64_t Node::add_pre_hook(NodePreHook hook) {
  hooks().pre.push_back(std::move(hook));
  return next_hook_id();
}

uint64_t Node::add_post_hook(NodePostHook hook) {
  hooks().post.push_back(std::move(hook));
  return next_hook_id();
}

void Node::run_tensor_pre_hooks(variable_list& grads) {
  if (!hooks_) return;
  for (const auto& h : hooks_->tensor_pre) {
    Tensor& g = grads[h.input_nr];
    if (!g.defined()) continue;
    Tensor replaced = h.fn(g);
    if (replaced.defined()) g = std::move(replaced);
  }
}

void Node::run_pre_hooks(variable_list& grads) {
  if (!hooks_) return;
  for (const auto& h : hooks_->pre) {
    variable_list replaced = h(grads);
    if (!replaced.empty()) grads = std::move(replaced);
  }
}

void Node::run_post_hooks(const variable_list& inputs, variable_list& outputs) {
  if (!hooks_) return;
  for (const auto& h : hooks_->post) {
    variable_list replaced = h(outputs, inputs);
    if (!replaced.empty()) outputs = std::move(replaced);
  }
}

void Node::set_retains_grad(uint32_t input_nr, AutogradMeta* meta) {
  std::lock_guard<std::mutex> lock(hooks_mutex_);
  auto& v = hooks().retains_grad;
  for (auto& [nr, m] : v) {
    if (nr == input_nr) {
      m = meta;
      return;
    }
  }
  v.emplace_back(input_nr, meta);
}

void Node::clear_retains_grad(uint32_t input_nr, const AutogradMeta* meta) {
  std::lock_guard<std::mutex> lock(hooks_mutex_);
  if (!hooks_) return;
  auto& v = hooks_->retains_grad;
  v.erase(std::remove_if(v.begin(), v.end(),
                         [&](const auto& p) { return p.first == input_nr && p.second == meta; }),
          v.end());
}

bool Node::has_retains_grad() const {
  std::lock_guard<std::mutex> lock(hooks_mutex_);
  return hooks_ && !hooks_->retains_grad.empty();
}

void Node::deliver_retained_grads(const variable_list& grads) {
  std::lock_guard<std::mutex> lock(hooks_mutex_);
  if (!hooks_) return;
  for (auto& [nr, meta] : hooks_->retains_grad) {
    const Tensor& g = grads[nr];
    if (!g.defined()) continue;
    std::lock_guard<std::mutex> grad_lock(meta->mutex);
    meta->grad = meta->grad.defined() ? sy::add(meta->grad, g) : g.clone();
  }
}

}  // namespace sy::autograd
