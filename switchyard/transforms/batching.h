// vmap's handling of one op at one level (internal to transforms/): what the
// interpreter calls when an argument is batched at the top visible vmap level.
// See docs/transforms.md, "Batching rules".
#pragma once

#include <cstddef>
#include <memory>

#include "switchyard/dispatch/dispatcher.h"
#include "switchyard/transforms/interpreter.h"

namespace sy::func::detail {

struct OpInfo;
// A batching rule: reads the op's arguments (the top num_arguments entries of
// `stack`, some batched at `level`) and leaves its results there.
using BatchingRule = void (*)(const OperatorHandle& op, const OpInfo& info, const Level& level,
                              Stack* stack);

// What the interpreter needs to know about an op, computed once per definition
// and cached per thread.
struct OpInfo {
  uint32_t generation = 0;
  size_t num_arguments = 0;
  size_t num_returns = 0;
  TagSet tags;
  bool writes_self = false;     // in-place: the first argument is written
  bool composite_only = false;  // a CompositeImplicitAutograd kernel and no backend kernel
  BatchingRule rule = nullptr;
  uint32_t dim_args = 0;  // the table's dims of self for the rule: bit i is argument i
  bool is_dim_arg(size_t i) const { return i < 32 && ((dim_args >> i) & 1U) != 0; }
  std::shared_ptr<const FunctionSchema> schema;
};
const OpInfo& op_info(const OperatorHandle& op);

// Runs `op` at vmap `level`, an argument being batched there: its rule, else its
// composite, else its decomposition, else the per-example loop.
void run_batched(const OperatorHandle& op, const OpInfo& info, const Level& level, Stack* stack);
// A random op at vmap `level` with no argument batched there: applies the level's
// randomness; returns false when the op should simply pass down.
bool run_random_unbatched(const OperatorHandle& op, const OpInfo& info, const Level& level,
                          Stack* stack);

}  // namespace sy::func::detail
