#include "switchyard/decompositions/decompositions.h"

#include <vector>

#include "switchyard/ops/ops.h"

namespace sy::decompositions {

Tensor var_correction(const Tensor& self, std::optional<IntArrayRef> dim, int64_t correction,
                      bool keepdim) {
  std::vector<int64_t> dims;
  int64_t n = 1;
  if (dim && !dim->empty()) {
    for (int64_t d : *dim) {
      const int64_t w = d < 0 ? d + std::max<int64_t>(self.dim(), 1) : d;
      dims.push_back(w);
      n *= self.dim() == 0 ? 1 : self.size(w);
    }
  } else {
    for (int64_t d = 0; d < self.dim(); ++d) dims.push_back(d);
    n = self.numel();
  }
  const Tensor centered = self - self.mean(dims, true);
  return (centered * centered).sum(dims, keepdim) / static_cast<double>(n - correction);
}

}  // namespace sy::decompositions
