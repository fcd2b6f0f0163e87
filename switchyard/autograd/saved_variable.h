// SavedVariable: a tensor a node keeps for its backward formula, with the
// version the tensor's storage had when it was saved. Unpacking checks that no
// in-place op changed it since (the error names the node, the op that made
// the tensor and both versions) and that a backward without retain_graph did
// not free it already.
//
// A node's own output is saved without its grad_fn (the node holding its own
// output's history would be a reference cycle); unpack() gives it back its
// history when grad mode is on (double backward).
#pragma once

#include <cstdint>
#include <memory>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy::autograd {

class Node;

class SY_API SavedVariable {
 public:
  SavedVariable() = default;
  // Saves `t` (undefined is fine: unpack gives it back undefined). `is_output`:
  // t is an output of the node that saves it; `is_inplace`: of an in-place op
  // (which, on a view, rewrote the base's history).
  SavedVariable(const Tensor& t, bool is_output, bool is_inplace = false);

  // The saved tensor. `saved_for` is the node unpacking it (for messages, and
  // as the grad_fn of a saved output). Throws when the tensor was modified in
  // place after it was saved, or freed by an earlier backward.
  Tensor unpack(const Node* saved_for = nullptr) const;
  // Frees the tensor (after a backward that did not retain the graph).
  void reset_data();
  bool defined() const { return was_defined_; }

 private:
  Tensor data_;
  // For an output of an in-place op on a view: the base (an alias without
  // autograd) and its history after the op (its CopySlices, weakly: that
  // holds the saving node). Double backward gives the unpacked tensor that
  // history seen through the view (a new AsStridedBackward0) instead of the
  // saving node, whose first edge goes to the base's old history.
  Tensor view_base_;
  std::weak_ptr<Node> base_fn_;
  // For an output: the node that saved it (weakly: it holds this), which
  // double backward gives the unpacked tensor back as its grad_fn.
  std::weak_ptr<Node> grad_fn_;
  uint32_t base_output_nr_ = 0;
  uint32_t saved_version_ = 0;
  uint32_t output_nr_ = 0;
  bool was_defined_ = false;
  bool is_output_ = false;
  bool requires_grad_ = false;
  bool released_ = false;
};

}  // namespace sy::autograd
