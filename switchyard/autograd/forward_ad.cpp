#include "switchyard/autograd/forward_ad.h"

#include <atomic>
#include <vector>

#include "switchyard/autograd/autograd_meta.h"
#include "switchyard/autograd/grad_mode.h"
#include "switchyard/autograd/view_nodes.h"

namespace sy::autograd {

// ---- ForwardGrad ------------------------------------------------------------------------

Tensor ForwardGrad::get(uint64_t level) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [l, t] : tangents_) {
    if (l == level) return t;
  }
  return Tensor();
}

void ForwardGrad::set(uint64_t level, Tensor tangent) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [l, t] : tangents_) {
    if (l == level) {
      t = std::move(tangent);
      return;
    }
  }
  tangents_.emplace_back(level, std::move(tangent));
}

void ForwardGrad::clear(uint64_t level) {
  Tensor dropped;  // released after the lock
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < tangents_.size(); ++i) {
    if (tangents_[i].first != level) continue;
    dropped = std::move(tangents_[i].second);
    if (i + 1 != tangents_.size()) tangents_[i] = std::move(tangents_.back());
    tangents_.pop_back();
    return;
  }
}

void ForwardGrad::clear() {
  detail::SmallVector<std::pair<uint64_t, Tensor>, 1> dropped;
  std::lock_guard<std::mutex> lock(mu_);
  dropped = std::move(tangents_);
}

bool ForwardGrad::empty() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tangents_.empty();
}

void ForwardGrad::add_levels(detail::SmallVector<uint64_t, 2>& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [l, t] : tangents_) {
    bool present = false;
    for (uint64_t o : out) present = present || o == l;
    if (!present) out.push_back(l);
  }
}

namespace {

// ---- levels -----------------------------------------------------------------------------

constexpr int kMaxDepth = 16;

// A fixed-size per-thread stack of level numbers (zero-initialised, no destructor).
struct LevelStack {
  uint64_t levels[kMaxDepth];
  int size;
  bool contains(uint64_t l) const {
    for (int i = 0; i < size; ++i) {
      if (levels[i] == l) return true;
    }
    return false;
  }
};
// Initial-exec: read by every op with a dual input (Note [Zero-initialised thread state]).
constinit thread_local LevelStack tls_entered SY_TLS_MODEL{};
constinit thread_local LevelStack tls_set_aside SY_TLS_MODEL{};
constinit thread_local bool tls_forward_disabled SY_TLS_MODEL = false;

std::atomic<uint64_t> g_next_level{1};

// The tangents each live level holds, to drop when it ends. A small vector of
// live levels (a thread rarely has more than a few) rather than a map, and the
// lists of ended levels are kept for new ones: entering and leaving a level,
// and the first tangent of a tensor at it, allocate nothing in a steady loop.
using HeldTangents = std::vector<std::weak_ptr<ForwardGrad>>;
struct LiveLevel {
  uint64_t level;
  HeldTangents held;
};
struct Registry {
  std::mutex mu;
  std::vector<LiveLevel> live;
  std::vector<HeldTangents> spare;  // empty lists, with their capacity
  static constexpr size_t kMaxSpare = 8;
  static constexpr size_t kMaxSpareCapacity = 1024;  // a larger list is freed
  LiveLevel* find(uint64_t level) {
    for (LiveLevel& l : live) {
      if (l.level == level) return &l;
    }
    return nullptr;
  }
};
Registry& registry() {
  static auto* r = new Registry;  // never destroyed: levels may end during exit
  return *r;
}

uint64_t resolve_level(const char* api, std::optional<uint64_t> level) {
  if (level) return *level;
  const auto current = forward_ad::current_level();
  SY_CHECK(current.has_value(), AutogradError,
           "{}: forward-mode AD is not active on this thread; enter a dual level first "
           "(C++: sy::autograd::forward_ad::DualLevel; Python: with "
           "sy.autograd.forward_ad.dual_level():)",
           api);
  return *current;
}

// Identity in reverse mode: the node of make_dual's and unpack_dual's aliases.
class AliasBackward final : public Node {
 public:
  variable_list apply(variable_list&& grads) override { return {std::move(grads[0])}; }
  std::string name() const override { return "AliasBackward0"; }
};

// An alias of `t` viewing its data, recorded as a differentiable view of it.
Tensor recorded_alias(const Tensor& t) {
  Tensor out = impl::alias_without_autograd(t);
  detail::mark_as_view(t, out);
  if (auto* meta = impl::get_autograd_meta(out); meta != nullptr && meta->view) {
    meta->view->forward_differentiable = false;
  }
  if (GradMode::is_enabled() && t.requires_grad()) {
    auto node = std::make_shared<AliasBackward>();
    node->add_next_edge(impl::gradient_edge(t));
    const uint32_t nr = node->add_input_metadata(out);
    impl::set_gradient_edge(out, std::move(node), nr);
  }
  return out;
}

}  // namespace

