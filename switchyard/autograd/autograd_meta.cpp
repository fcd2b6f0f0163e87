#include "switchyard/autograd/autograd_meta.h"

#include "switchyard/autograd/basic_nodes.h"
#include "switchyard/autograd/forward_ad.h"
#include "switchyard/autograd/view_nodes.h"
#include "switchyard/tensor/small_block.h"

namespace sy::autograd {

static_assert(sizeof(AutogradMeta) <= sy::detail::kMaxSmallBlock);
static_assert(sizeof(ViewInfo) <= sy::detail::kMaxSmallBlock);
void* AutogradMeta::operator new(size_t bytes) { return sy::detail::small_block_alloc(bytes); }
void AutogradMeta::operator delete(void* p, size_t bytes) {
  sy::detail::small_block_free(p, bytes);
}
void* ViewInfo::operator new(size_t bytes) { return sy::detail::small_block_alloc(bytes); }
void ViewInfo::operator delete(void* p, size_t bytes) { sy::detail::small_block_free(p, bytes); }

AutogradMeta::~AutogradMeta() {
  if (retains_grad && grad_fn) grad_fn->clear_retains_grad(output_nr, this);
  if (forward_grad) forward_grad->clear();
}

std::string AutogradMeta::grad_fn_name() const { return grad_fn ? grad_fn->name() : std::string(); }

bool AutogradMeta::base_requires_grad() const {
  return view != nullptr && view->differentiable && view->base.requires_grad();
}

bool AutogradMeta::base_has_forward_grad() const {
  const Tensor* source = view != nullptr ? view->tangent_source() : nullptr;
  return source != nullptr && source->impl()->has_forward_grad();
}

namespace impl {

AutogradMeta& materialize_autograd_meta(const Tensor& t) {
  TensorImpl* impl = t.impl();
  if (auto* meta = static_cast<AutogradMeta*>(impl->autograd_meta())) return *meta;
  // Threads may race to make it (two backward passes reaching one fresh leaf).
  return *static_cast<AutogradMeta*>(impl->install_autograd_meta(std::make_unique<AutogradMeta>()));
}

namespace {
const std::shared_ptr<Node> kNoNode;
}  // namespace

const std::shared_ptr<Node>& grad_fn(const Tensor& t) {
  AutogradMeta* meta = get_autograd_meta(t);
  if (meta == nullptr) return kNoNode;
  if (SY_UNLIKELY(meta->view != nullptr)) refresh_view_grad_fn(t, *meta);
  return meta->grad_fn;
}

std::shared_ptr<Node> grad_accumulator(const Tensor& t) {
  // A view that requires grad only through its base has no accumulator of its
  // own (as in PyTorch: its gradient reaches the base through its grad_fn).
  if (!t.impl()->requires_grad_flag()) return nullptr;
  AutogradMeta* meta = &materialize_autograd_meta(t);
  if (meta->grad_fn) return nullptr;
  std::lock_guard<std::mutex> lock(meta->mutex);
  if (auto existing = meta->grad_accumulator.lock()) return existing;
  auto made =
      std::allocate_shared<AccumulateGrad>(sy::detail::SmallBlockAllocator<AccumulateGrad>(), t);
  meta->grad_accumulator = made;
  return made;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return {};
  const std::shared_ptr<Node>& fn = grad_fn(t);
  if (fn) return Edge(fn, get_autograd_meta(t)->output_nr);
  return Edge(grad_accumulator(t), 0);
}

void set_gradient_edge(const Tensor& t, std::shared_ptr<Node> fn, uint32_t output_nr) {
  AutogradMeta& meta = materialize_autograd_meta(t);
  if (SY_UNLIKELY(meta.retains_grad)) {
    // A retained gradient follows the tensor to its new history.
    if (meta.grad_fn) meta.grad_fn->clear_retains_grad(meta.output_nr, &meta);
    fn->set_retains_grad(output_nr, &meta);
  }
  meta.grad_fn = std::move(fn);
  meta.output_nr = output_nr;
  if (meta.view) meta.view->attr_version = t._version();
  if (!t.impl()->requires_grad_flag()) t.impl()->set_requires_grad(true);
}

bool is_view(const Tensor& t) {
  AutogradMeta* meta = get_autograd_meta(t);
  return meta != nullptr && meta->view != nullptr;
}

Tensor alias_without_autograd(const Tensor& t) {
  return make_view(t, t.sizes(), t.strides(), t.storage_offset());
}

}  // namespace impl
}  // namespace sy::autograd
