// vmap: a function over examples made into a function over batches.
//
//   auto f = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{(in[0] * in[1]).sum()};
//   }; auto dots = sy::func::vmap(f, {0, 0})({xs, ys});   // xs, ys: [B, n] -> [B]
//
// Each input's in_dim (nullopt: not batched, the same tensor for every example)
// becomes the batch dimension of a batched tensor at a new vmap level; the
// function runs once on those; each output's batch dimension is moved to its
// out_dim. vmap nests (each call is its own level) and composes with grad and
// jvp. The Python sy.func.vmap takes nested in_dims/out_dims; see docs/transforms.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"
#include "switchyard/transforms/interpreter.h"

namespace sy::func {

using TensorFunction = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

// `fn` batched over its inputs' `in_dims` (empty: dim 0 of every input), its
// outputs' batch dims put at `out_dims` (empty: 0 for every output).
// Errors (ValueError/IndexError): no batched input, batch sizes that differ,
// an in_dim out of range, an out_dim of nullopt for a batched output.
SY_API TensorFunction vmap(TensorFunction fn, std::vector<std::optional<int64_t>> in_dims = {},
                           std::vector<std::optional<int64_t>> out_dims = {},
                           Randomness randomness = Randomness::Error);

// The building blocks, for bindings that map over nested structures themselves:
// the batch size of `inputs` at `in_dims` (checked as vmap checks it),
SY_API int64_t vmap_batch_size(const std::vector<Tensor>& inputs,
                               const std::vector<std::optional<int64_t>>& in_dims);
// `t`'s dim `in_dim` made the batch dim of `level` (no copy),
SY_API Tensor add_batch_dim(const Tensor& t, int64_t in_dim, const Level& level);
// and a result of `level`'s function with its batch dim moved to `out_dim`
// (an unbatched result is expanded; nullopt keeps an unbatched result as it is).
// Call after the level ended. `index` names the output in messages.
SY_API Tensor remove_batch_dim(const Tensor& t, const Level& level, std::optional<int64_t> out_dim,
                               size_t index = 0);

// How often each op without a batching rule ran vmap's per-example loop, by op name.
SY_API std::map<std::string, int64_t> vmap_fallback_counts();
SY_API void reset_vmap_fallback_counts();
// Whether reaching the loop is an error naming the op instead (process-wide; off by default).
SY_API void set_vmap_fallback_error(bool error);
SY_API bool vmap_fallback_error();

}  // namespace sy::func
