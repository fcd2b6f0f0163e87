// Ops PyTorch users reach by another name or signature (alias_ops.cpp). var and
// std with `unbiased`, and split with a list of sizes, are ops for Python; C++
// passes correction (1 is unbiased) and split(self, sizes).
#pragma once

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

// Uniform [0, 1) / standard normal samples of self's shape (dtype and device
// self's unless `options` set them).
SY_API Tensor rand_like(const Tensor& self, TensorOptions options = {});
SY_API Tensor randn_like(const Tensor& self, TensorOptions options = {});

}  // namespace sy