namespace forward_ad {

DualLevel::DualLevel() : level_(g_next_level.fetch_add(1, std::memory_order_relaxed)) {
  SY_CHECK(tls_entered.size < kMaxDepth, AutogradError,
           "DualLevel: at most {} dual levels may be entered at once on a thread", kMaxDepth);
  {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    HeldTangents held;
    if (!r.spare.empty()) {
      held = std::move(r.spare.back());
      r.spare.pop_back();
    }
    r.live.push_back({level_, std::move(held)});
  }
  tls_entered.levels[tls_entered.size++] = level_;
}

DualLevel::~DualLevel() {
  HeldTangents held;
  Registry& r = registry();
  {
    std::lock_guard<std::mutex> lock(r.mu);
    if (LiveLevel* l = r.find(level_)) {
      held = std::move(l->held);
      if (l != &r.live.back()) *l = std::move(r.live.back());
      r.live.pop_back();
    }
  }
  for (auto& w : held) {
    if (auto fg = w.lock()) fg->clear(level_);
  }
  held.clear();
  if (held.capacity() != 0 && held.capacity() <= Registry::kMaxSpareCapacity) {
    std::lock_guard<std::mutex> lock(r.mu);
    if (r.spare.size() < Registry::kMaxSpare) r.spare.push_back(std::move(held));
  }
  // Leave this level (and any a misnested inner one left behind).
  for (int i = tls_entered.size; i-- > 0;) {
    if (tls_entered.levels[i] == level_) {
      tls_entered.size = i;
      break;
    }
  }
}

std::optional<uint64_t> current_level() {
  if (tls_entered.size == 0) return std::nullopt;
  return tls_entered.levels[tls_entered.size - 1];
}

Tensor make_dual(const Tensor& primal, const Tensor& tangent, std::optional<uint64_t> level) {
  const uint64_t l = resolve_level("make_dual", level);
  SY_CHECK(primal.defined() && tangent.defined(), AutogradError,
           "make_dual: the primal and the tangent must both be defined tensors");
  SY_CHECK(is_floating_point(primal.dtype()), AutogradError,
           "make_dual: the primal has dtype {}; only floating-point tensors carry tangents",
           to_string(primal.dtype()));
  SY_CHECK(tangent.sizes() == primal.sizes(), AutogradError,
           "make_dual: the tangent has shape {} but the primal has shape {}; they must match",
           to_string(tangent.sizes()), to_string(primal.sizes()));
  SY_CHECK(tangent.dtype() == primal.dtype(), AutogradError,
           "make_dual: the tangent has dtype {} but the primal has dtype {}; they must match",
           to_string(tangent.dtype()), to_string(primal.dtype()));
  SY_CHECK(tangent.device() == primal.device(), AutogradError,
           "make_dual: the tangent is on {} but the primal on {}", tangent.device().str(),
           primal.device().str());
  Tensor out = recorded_alias(primal);
  // Tangents the primal carries at other levels stay on the dual.
  if (detail::has_forward_grad(primal)) {
    detail::SmallVector<uint64_t, 2> levels;
    detail::add_forward_levels(primal, levels);
    for (uint64_t other : levels) {
      if (other != l) detail::set_fw_grad(out, other, detail::fw_grad(primal, other), "make_dual");
    }
  }
  detail::set_fw_grad(out, l, tangent, "make_dual");
  return out;
}

UnpackedDual unpack_dual(const Tensor& t, std::optional<uint64_t> level) {
  SY_CHECK(t.defined(), AutogradError, "unpack_dual: the tensor is undefined");
  const std::optional<uint64_t> l = level ? level : current_level();
  if (!l) return {t, Tensor()};
  Tensor tangent = detail::fw_grad(t, *l);
  if (!tangent.defined()) return {t, Tensor()};
  Tensor primal = recorded_alias(t);
  detail::SmallVector<uint64_t, 2> levels;
  detail::add_forward_levels(t, levels);
  for (uint64_t other : levels) {
    if (other != *l) detail::set_fw_grad(primal, other, detail::fw_grad(t, other), "unpack_dual");
  }
  return {std::move(primal), std::move(tangent)};
}

}  // namespace forward_ad

