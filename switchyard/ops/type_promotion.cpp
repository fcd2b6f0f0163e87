// The result dtype of mixed-type operands.
#include "switchyard/ops/type_promotion.h"

namespace sy {
namespace {

enum class Category { Bool, Integral, Floating };

constexpr Category category(ScalarType t) {
  return t == kBool             ? Category::Bool
         : is_floating_point(t) ? Category::Floating
                                : Category::Integral;
}

std::optional<ScalarType> promote(std::optional<ScalarType> acc, ScalarType t) {
  return acc ? promote_types(*acc, t) : t;
}

// `higher` comes from a higher tier than `lower`; the lower tier wins only by
// bringing a higher category.
std::optional<ScalarType> combine(std::optional<ScalarType> higher,
                                  std::optional<ScalarType> lower) {
  if (!higher) return lower;
  if (!lower) return higher;
  if (category(*lower) > category(*higher)) return lower;
  return higher;
}

}  // namespace

void ResultTypeState::add(const Tensor& t) {
  auto& slot = t.dim() == 0 ? zero_dim_result_ : dim_result_;
  slot = promote(slot, t.dtype());
}

void ResultTypeState::add(const Scalar& s) {
  const ScalarType t = s.is_floating_point() ? kFloat32 : s.type();
  scalar_result_ = promote(scalar_result_, t);
}

ScalarType ResultTypeState::result() const {
  return combine(dim_result_, combine(zero_dim_result_, scalar_result_)).value_or(kFloat32);
}

ScalarType result_type(const Tensor& a, const Tensor& b) {
  ResultTypeState s;
  s.add(a);
  s.add(b);
  return s.result();
}

ScalarType result_type(const Tensor& a, const Scalar& b) {
  ResultTypeState s;
  s.add(a);
  s.add(b);
  return s.result();
}

ScalarType result_type(ArrayRef<Tensor> tensors, ArrayRef<Scalar> scalars) {
  ResultTypeState s;
  for (const Tensor& t : tensors) s.add(t);
  for (const Scalar& x : scalars) s.add(x);
  return s.result();
}

}  // namespace sy
