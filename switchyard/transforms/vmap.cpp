#include "switchyard/transforms/vmap.h"

#include <fmt/format.h>

#include "switchyard/core/error.h"
#include "switchyard/ops/ops.h"
#include "switchyard/transforms/batched_tensor.h"

namespace sy::func {
namespace {

int64_t wrap_in_dim(int64_t d, int64_t rank, size_t index, const char* what) {
  SY_CHECK(d >= -rank && d < rank, IndexError,
           "vmap: {} {} is {} but that tensor has {} dims (a batch dim must be in [{}, {}))", what,
           index, d, rank, -rank, rank);
  return d < 0 ? d + rank : d;
}

std::optional<int64_t> in_dim_at(const std::vector<std::optional<int64_t>>& in_dims, size_t i) {
  return in_dims.empty() ? std::optional<int64_t>(0) : in_dims[i];
}

}  // namespace

int64_t vmap_batch_size(const std::vector<Tensor>& inputs,
                        const std::vector<std::optional<int64_t>>& in_dims) {
  SY_CHECK(in_dims.empty() || in_dims.size() == inputs.size(), ValueError,
           "vmap: in_dims has {} entries for {} inputs; give one per input (nullopt/None for "
           "an input that is not batched)",
           in_dims.size(), inputs.size());
  std::optional<int64_t> batch;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::optional<int64_t> d = in_dim_at(in_dims, i);
    if (!d) continue;
    SY_CHECK(inputs[i].defined(), ValueError, "vmap: input {} is an undefined tensor", i);
    const int64_t rank = inputs[i].dim();
    const int64_t size = inputs[i].size(wrap_in_dim(*d, rank, i, "in_dim of input"));
    if (!batch) batch = size;
    if (SY_UNLIKELY(*batch != size)) {
      std::string sizes;  // every batched input's size, for the message
      for (size_t j = 0; j <= i; ++j) {
        const std::optional<int64_t> dj = in_dim_at(in_dims, j);
        if (!dj) continue;
        sizes += fmt::format("{}input {}: {} (dim {})", sizes.empty() ? "" : ", ", j,
                             inputs[j].size(wrap_in_dim(*dj, inputs[j].dim(), j, "in_dim")), *dj);
      }
      SY_THROW(ValueError,
               "vmap: the batched inputs have different sizes along their in_dims ({}); every "
               "batched input needs the same batch size",
               sizes);
    }
  }
  SY_CHECK(batch.has_value(), ValueError,
           "vmap: no input is batched (every in_dim is None, or there are no tensor inputs); "
           "give at least one input an in_dim");
  return *batch;
}

Tensor add_batch_dim(const Tensor& t, int64_t in_dim, const Level& level) {
  return make_batched(t, wrap_in_dim(in_dim, t.dim(), 0, "in_dim"), level);
}

Tensor remove_batch_dim(const Tensor& t, const Level& level, std::optional<int64_t> out_dim,
                        size_t index) {
  SY_CHECK(t.defined(), ValueError, "vmap: output {} is an undefined tensor", index);
  const Unwrapped u = unwrap_at(t, level.id);
  if (!out_dim) {
    SY_CHECK(!u.bdim, ValueError,
             "vmap: output {} is batched but its out_dim is None; None is only for outputs that "
             "are the same for every example",
             index);
    return t;
  }
  const int64_t rank = u.value.dim() + (u.bdim ? 0 : 1);
  const int64_t d = wrap_in_dim(*out_dim, rank, index, "out_dim of output");
  if (!u.bdim) {
    std::vector<int64_t> sizes(t.sizes().begin(), t.sizes().end());
    sizes.insert(sizes.begin() + d, level.batch_size);
    return expand(unsqueeze(t, d), sizes);
  }
  if (*u.bdim == d) return u.value;
  std::vector<int64_t> perm;
  for (int64_t i = 0; i < u.value.dim(); ++i) {
    if (i != *u.bdim) perm.push_back(i);
  }
  perm.insert(perm.begin() + d, *u.bdim);
  return permute(u.value, perm);
}

TensorFunction vmap(TensorFunction fn, std::vector<std::optional<int64_t>> in_dims,
                    std::vector<std::optional<int64_t>> out_dims, Randomness randomness) {
  return [fn = std::move(fn), in_dims = std::move(in_dims), out_dims = std::move(out_dims),
          randomness](const std::vector<Tensor>& inputs) {
    const int64_t batch = vmap_batch_size(inputs, in_dims);
    std::vector<Tensor> outputs;
    Level level;
    {
      LevelGuard guard(TransformKind::Vmap, batch, randomness);
      level = guard.level();
      std::vector<Tensor> batched;
      for (size_t i = 0; i < inputs.size(); ++i) {
        const std::optional<int64_t> d = in_dim_at(in_dims, i);
        batched.push_back(d ? add_batch_dim(inputs[i], *d, level) : inputs[i]);
      }
      outputs = fn(batched);
    }
    SY_CHECK(out_dims.empty() || out_dims.size() == outputs.size(), ValueError,
             "vmap: out_dims has {} entries for {} outputs", out_dims.size(), outputs.size());
    for (size_t i = 0; i < outputs.size(); ++i) {
      outputs[i] = remove_batch_dim(outputs[i], level,
                                    out_dims.empty() ? std::optional<int64_t>(0) : out_dims[i], i);
    }
    return outputs;
  };
}

}  // namespace sy::func