namespace detail {

bool has_forward_grad(const Tensor& t) {
  if (!t.defined() || !t.impl()->has_forward_grad() || tls_forward_disabled) return false;
  const AutogradMeta* meta = impl::get_autograd_meta(t);
  if (meta == nullptr) return false;
  if (tls_set_aside.size == 0 && meta->forward_grad && !meta->forward_grad->empty()) return true;
  SmallVector<uint64_t, 2> levels;
  add_forward_levels(t, levels);
  return !levels.empty();
}

namespace {

// Whether `tangent` can take `t`'s new tangent in place: laid out as t.
bool laid_out_as(const Tensor& tangent, const Tensor& t) {
  return tangent.defined() && tangent.dtype() == t.dtype() && tangent.sizes() == t.sizes() &&
         tangent.strides() == t.strides();
}

// `dst` (a tangent) takes the values of `src`; the copy computes no tangent at `level`.
void write_tangent(const Tensor& dst, const Tensor& src, uint64_t level) {
  SetAsideLevel aside(level);
  dst.copy_(src);
}

// The tangent of `base` at `level`, laid out as `base` (so that a view's
// geometry applies to it), or undefined. A tangent laid out otherwise (as
// make_dual may have been given) is replaced by such a copy, once.
Tensor tangent_laid_out_as(const Tensor& base, uint64_t level) {
  Tensor tangent = fw_grad(base, level);
  if (!tangent.defined() || laid_out_as(tangent, base)) return tangent;
  Tensor fresh = empty_with_layout_of(base);
  write_tangent(fresh, tangent, level);
  set_fw_grad(base, level, fresh, "forward AD");
  return fresh;
}

}  // namespace

Tensor fw_grad(const Tensor& t, uint64_t level) {
  if (!t.defined() || !t.impl()->has_forward_grad()) return Tensor();
  const AutogradMeta* meta = impl::get_autograd_meta(t);
  if (meta == nullptr) return Tensor();
  if (meta->forward_grad) {
    Tensor own = meta->forward_grad->get(level);
    if (own.defined()) return own;
  }
  // A view without a tangent of its own at `level` carries the region it
  // views of its base's (which the base may have got, through an in-place
  // op, after the view was made), as PyTorch does.
  const Tensor* source = meta->view != nullptr ? meta->view->tangent_source() : nullptr;
  if (source == nullptr) return Tensor();
  const Tensor base_tangent = tangent_laid_out_as(*source, level);
  if (!base_tangent.defined()) return Tensor();
  return ViewGeometry::of(t, *source).apply_to(base_tangent);
}

void set_fw_grad(const Tensor& t, uint64_t level, const Tensor& tangent_in, const char* op) {
  if (!tangent_in.defined()) return;
  Tensor tangent = tangent_in;
  if (tangent.sizes() != t.sizes()) {
    // A formula over broadcast operands may give a tangent that broadcasts to the result.
    try {
      tangent = tangent.expand(t.sizes());
    } catch (const Error&) {
      SY_THROW(AutogradError,
               "{}: the forward formula gave a tangent of shape {} for a result of shape {}", op,
               to_string(tangent_in.sizes()), to_string(t.sizes()));
    }
  }
  AutogradMeta& meta = impl::materialize_autograd_meta(t);
  bool fresh = false;
  if (!meta.forward_grad) {
    meta.forward_grad = std::make_shared<ForwardGrad>();
    fresh = true;
  }
  if (fresh || !meta.forward_grad->get(level).defined()) {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    LiveLevel* live = r.find(level);
    SY_CHECK(live != nullptr, AutogradError,
             "{}: dual level {} is not active (it ended, or was never entered)", op, level);
    live->held.push_back(meta.forward_grad);
  }
  const Tensor stored = tangent.dtype() == t.dtype() ? tangent : tangent.to(t.dtype());
  meta.forward_grad->set(level, stored);
  if (!t.impl()->has_forward_grad_flag()) t.impl()->set_has_forward_grad(true);
}

void set_fw_grad_inplace(const Tensor& self, uint64_t level, const Tensor& tangent,
                         const char* op) {
  if (!tangent.defined()) return;
  const AutogradMeta* meta = impl::get_autograd_meta(self);
  const ViewInfo* view = meta != nullptr ? meta->view.get() : nullptr;
  if (view != nullptr && view->forward_differentiable && view->differentiable) {
    // The view's tangent is the view's region of its base's tangent.
    const Tensor& base = view->forward_base.defined() ? view->forward_base : view->base;
    Tensor base_t = fw_grad(base, level);
    if (!laid_out_as(base_t, base)) {
      Tensor fresh = empty_with_layout_of(base);
      if (base_t.defined()) {
        write_tangent(fresh, base_t, level);
      } else {
        fresh.zero_();
      }
      set_fw_grad(base, level, fresh, op);
      base_t = std::move(fresh);
    }
    const Tensor region = ViewGeometry::of(self, base).apply_to(base_t);
    write_tangent(region, tangent, level);
    set_fw_grad(self, level, region, op);
    return;
  }
  // Not a view: new values go into the tangent self has, when it is its own.
  // A tangent laid out otherwise (say, broadcast from an input's) is replaced
  // by a copy, so that a later in-place op never writes into another tensor's.
  const Tensor existing = fw_grad(self, level);
  if (laid_out_as(existing, self) && self.is_contiguous()) {
    write_tangent(existing, tangent, level);
    return;
  }
  Tensor fresh = empty_with_layout_of(self);
  write_tangent(fresh, tangent.sizes() == self.sizes() ? tangent : tangent.expand(self.sizes()),
                level);
  set_fw_grad(self, level, fresh, op);
}

void add_forward_levels(const Tensor& t, SmallVector<uint64_t, 2>& out) {
  if (!t.defined() || !t.impl()->has_forward_grad() || tls_forward_disabled) return;
  const AutogradMeta* meta = impl::get_autograd_meta(t);
  if (meta == nullptr) return;
  if (meta->forward_grad) {
    SmallVector<uint64_t, 2> all;
    meta->forward_grad->add_levels(all);
    for (uint64_t l : all) {
      if (tls_set_aside.size != 0 && tls_set_aside.contains(l)) continue;
      bool present = false;
      for (uint64_t o : out) present = present || o == l;
      if (!present) out.push_back(l);
    }
  }
  // A view carries its base's levels too (see fw_grad).
  if (meta->view != nullptr) {
    if (const Tensor* source = meta->view->tangent_source()) add_forward_levels(*source, out);
  }
}

SetAsideLevel::SetAsideLevel(uint64_t level) {
  SY_CHECK(tls_set_aside.size < kMaxDepth, AutogradError,
           "forward AD: formulas nested more than {} levels deep", kMaxDepth);
  tls_set_aside.levels[tls_set_aside.size++] = level;
}

SetAsideLevel::~SetAsideLevel() { --tls_set_aside.size; }

ForwardADDisabled::ForwardADDisabled() : saved_(tls_forward_disabled) {
  tls_forward_disabled = true;
}
ForwardADDisabled::~ForwardADDisabled() { tls_forward_disabled = saved_; }

}  // namespace detail
}  // namespace sy::autograd
