// The nodes the engine itself needs: AccumulateGrad, which adds a leaf's
// gradient into its .grad, and GraphRoot, which hands the root gradients of a
// backward to the nodes of the outputs.
#pragma once

#include "switchyard/autograd/node.h"

namespace sy::autograd {

// A leaf's gradient sink: apply() adds the incoming gradient into the leaf's
// .grad under the leaf's lock, so several threads' backward passes may
// accumulate into one leaf at once. Holds the leaf.
class SY_API AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(Tensor variable);
  variable_list apply(variable_list&& grads) override;
  std::string name() const override { return "AccumulateGrad"; }
  bool is_accumulate_grad() const override { return true; }

  const Tensor& variable() const { return variable_; }
  // Runs the leaf's hooks (registered on the tensor) on `grad`.
  Tensor run_leaf_hooks(Tensor grad) const;

 private:
  Tensor variable_;
};

// Gives each root edge its gradient; the engine's first node.
class SY_API GraphRoot final : public Node {
 public:
  GraphRoot(const std::vector<Edge>& roots, variable_list grads);
  variable_list apply(variable_list&&) override { return grads_; }
  std::string name() const override { return "GraphRoot"; }

 private:
  variable_list grads_;
};

// Adds `new_grad` into `variable`'s grad as PyTorch does: the first gradient
// is taken over when nothing else holds it and its layout matches (else
// copied); later ones add in place when grad mode is off, out of place (with
// history) when it is on. The caller holds the leaf's lock.
SY_API void accumulate_into_grad(const Tensor& variable, Tensor new_grad);

}  // namespace sy::autograd
