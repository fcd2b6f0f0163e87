// Autograd and ADInplaceOrView kernels for a handful of ops, written by hand
// in the form the op-table generator emits (kernel_support.h), so the engine
// can be tested end to end before the table carries every op's formulas.
// Replaced by the generated kernels once the op table lands.
#include "switchyard/autograd/inplace_or_view.h"
#include "switchyard/autograd/kernel_support.h"
#include "switchyard/dispatch/library.h"
#include "switchyard/ops/ops.h"

namespace sy::autograd::generated {
namespace {

using namespace sy::autograd::detail;  // NOLINT: the generated code's vocabulary

using TT = Tensor(const Tensor&, const Tensor&);
using TTS = Tensor(const Tensor&, const Tensor&, const Scalar&);
using T1 = Tensor(const Tensor&);

// Runs the op below autograd.
template <OpName Name, typename Sig, typename... A>
Tensor below(DispatchKeySet ks, const A&... args) {
  AutoDispatchBelowADInplaceOrView guard;
  return op_handle<Name, Sig>().redispatch(after_autograd(ks), args...);
}

// ---- binary arithmetic ------------------------------------------------------------------

struct AddBackward0 final : Node {
  Scalar alpha;
  std::string name() const override { return "AddBackward0"; }
  variable_list apply(variable_list&& grads) override {
    variable_list out(2);
    const Tensor& grad = grads[0];
    if (!grad.defined()) return out;
    if (task_should_compute_output(0)) out[0] = grad;
    if (task_should_compute_output(1)) out[1] = alpha.to<double>() == 1.0 ? grad : grad * alpha;
    return out;
  }
};

Tensor add_Tensor(DispatchKeySet ks, const Tensor& self, const Tensor& other, const Scalar& alpha) {
  std::shared_ptr<AddBackward0> node;
  if (compute_requires_grad(self, other)) {
    node = make_node<AddBackward0>(self, other);
    node->alpha = alpha;
  }
  Tensor result = below<"sy::add.Tensor", TTS>(ks, self, other, alpha);
  if (node) set_history(result, node);
  if (SY_UNLIKELY(any_has_forward_grad(self, other))) {
    for_each_forward_level(
        [&](uint64_t level) {
          const Tensor self_t = tangent_or_zeros(self, level);
          const Tensor other_t = tangent_or_zeros(other, level);
          set_fw_grad(result, level, self_t + other_t * alpha, "sy::add.Tensor");
        },
        self, other);
  }
  return result;
}

struct SubBackward0 final : Node {
  Scalar alpha;
  std::string name() const override { return "SubBackward0"; }
  variable_list apply(variable_list&& grads) override {
    variable_list out(2);
    const Tensor& grad = grads[0];
    if (!grad.defined()) return out;
    if (task_should_compute_output(0)) out[0] = grad;
    if (task_should_compute_output(1)) out[1] = -(grad * alpha);
    return out;
  }
};

Tensor sub_Tensor(DispatchKeySet ks, const Tensor& self, const Tensor& other, const Scalar& alpha) {
  std::shared_ptr<SubBackward0> node;
  if (compute_requires_grad(self, other)) {
    node = make_node<SubBackward0>(self, other);
    node->alpha = alpha;
  }
  Tensor result = below<"sy::sub.Tensor", TTS>(ks, self, other, alpha);
  if (node) set_history(result, node);
  if (SY_UNLIKELY(any_has_forward_grad(self, other))) {
    for_each_forward_level(
        [&](uint64_t level) {
          set_fw_grad(result, level,
                      tangent_or_zeros(self, level) - tangent_or_zeros(other, level) * alpha,
                      "sy::sub.Tensor");
        },
        self, other);
  }
  return result;
}

struct MulBackward0 final : Node {
  SavedVariable self_, other_;
  std::string name() const override { return "MulBackward0"; }
  void release_variables() override {
    self_.reset_data();
    other_.reset_data();
  }
  variable_list apply(variable_list&& grads) override {
    variable_list out(2);
    const Tensor& grad = grads[0];
    if (!grad.defined()) return out;
    if (task_should_compute_output(0)) out[0] = grad * other_.unpack(this);
    if (task_should_compute_output(1)) out[1] = grad * self_.unpack(this);
    return out;
  }
};

Tensor mul_Tensor(DispatchKeySet ks, const Tensor& self, const Tensor& other) {
  std::shared_ptr<MulBackward0> node;
  if (compute_requires_grad(self, other)) {
    node = make_node<MulBackward0>(self, other);
    if (node->should_compute_output(0)) node->other_ = SavedVariable(other, false);
    if (node->should_compute_output(1)) node->self_ = SavedVariable(self, false);
  }
  Tensor result = below<"sy::mul.Tensor", TT>(ks, self, other);
  if (node) set_history(result, node);
  if (SY_UNLIKELY(any_has_forward_grad(self, other))) {
    for_each_forward_level(
        [&](uint64_t level) {
          set_fw_grad(result, level,
                      tangent_or_zeros(self, level) * other + tangent_or_zeros(other, level) * self,
                      "sy::mul.Tensor");
        },
        self, other);
  }
  return result;
}

struct DivBackward0 final : Node {
  SavedVariable self_, other_;
  std::string name() const override { return "DivBackward0"; }
  void release_variables() override {
    self_.reset_data();
    other_.reset_data();
  }
  variable_list apply(variable_list&& grads) override {
    variable_list out(2);
    const Tensor& grad = grads[0];
    if (!grad.defined()) return out;
    const Tensor other = other_.unpack(this);
    if (task_should_compute_output(0)) out[0] = grad / other;
    if (task_should_compute_output(1)) out[1] = -grad * self_.unpack(this) / (other * other);
    return out;
  }
};

Tensor div_Tensor(DispatchKeySet ks, const Tensor& self, const Tensor& other) {
  std::shared_ptr<DivBackward0> node;
  if (compute_requires_grad(self, other)) {
    node = make_node<DivBackward0>(self, other);
    node->other_ = SavedVariable(other, false);
    if (node->should_compute_output(1)) node->self_ = SavedVariable(self, false);
  }
  Tensor result = below<"sy::div.Tensor", TT>(ks, self, other);
  if (node) set_history(result, node);
  if (SY_UNLIKELY(any_has_forward_grad(self, other))) {
    for_each_forward_level(
        [&](uint64_t level) {
          set_fw_grad(result, level,
                      (tangent_or_zeros(self, level) - tangent_or_zeros(other, level) * result) /
                          other,
                      "sy::div.Tensor");
        },
        self, other);
  }
  return result;
}

// ---- unary ------------------------------------------------------------------------------

struct NegBackward0 final : Node {
  std::string name() const override { return "NegBackward0"; }
  variable_list apply(variable_list&& grads) override {
    if (!grads[0].defined() || !task_should_compute_output(0)) return {Tensor()};
    return {-grads[0]};
  }
};

Tensor neg(DispatchKeySet ks, const Tensor& self) {
  std::shared_ptr<NegBackward0> node;
  if (compute_requires_grad(self)) node = make_node<NegBackward0>(self);
  Tensor result = below<"sy::neg", T1>(ks, self);
  if (node) set_history(result, node);
  if (SY_UNLIKELY(any_has_forward_grad(self))) {
    for_each_forward_level(
        [&](uint64_t level) { set_fw_grad(result, level, -fw_grad(self, level), "sy::neg"); },
        self);
  }
  return result;
}

struct SinBackward0 final : Node {
  SavedVariable self_;
  std::string name() const override { return "SinBackward0"; }
  void release_variables() override { self_.reset_data(); }
  variable_list apply(variable_list&& grads) override {
    if (!grads[0].defined() || !task_should_compute_output(0)) return {Tensor()};
    return {grads[0] * self_.unpack(this).cos()};
  }
};

Tensor sin(DispatchKeySet ks, const Tensor& self) {
  std::shared_ptr<SinBackward0> node;
  if (compute_requires_grad(self)) {
    node = make_node<SinBackward0>(self);
    node->self_ = SavedVariable(self, false);
  }
  Tensor result = below<"sy::sin", T1>(ks, self);
  if (node) set_history(result, node);
  if (SY_UNLIKELY(any_has_forward_grad(self))) {
    for_each_forward_level(
        [&](uint64_t level) {
          set_fw_grad(result, level, fw_grad(self, level) * self.cos(), "sy::sin");
        },
        self);
  }
  return result;
}

struct CosBackward0 final : Node {
  SavedVariable self_;
  std::string name() const override { return "CosBackward0"; }
  void release_variables() override { self_.reset_data(); }
  variable_list apply(variable_list&& grads) override {
    if (!grads[0].defined() || !task_should_compute_output(0)) return {Tensor()};
    return {-(grads[0] * self_.unpack(this).sin())};
  }
};

Tensor cos(DispatchKeySet ks, const Tensor& self) {
  std::shared_ptr<CosBackward0> node;
  if (compute_requires_grad(self)) {
    node = make_node<CosBackward0>(self);
    node->self_ = SavedVariable(self, false);
  }
  Tensor result = below<"sy::cos", T1>(ks, self);
  if (node) set_history(result, node);
  if (SY_UNLIKELY(any_has_forward_grad(self))) {
    for_each_forward_level(
        [&](uint64_t level) {
          set_fw_grad(result, level, -(fw_grad(self, level) * self.sin()), "sy::cos");
        },
        self);
  }
  return result;
}

struct ExpBackward0 final : Node {
  SavedVariable result_;
  std::string name() const override { return "ExpBackward0"; }
  void release_variables() override { result_.reset_data(); }
  variable_list apply(variable_list&& grads) override {
    if (!grads[0].defined() || !task_should_compute_output(0)) return {Tensor()};
    return {grads[0] * result_.unpack(this)};
  }
};

Tensor exp(DispatchKeySet ks, const Tensor& self) {
  std::shared_ptr<ExpBackward0> node;
  if (compute_requires_grad(self)) node = make_node<ExpBackward0>(self);
  Tensor result = below<"sy::exp", T1>(ks, self);
  if (node) {
    set_history(result, node);
    node->result_ = SavedVariable(result, true);
  }
  if (SY_UNLIKELY(any_has_forward_grad(self))) {
    for_each_forward_level(
        [&](uint64_t level) { set_fw_grad(result, level, fw_grad(self, level) * result, "sy::exp"); },
        self);
  }
  return result;
}

struct ReluBackward0 final : Node {
  SavedVariable result_;
  std::string name() const override { return "ReluBackward0"; }
  void release_variables() override { result_.reset_data(); }
  variable_list apply(variable_list&& grads) override {
    if (!grads[0].defined() || !task_should_compute_output(0)) return {Tensor()};
    return {grads[0] * result_.unpack(this).gt(0)};
  }
};

Tensor relu(DispatchKeySet ks, const Tensor& self) {
  std::shared_ptr<ReluBackward0> node;
  if (compute_requires_grad(self)) node = make_node<ReluBackward0>(self);
  Tensor result = below<"sy::relu", T1>(ks, self);
  if (node) {
    set_history(result, node);
    node->result_ = SavedVariable(result, true);
  }
  if (SY_UNLIKELY(any_has_forward_grad(self))) {
    for_each_forward_level(
        [&](uint64_t level) {
          set_fw_grad(result, level, fw_grad(self, level) * result.gt(0), "sy::relu");
        },
        self);
  }
  return result;
}

// sigmoid has a backward formula and no forward formula: forward mode goes
// through its decomposition (decomposition.h).
struct SigmoidBackward0 final : Node {
  SavedVariable result_;
  std::string name() const override { return "SigmoidBackward0"; }
  void release_variables() override { result_.reset_data(); }
  variable_list apply(variable_list&& grads) override {
    if (!grads[0].defined() || !task_should_compute_output(0)) return {Tensor()};
    const Tensor result = result_.unpack(this);
    return {grads[0] * result * (1 - result)};
  }
};

Tensor sigmoid(DispatchKeySet ks, const Tensor& self) {
  if (SY_UNLIKELY(any_has_forward_grad(self))) {
    return decompose_for_forward_ad<Tensor>(op_handle<"sy::sigmoid", T1>(), self);
  }
  std::shared_ptr<SigmoidBackward0> node;
  if (compute_requires_grad(self)) node = make_node<SigmoidBackward0>(self);
  Tensor result = below<"sy::sigmoid", T1>(ks, self);
  if (node) {
    set_history(result, node);
    node->result_ = SavedVariable(result, true);
  }
  return result;
}

// ---- reductions and matrix product --------------------------------------------------------

struct SumBackward0 final : Node {
  DimVector self_sizes;
  std::string name() const override { return "SumBackward0"; }
  variable_list apply(variable_list&& grads) override {
    if (!grads[0].defined() || !task_should_compute_output(0)) return {Tensor()};
    return {grads[0].expand(self_sizes)};
  }
};

Tensor sum(DispatchKeySet ks, const Tensor& self, const std::optional<ScalarType>& dtype) {
  std::shared_ptr<SumBackward0> node;
  if (compute_requires_grad(self)) {
    node = make_node<SumBackward0>(self);
    node->self_sizes = DimVector(self.sizes());
  }
  Tensor result =
      below<"sy::sum", Tensor(const Tensor&, const std::optional<ScalarType>&)>(ks, self, dtype);
  if (node) set_history(result, node);
  if (SY_UNLIKELY(any_has_forward_grad(self))) {
    for_each_forward_level(
        [&](uint64_t level) { set_fw_grad(result, level, fw_grad(self, level).sum(dtype), "sy::sum"); },
        self);
  }
  return result;
}

struct SumBackward1 final : Node {
  DimVector self_sizes;
  std::optional<std::vector<int64_t>> dim;
  bool keepdim = false;
  std::string name() const override { return "SumBackward1"; }
  variable_list apply(variable_list&& grads) override {
    if (!grads[0].defined() || !task_should_compute_output(0)) return {Tensor()};
    Tensor g = grads[0];
    const int64_t n = static_cast<int64_t>(self_sizes.size());
    if (!keepdim && dim && !dim->empty() && n > 0) {
      std::vector<int64_t> dims;
      for (int64_t d : *dim) dims.push_back(d < 0 ? d + n : d);
      std::sort(dims.begin(), dims.end());
      for (int64_t d : dims) g = g.unsqueeze(d);
    } else if (!keepdim && n > 0) {
      for (int64_t d = 0; d < n; ++d) g = g.unsqueeze(0);
    }
    return {g.expand(self_sizes)};
  }
};

using SumDimSig = Tensor(const Tensor&, const std::optional<IntArrayRef>&, bool,
                         const std::optional<ScalarType>&);
Tensor sum_dim_IntList(DispatchKeySet ks, const Tensor& self, const std::optional<IntArrayRef>& dim,
                       bool keepdim, const std::optional<ScalarType>& dtype) {
  std::shared_ptr<SumBackward1> node;
  if (compute_requires_grad(self)) {
    node = make_node<SumBackward1>(self);
    node->self_sizes = DimVector(self.sizes());
    if (dim) node->dim = dim->vec();
    node->keepdim = keepdim;
  }
  Tensor result = below<"sy::sum.dim_IntList", SumDimSig>(ks, self, dim, keepdim, dtype);
  if (node) set_history(result, node);
  if (SY_UNLIKELY(any_has_forward_grad(self))) {
    for_each_forward_level(
        [&](uint64_t level) {
          set_fw_grad(result, level, fw_grad(self, level).sum(dim.value_or(IntArrayRef()), keepdim, dtype),
                      "sy::sum.dim_IntList");
        },
        self);
  }
  return result;
}

struct MmBackward0 final : Node {
  SavedVariable self_, mat2_;
  std::string name() const override { return "MmBackward0"; }
  void release_variables() override {
    self_.reset_data();
    mat2_.reset_data();
  }
  variable_list apply(variable_list&& grads) override {
    variable_list out(2);
    const Tensor& grad = grads[0];
    if (!grad.defined()) return out;
    if (task_should_compute_output(0)) out[0] = grad.mm(mat2_.unpack(this).t());
    if (task_should_compute_output(1)) out[1] = self_.unpack(this).t().mm(grad);
    return out;
  }
};

Tensor mm(DispatchKeySet ks, const Tensor& self, const Tensor& mat2) {
  std::shared_ptr<MmBackward0> node;
  if (compute_requires_grad(self, mat2)) {
    node = make_node<MmBackward0>(self, mat2);
    if (node->should_compute_output(0)) node->mat2_ = SavedVariable(mat2, false);
    if (node->should_compute_output(1)) node->self_ = SavedVariable(self, false);
  }
  Tensor result = below<"sy::mm", TT>(ks, self, mat2);
  if (node) set_history(result, node);
  if (SY_UNLIKELY(any_has_forward_grad(self, mat2))) {
    for_each_forward_level(
        [&](uint64_t level) {
          set_fw_grad(result, level,
                      tangent_or_zeros(self, level).mm(mat2) + self.mm(tangent_or_zeros(mat2, level)),
                      "sy::mm");
        },
        self, mat2);
  }
  return result;
}

// ---- views and copies ---------------------------------------------------------------------

struct ViewBackward0 final : Node {
  DimVector self_sizes;
  std::string name() const override { return "ViewBackward0"; }
  variable_list apply(variable_list&& grads) override {
    if (!grads[0].defined() || !task_should_compute_output(0)) return {Tensor()};
    return {grads[0].reshape(self_sizes)};
  }
};

Tensor view(DispatchKeySet ks, const Tensor& self, IntArrayRef size) {
  std::shared_ptr<ViewBackward0> node;
  if (compute_requires_grad(self)) {
    node = make_node<ViewBackward0>(self);
    node->self_sizes = DimVector(self.sizes());
  }
  Tensor result = below<"sy::view", Tensor(const Tensor&, IntArrayRef)>(ks, self, size);
  if (node) set_history(result, node);
  if (SY_UNLIKELY(any_has_forward_grad(self))) {
    for_each_forward_level(
        [&](uint64_t level) {
          set_fw_grad(result, level, fw_grad(self, level).reshape(result.sizes()), "sy::view");
        },
        self);
  }
  return result;
}

struct SelectBackward0 final : Node {
  DimVector self_sizes;
  int64_t dim = 0, index = 0;
  std::string name() const override { return "SelectBackward0"; }
  variable_list apply(variable_list&& grads) override {
    if (!grads[0].defined() || !task_should_compute_output(0)) return {Tensor()};
    Tensor z = sy::zeros(self_sizes, TensorOptions().dtype(grads[0].dtype()));
    z.select(dim, index).copy_(grads[0]);
    return {z};
  }
};

Tensor select_int(DispatchKeySet ks, const Tensor& self, int64_t dim, int64_t index) {
  std::shared_ptr<SelectBackward0> node;
  if (compute_requires_grad(self)) {
    node = make_node<SelectBackward0>(self);
    node->self_sizes = DimVector(self.sizes());
    node->dim = dim;
    node->index = index;
  }
  Tensor result =
      below<"sy::select.int", Tensor(const Tensor&, int64_t, int64_t)>(ks, self, dim, index);
  if (node) set_history(result, node);
  if (SY_UNLIKELY(any_has_forward_grad(self))) {
    for_each_forward_level(
        [&](uint64_t level) {
          set_fw_grad(result, level, fw_grad(self, level).select(dim, index), "sy::select.int");
        },
        self);
  }
  return result;
}

struct UnsqueezeBackward0 final : Node {
  DimVector self_sizes;
  std::string name() const override { return "UnsqueezeBackward0"; }
  variable_list apply(variable_list&& grads) override {
    if (!grads[0].defined() || !task_should_compute_output(0)) return {Tensor()};
    return {grads[0].reshape(self_sizes)};
  }
};

Tensor unsqueeze(DispatchKeySet ks, const Tensor& self, int64_t dim) {
  std::shared_ptr<UnsqueezeBackward0> node;
  if (compute_requires_grad(self)) {
    node = make_node<UnsqueezeBackward0>(self);
    node->self_sizes = DimVector(self.sizes());
  }
  Tensor result = below<"sy::unsqueeze", Tensor(const Tensor&, int64_t)>(ks, self, dim);
  if (node) set_history(result, node);
  if (SY_UNLIKELY(any_has_forward_grad(self))) {
    for_each_forward_level(
        [&](uint64_t level) {
          set_fw_grad(result, level, fw_grad(self, level).unsqueeze(dim), "sy::unsqueeze");
        },
        self);
  }
  return result;
}

struct TransposeBackward0 final : Node {
  int64_t dim0 = 0, dim1 = 0;
  std::string name() const override { return "TransposeBackward0"; }
  variable_list apply(variable_list&& grads) override {
    if (!grads[0].defined() || !task_should_compute_output(0)) return {Tensor()};
    return {grads[0].transpose(dim0, dim1)};
  }
};

Tensor transpose_int(DispatchKeySet ks, const Tensor& self, int64_t dim0, int64_t dim1) {
  std::shared_ptr<TransposeBackward0> node;
  if (compute_requires_grad(self)) {
    node = make_node<TransposeBackward0>(self);
    node->dim0 = dim0;
    node->dim1 = dim1;
  }
  Tensor result =
      below<"sy::transpose.int", Tensor(const Tensor&, int64_t, int64_t)>(ks, self, dim0, dim1);
  if (node) set_history(result, node);
  if (SY_UNLIKELY(any_has_forward_grad(self))) {
    for_each_forward_level(
        [&](uint64_t level) {
          set_fw_grad(result, level, fw_grad(self, level).transpose(dim0, dim1),
                      "sy::transpose.int");
        },
        self);
  }
  return result;
}

struct ExpandBackward0 final : Node {
  DimVector self_sizes;
  std::string name() const override { return "ExpandBackward0"; }
  variable_list apply(variable_list&& grads) override {
    if (!grads[0].defined() || !task_should_compute_output(0)) return {Tensor()};
    return {sum_to(grads[0], self_sizes)};
  }
};

Tensor expand(DispatchKeySet ks, const Tensor& self, IntArrayRef size, bool implicit) {
  std::shared_ptr<ExpandBackward0> node;
  if (compute_requires_grad(self)) {
    node = make_node<ExpandBackward0>(self);
    node->self_sizes = DimVector(self.sizes());
  }
  Tensor result =
      below<"sy::expand", Tensor(const Tensor&, IntArrayRef, bool)>(ks, self, size, implicit);
  if (node) set_history(result, node);
  if (SY_UNLIKELY(any_has_forward_grad(self))) {
    for_each_forward_level(
        [&](uint64_t level) {
          set_fw_grad(result, level, fw_grad(self, level).expand(result.sizes()), "sy::expand");
        },
        self);
  }
  return result;
}

struct CloneBackward0 final : Node {
  std::string name() const override { return "CloneBackward0"; }
  variable_list apply(variable_list&& grads) override {
    if (!task_should_compute_output(0)) return {Tensor()};
    return {std::move(grads[0])};
  }
};

Tensor clone(DispatchKeySet ks, const Tensor& self) {
  std::shared_ptr<CloneBackward0> node;
  if (compute_requires_grad(self)) node = make_node<CloneBackward0>(self);
  Tensor result = below<"sy::clone", T1>(ks, self);
  if (node) set_history(result, node);
  if (SY_UNLIKELY(any_has_forward_grad(self))) {
    for_each_forward_level(
        [&](uint64_t level) { set_fw_grad(result, level, fw_grad(self, level).clone(), "sy::clone"); },
        self);
  }
  return result;
}

// ---- in-place ---------------------------------------------------------------------------

struct CopyBackwards final : Node {
  std::string name() const override { return "CopyBackwards"; }
  variable_list apply(variable_list&& grads) override {
    variable_list out(2);
    const Tensor& grad = grads[0];
    if (!grad.defined()) return out;
    if (task_should_compute_output(0)) out[0] = sy::zeros_like(grad);
    if (task_should_compute_output(1)) out[1] = grad;
    return out;
  }
};

Tensor copy_(DispatchKeySet ks, const Tensor& self, const Tensor& src, bool non_blocking) {
  const bool requires_grad = compute_requires_grad(self, src);
  check_inplace(self, requires_grad, "sy::copy_");
  std::shared_ptr<CopyBackwards> node;
  if (requires_grad) node = make_node<CopyBackwards>(self, src);
  {
    AutoDispatchBelowADInplaceOrView guard;
    op_handle<"sy::copy_", Tensor(const Tensor&, const Tensor&, bool)>().redispatch(
        after_autograd(ks), self, src, non_blocking);
  }
  if (node) rebase_history(self, node);
  if (SY_UNLIKELY(any_has_forward_grad(self, src))) {
    for_each_forward_level(
        [&](uint64_t level) {
          const Tensor src_t = tangent_or_zeros(src, level);
          set_fw_grad(self, level, src_t.expand(self.sizes()).to(self.dtype()).clone(),
                      "sy::copy_");
        },
        self, src);
  }
  return self;
}

struct AddBackward1 final : Node {  // add_ (in place)
  Scalar alpha;
  std::string name() const override { return "AddBackward0"; }
  variable_list apply(variable_list&& grads) override {
    variable_list out(2);
    const Tensor& grad = grads[0];
    if (!grad.defined()) return out;
    if (task_should_compute_output(0)) out[0] = grad;
    if (task_should_compute_output(1)) out[1] = grad * alpha;
    return out;
  }
};

Tensor add__Tensor(DispatchKeySet ks, const Tensor& self, const Tensor& other,
                   const Scalar& alpha) {
  const bool requires_grad = compute_requires_grad(self, other);
  check_inplace(self, requires_grad, "sy::add_.Tensor");
  std::shared_ptr<AddBackward1> node;
  if (requires_grad) {
    node = make_node<AddBackward1>(self, other);
    node->alpha = alpha;
  }
  const bool forward = any_has_forward_grad(self, other);
  {
    AutoDispatchBelowADInplaceOrView guard;
    op_handle<"sy::add_.Tensor", TTS>().redispatch(after_autograd(ks), self, other, alpha);
  }
  if (node) rebase_history(self, node);
  if (SY_UNLIKELY(forward)) {
    for_each_forward_level(
        [&](uint64_t level) {
          set_fw_grad(self, level,
                      tangent_or_zeros(self, level) + tangent_or_zeros(other, level) * alpha,
                      "sy::add_.Tensor");
        },
        self, other);
  }
  return self;
}

struct MulBackward1 final : Node {  // mul_ (in place)
  SavedVariable original_self_, other_;
  std::string name() const override { return "MulBackward0"; }
  void release_variables() override {
    original_self_.reset_data();
    other_.reset_data();
  }
  variable_list apply(variable_list&& grads) override {
    variable_list out(2);
    const Tensor& grad = grads[0];
    if (!grad.defined()) return out;
    if (task_should_compute_output(0)) out[0] = grad * other_.unpack(this);
    if (task_should_compute_output(1)) out[1] = grad * original_self_.unpack(this);
    return out;
  }
};

Tensor mul__Tensor(DispatchKeySet ks, const Tensor& self, const Tensor& other) {
  const bool requires_grad = compute_requires_grad(self, other);
  check_inplace(self, requires_grad, "sy::mul_.Tensor");
  std::shared_ptr<MulBackward1> node;
  const bool forward = any_has_forward_grad(self, other);
  Tensor original_self;
  if (requires_grad || forward) original_self = self.clone();
  if (requires_grad) {
    node = make_node<MulBackward1>(self, other);
    if (node->should_compute_output(0)) node->other_ = SavedVariable(other, false);
    if (node->should_compute_output(1)) node->original_self_ = SavedVariable(original_self, false);
  }
  {
    AutoDispatchBelowADInplaceOrView guard;
    op_handle<"sy::mul_.Tensor", TT>().redispatch(after_autograd(ks), self, other);
  }
  if (node) rebase_history(self, node);
  if (SY_UNLIKELY(forward)) {
    for_each_forward_level(
        [&](uint64_t level) {
          set_fw_grad(self, level,
                      tangent_or_zeros(self, level) * other +
                          tangent_or_zeros(other, level) * original_self,
                      "sy::mul_.Tensor");
        },
        self, other);
  }
  return self;
}

}  // namespace

SY_LIBRARY_IMPL(sy, Autograd, m) {
  m.impl("add.Tensor", SY_FN(add_Tensor));
  m.impl("sub.Tensor", SY_FN(sub_Tensor));
  m.impl("mul.Tensor", SY_FN(mul_Tensor));
  m.impl("div.Tensor", SY_FN(div_Tensor));
  m.impl("neg", SY_FN(neg));
  m.impl("sin", SY_FN(sin));
  m.impl("cos", SY_FN(cos));
  m.impl("exp", SY_FN(exp));
  m.impl("relu", SY_FN(relu));
  m.impl("sigmoid", SY_FN(sigmoid));
  m.impl("sum", SY_FN(sum));
  m.impl("sum.dim_IntList", SY_FN(sum_dim_IntList));
  m.impl("mm", SY_FN(mm));
  m.impl("view", SY_FN(view));
  m.impl("select.int", SY_FN(select_int));
  m.impl("transpose.int", SY_FN(transpose_int));
  m.impl("unsqueeze", SY_FN(unsqueeze));
  m.impl("expand", SY_FN(expand));
  m.impl("clone", SY_FN(clone));
  m.impl("copy_", SY_FN(copy_));
  m.impl("add_.Tensor", SY_FN(add__Tensor));
  m.impl("mul_.Tensor", SY_FN(mul__Tensor));
}

SY_LIBRARY_IMPL(sy, ADInplaceOrView, m) {
  m.impl("add_.Tensor", &InplaceKernel<"sy::add_.Tensor", TTS, 0>::run);
  m.impl("sub_.Tensor", &InplaceKernel<"sy::sub_.Tensor", TTS, 0>::run);
  m.impl("mul_.Tensor", &InplaceKernel<"sy::mul_.Tensor", TT, 0>::run);
  m.impl("div_.Tensor", &InplaceKernel<"sy::div_.Tensor", TT, 0>::run);
  m.impl("copy_", &InplaceKernel<"sy::copy_", Tensor(const Tensor&, const Tensor&, bool), 0>::run);
  m.impl("fill_", &InplaceKernel<"sy::fill_", Tensor(const Tensor&, const Scalar&), 0>::run);
  m.impl("zero_", &InplaceKernel<"sy::zero_", T1, 0>::run);
  m.impl("view", &ViewKernel<"sy::view", Tensor(const Tensor&, IntArrayRef)>::run);
  m.impl("select.int",
         &ViewKernel<"sy::select.int", Tensor(const Tensor&, int64_t, int64_t)>::run);
  m.impl("transpose.int",
         &ViewKernel<"sy::transpose.int", Tensor(const Tensor&, int64_t, int64_t)>::run);
  m.impl("unsqueeze", &ViewKernel<"sy::unsqueeze", Tensor(const Tensor&, int64_t)>::run);
  m.impl("expand",
         &ViewKernel<"sy::expand", Tensor(const Tensor&, IntArrayRef, bool)>::run);
}

}  // namespace sy::autograd::generated
