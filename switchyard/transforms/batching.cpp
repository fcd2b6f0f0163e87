// Batching rules and vmap's fallback. Each rule unwraps the arguments batched at
// its level, calls ops on their values one level down (PassDown), and wraps the
// results again. See docs/transforms.md, "Batching rules".
#include "switchyard/transforms/batching.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <map>
#include <mutex>
#include <set>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

#include "switchyard/core/error.h"
#include "switchyard/core/warning.h"
#include "switchyard/decompositions/registry.h"
#include "switchyard/ops/ops.h"
#include "switchyard/transforms/batched_tensor.h"
#include "switchyard/transforms/vmap.h"

namespace sy::func {
namespace detail {
namespace {

// ---- helpers ----------------------------------------------------------------------

int64_t logical_dim(const Unwrapped& u) { return u.value.dim() - (u.bdim ? 1 : 0); }

// `u`'s value with the batch dimension first (a view). Call under PassDown.
Tensor batch_first(const Unwrapped& u) {
  if (!u.bdim || *u.bdim == 0) return u.value;
  std::vector<int64_t> perm;
  perm.push_back(*u.bdim);
  for (int64_t d = 0; d < u.value.dim(); ++d) {
    if (d != *u.bdim) perm.push_back(d);
  }
  return permute(u.value, perm);
}

// A batch-first value given `rank` logical dims by inserting size-1 dims after
// the batch dimension, so that it broadcasts against the other arguments.
Tensor pad_logical(Tensor v, int64_t from_rank, int64_t rank) {
  for (int64_t i = from_rank; i < rank; ++i) v = unsqueeze(v, 1);
  return v;
}

// An unbatched tensor repeated (expanded, no copy) over a batch of `b`.
Tensor expand_batch(const Tensor& t, int64_t b) {
  std::vector<int64_t> sizes{b};
  for (int64_t s : t.sizes()) sizes.push_back(s);
  return expand(unsqueeze(t, 0), sizes);
}

int64_t wrap_dim(int64_t d, int64_t rank, const OperatorHandle& op) {
  const int64_t r = std::max<int64_t>(rank, 1);
  SY_CHECK(d >= -r && d < r, IndexError,
           "{}: dimension {} is out of range for a tensor of {} dims (inside vmap, the batch "
           "dimension is not counted)",
           op.name(), d, rank);
  return d < 0 ? d + r : d;
}

size_t first_arg(const Stack& stack, const OpInfo& info) {
  return stack.size() - info.num_arguments;
}

// Wraps the tensor results (the top num_returns entries) as batched at bdim 0;
// an in-place op's first result is its (already batched) self.
void wrap_results(const OpInfo& info, const Level& level, Stack* stack, const Tensor* self) {
  const size_t first = stack->size() - info.num_returns;
  for (size_t j = 0; j < info.num_returns; ++j) {
    IValue& r = (*stack)[first + j];
    if (j == 0 && self != nullptr) {
      r = *self;
    } else if (r.is_tensor()) {
      r = make_batched(r.to_tensor(), 0, level);
    } else if (r.is_tensor_list()) {
      std::vector<Tensor> out;
      for (const Tensor& t : r.to_tensor_list()) out.push_back(make_batched(t, 0, level));
      r = std::move(out);
    }
  }
}

[[noreturn]] void throw_unbatched_self(const OperatorHandle& op, const Level& level) {
  SY_THROW(ValueError,
           "{}: vmap(level {}) would write a batched value into an unbatched tensor ({}): the "
           "tensor written in place is the same for every example, the value differs. Write "
           "into a batched tensor (e.g. x.expand(...).clone() inside the function), or use the "
           "out-of-place op",
           op.name(), level.number, describe_transform_stack());
}

void run_loop(const OperatorHandle& op, const OpInfo& info, const Level& level, Stack* stack);

// ---- rules ------------------------------------------------------------------------

// Pointwise and broadcasting ops (tag pointwise, and ops that keep their
// input's shape): batch dims first, logical dims aligned by size-1 padding.
void pointwise_rule(const OperatorHandle& op, const OpInfo& info, const Level& level,
                    Stack* stack) {
  const size_t first = first_arg(*stack, info);
  const size_t n = info.num_arguments;
  std::vector<Unwrapped> us(n);
  int64_t rank = 0;
  for (size_t i = 0; i < n; ++i) {
    const IValue& a = (*stack)[first + i];
    if (!a.is_tensor()) continue;
    us[i] = unwrap_at(a.to_tensor_ref(), level.id);
    rank = std::max(rank, logical_dim(us[i]));
  }
  Tensor self;
  if (info.writes_self) {
    if (!us[0].bdim) throw_unbatched_self(op, level);
    self = (*stack)[first].to_tensor();
  }
  PassDown down;
  for (size_t i = 0; i < n; ++i) {
    if (!us[i].bdim) continue;
    (*stack)[first + i] = pad_logical(batch_first(us[i]), logical_dim(us[i]), rank);
  }
  op.call_boxed(*stack);
  wrap_results(info, level, stack, info.writes_self ? &self : nullptr);
}

// Ops taking dims of `self` (reductions over a dim, views that take dims): the
// dims shifted past the batch dimension; an absent dim list means every logical dim.
void dims_rule(const OperatorHandle& op, const OpInfo& info, const Level& level, Stack* stack);

// Full reductions (sum, prod, max, min, any, all): the value flattened per
// example, reduced over dim 1.
void full_reduction_rule(const OperatorHandle& op, const OpInfo& info, const Level& level,
                         Stack* stack) {
  const std::string_view name = op.name();
  if (name != "sy::sum" && name != "sy::prod" && name != "sy::max" && name != "sy::min" &&
      name != "sy::any" && name != "sy::all") {
    run_loop(op, info, level, stack);  // a table entry naming this rule for another op
    return;
  }
  const size_t first = first_arg(*stack, info);
  const Unwrapped u = unwrap_at((*stack)[first].to_tensor_ref(), level.id);
  std::optional<ScalarType> dtype;
  if (info.num_arguments > 1 && (*stack)[first + 1].is_scalar_type()) {
    dtype = (*stack)[first + 1].to_scalar_type();
  }
  PassDown down;
  Tensor v = batch_first(u);
  v = logical_dim(u) == 0 ? unsqueeze(v, 1) : flatten(v, 1);
  Tensor r;
  if (name == "sy::sum") {
    r = sum(v, {1}, false, dtype);
  } else if (name == "sy::prod") {
    r = prod(v, 1, false, dtype);
  } else if (name == "sy::max") {
    r = std::get<0>(max(v, 1));
  } else if (name == "sy::min") {
    r = std::get<0>(min(v, 1));
  } else if (name == "sy::any") {
    r = any(v, 1);
  } else {
    r = all(v, 1);
  }
  stack->resize(first);
  stack->push_back(make_batched(std::move(r), 0, level));
}

bool is_optional_list(const SchemaType& t) {
  return t.kind() == SchemaType::Kind::Optional && t.elem().kind() == SchemaType::Kind::List;
}

void dims_rule(const OperatorHandle& op, const OpInfo& info, const Level& level, Stack* stack) {
  const size_t first = first_arg(*stack, info);
  const Unwrapped u = unwrap_at((*stack)[first].to_tensor_ref(), level.id);
  const int64_t rank = logical_dim(u);
  bool others_batched = false;
  for (size_t i = 1; i < info.num_arguments; ++i) {
    const IValue& a = (*stack)[first + i];
    if (a.is_tensor() && unwrap_at(a.to_tensor_ref(), level.id).bdim) others_batched = true;
  }
  // A batched index, or a dim of a 0-dim value: per example.
  if (!u.bdim || others_batched || rank == 0) {
    run_loop(op, info, level, stack);
    return;
  }
  Tensor self;
  if (info.writes_self) self = (*stack)[first].to_tensor();
  const auto& args = info.schema->arguments();
  PassDown down;
  Tensor v = batch_first(u);
  for (size_t i = 1; i < args.size(); ++i) {
    if (!info.is_dim_arg(i)) continue;
    IValue& a = (*stack)[first + i];
    if (a.is_int()) {
      a = wrap_dim(a.to_int(), rank, op) + 1;
    } else if (a.is_int_list() && !a.to_int_list().empty()) {
      std::vector<int64_t> dims;
      for (int64_t d : a.to_int_list()) dims.push_back(wrap_dim(d, rank, op) + 1);
      a = std::move(dims);
    } else if (a.is_int_list() || (a.is_none() && is_optional_list(args[i].type))) {
      std::vector<int64_t> dims;  // every logical dim
      for (int64_t d = 1; d <= rank; ++d) dims.push_back(d);
      a = std::move(dims);
    } else if (a.is_none()) {  // int? dim=None: over the flattened example
      v = flatten(v, 1);
      a = int64_t{1};
    }
  }
  (*stack)[first] = v;
  op.call_boxed(*stack);
  wrap_results(info, level, stack, info.writes_self ? &self : nullptr);
}

void unsqueeze_rule(const OperatorHandle& op, const OpInfo& info, const Level& level,
                    Stack* stack) {
  const size_t first = first_arg(*stack, info);
  const Unwrapped u = unwrap_at((*stack)[first].to_tensor_ref(), level.id);
  const int64_t d = wrap_dim((*stack)[first + 1].to_int(), logical_dim(u) + 1, op);
  PassDown down;
  Tensor r = unsqueeze(batch_first(u), d + 1);
  stack->resize(first);
  stack->push_back(make_batched(std::move(r), 0, level));
}

void squeeze_all_rule(const OperatorHandle&, const OpInfo& info, const Level& level, Stack* stack) {
  const size_t first = first_arg(*stack, info);
  const Unwrapped u = unwrap_at((*stack)[first].to_tensor_ref(), level.id);
  PassDown down;
  Tensor v = batch_first(u);
  for (int64_t d = v.dim() - 1; d >= 1; --d) {
    if (v.size(d) == 1) v = squeeze(v, d);
  }
  stack->resize(first);
  stack->push_back(make_batched(std::move(v), 0, level));
}

void permute_rule(const OperatorHandle& op, const OpInfo& info, const Level& level, Stack* stack) {
  const size_t first = first_arg(*stack, info);
  const Unwrapped u = unwrap_at((*stack)[first].to_tensor_ref(), level.id);
  const int64_t rank = logical_dim(u);
  std::vector<int64_t> dims{0};
  for (int64_t d : (*stack)[first + 1].to_int_list()) dims.push_back(wrap_dim(d, rank, op) + 1);
  PassDown down;
  Tensor r = permute(batch_first(u), dims);
  stack->resize(first);
  stack->push_back(make_batched(std::move(r), 0, level));
}

// view(self, size) and expand(self, size, implicit): the batch size prepended.
void sized_view_rule(const OperatorHandle& op, const OpInfo& info, const Level& level,
                     Stack* stack) {
  const size_t first = first_arg(*stack, info);
  const Unwrapped u = unwrap_at((*stack)[first].to_tensor_ref(), level.id);
  const std::vector<int64_t> size = (*stack)[first + 1].to_int_list();
  PassDown down;
  Tensor v = batch_first(u);
  if (op.name() == "sy::expand") {
    v = pad_logical(v, logical_dim(u), static_cast<int64_t>(size.size()));
  }
  std::vector<int64_t> sizes{v.size(0)};
  sizes.insert(sizes.end(), size.begin(), size.end());
  (*stack)[first] = v;
  (*stack)[first + 1] = std::move(sizes);
  op.call_boxed(*stack);
  wrap_results(info, level, stack, nullptr);
}

// mm: one mm over the rows of every example when one side is shared, bmm when
// both are batched.
void mm_rule(const OperatorHandle&, const OpInfo& info, const Level& level, Stack* stack) {
  const size_t first = first_arg(*stack, info);
  const Unwrapped a = unwrap_at((*stack)[first].to_tensor_ref(), level.id);
  const Unwrapped b = unwrap_at((*stack)[first + 1].to_tensor_ref(), level.id);
  PassDown down;
  Tensor r;
  int64_t bdim = 0;
  if (a.bdim && b.bdim) {
    // bmm multiplies small matrices (per-example rows times matrices, and their
    // gradients' outer products) by direct loops, not one BLAS call each.
    r = bmm(batch_first(a), batch_first(b));
  } else if (a.bdim) {  // [B, n, k] @ [k, m]: the rows of every example at once
    const Tensor av = batch_first(a);
    const int64_t batch = av.size(0), n = av.size(1);
    r = mm(av.reshape({batch * n, av.size(2)}), b.value).view({batch, n, b.value.size(1)});
  } else {  // [n, k] @ [B, k, m]: the columns of every example at once, batch in dim 1
    const Tensor bv = batch_first(b);
    const int64_t batch = bv.size(0), k = bv.size(1), m = bv.size(2);
    r = mm(a.value, permute(bv, {1, 0, 2}).reshape({k, batch * m}))
            .view({a.value.size(0), batch, m});
    bdim = 1;
  }
  stack->resize(first);
  stack->push_back(make_batched(std::move(r), bdim, level));
}

// bmm: matmul of the batch-first values broadcasts an unbatched operand.
void bmm_rule(const OperatorHandle&, const OpInfo& info, const Level& level, Stack* stack) {
  const size_t first = first_arg(*stack, info);
  const Unwrapped a = unwrap_at((*stack)[first].to_tensor_ref(), level.id);
  const Unwrapped b = unwrap_at((*stack)[first + 1].to_tensor_ref(), level.id);
  PassDown down;
  Tensor r = matmul(batch_first(a), batch_first(b));
  stack->resize(first);
  stack->push_back(make_batched(std::move(r), 0, level));
}

void dot_rule(const OperatorHandle&, const OpInfo& info, const Level& level, Stack* stack) {
  const size_t first = first_arg(*stack, info);
  const Unwrapped a = unwrap_at((*stack)[first].to_tensor_ref(), level.id);
  const Unwrapped b = unwrap_at((*stack)[first + 1].to_tensor_ref(), level.id);
  PassDown down;
  Tensor r = sum(mul(batch_first(a), batch_first(b)), {-1});
  stack->resize(first);
  stack->push_back(make_batched(std::move(r), 0, level));
}

// addmm(self, mat1, mat2, *, beta, alpha) = beta * self + alpha * mat1 @ mat2.
void addmm_rule(const OperatorHandle&, const OpInfo& info, const Level& level, Stack* stack) {
  const size_t first = first_arg(*stack, info);
  const Unwrapped s = unwrap_at((*stack)[first].to_tensor_ref(), level.id);
  const Unwrapped a = unwrap_at((*stack)[first + 1].to_tensor_ref(), level.id);
  const Unwrapped b = unwrap_at((*stack)[first + 2].to_tensor_ref(), level.id);
  const Scalar beta = (*stack)[first + 3].to_scalar();
  const Scalar alpha = (*stack)[first + 4].to_scalar();
  PassDown down;
  Tensor r = matmul(batch_first(a), batch_first(b));
  if (!(alpha.to<double>() == 1.0)) r = mul(r, alpha);
  if (!(beta.to<double>() == 0.0)) {
    Tensor sv = s.bdim ? pad_logical(batch_first(s), logical_dim(s), 2) : s.value;
    r = add(r, beta.to<double>() == 1.0 ? sv : mul(sv, beta));
  }
  if (!a.bdim && !b.bdim && (!s.bdim || beta.to<double>() == 0.0)) {
    r = expand_batch(r, level.batch_size);
  }
  stack->resize(first);
  stack->push_back(make_batched(std::move(r), 0, level));
}

// cat(tensors, dim): every tensor batch-first, unbatched ones expanded.
void cat_rule(const OperatorHandle& op, const OpInfo& info, const Level& level, Stack* stack) {
  const size_t first = first_arg(*stack, info);
  const std::vector<Tensor> ts = (*stack)[first].to_tensor_list();
  std::vector<Unwrapped> us;
  int64_t rank = 0;
  for (const Tensor& t : ts) {
    // cat skips 1-dim empty tensors whatever the others' rank (as PyTorch);
    // with a batch dimension they would not be 1-dim any more.
    if (t.dim() == 1 && t.numel() == 0) continue;
    us.push_back(unwrap_at(t, level.id));
    rank = std::max(rank, logical_dim(us.back()));
  }
  const int64_t d = wrap_dim((*stack)[first + 1].to_int(), rank, op);
  PassDown down;
  std::vector<Tensor> vs;
  for (const Unwrapped& u : us) {
    vs.push_back(u.bdim ? batch_first(u) : expand_batch(u.value, level.batch_size));
  }
  Tensor r = cat(vs, d + 1);
  stack->resize(first);
  stack->push_back(make_batched(std::move(r), 0, level));
}

// gather, scatter: self and index have the same rank; unbatched ones expanded.
void indexed_dims_rule(const OperatorHandle& op, const OpInfo& info, const Level& level,
                       Stack* stack) {
  const size_t first = first_arg(*stack, info);
  const size_t n = info.num_arguments;
  std::vector<Unwrapped> us(n);
  for (size_t i = 0; i < n; ++i) {
    const IValue& a = (*stack)[first + i];
    if (a.is_tensor()) us[i] = unwrap_at(a.to_tensor_ref(), level.id);
  }
  Tensor self;
  if (info.writes_self) {
    if (!us[0].bdim) throw_unbatched_self(op, level);
    self = (*stack)[first].to_tensor();
  }
  const int64_t rank = logical_dim(us[0]);
  const int di = info.dim_args == 0 ? -1 : std::countr_zero(info.dim_args);
  if (rank == 0 || di < 0) {
    run_loop(op, info, level, stack);
    return;
  }
  PassDown down;
  for (size_t i = 0; i < n; ++i) {
    if (!us[i].value.defined()) continue;
    (*stack)[first + i] =
        us[i].bdim ? batch_first(us[i]) : expand_batch(us[i].value, level.batch_size);
  }
  IValue& d = (*stack)[first + di];
  d = wrap_dim(d.to_int(), rank, op) + 1;
  op.call_boxed(*stack);
  wrap_results(info, level, stack, info.writes_self ? &self : nullptr);
}

// masked_fill_(self, mask, value): a batched 0-dim value cannot broadcast as
// the op requires; per example then.
void masked_fill_rule(const OperatorHandle& op, const OpInfo& info, const Level& level,
                      Stack* stack) {
  const IValue& value = (*stack)[first_arg(*stack, info) + 2];
  if (value.is_tensor() && unwrap_at(value.to_tensor_ref(), level.id).bdim) {
    run_loop(op, info, level, stack);
  } else {
    pointwise_rule(op, info, level, stack);
  }
}

// out= overloads write into a caller's tensor: not batched.
void out_rule(const OperatorHandle& op, const OpInfo&, const Level& level, Stack*) {
  SY_THROW(ValueError,
           "{}: out= overloads are not supported inside vmap(level {}) ({}); call the "
           "functional op and assign its result",
           op.name(), level.number, describe_transform_stack());
}

// The op table's rules (its batching: fields, and those inferred from its tags:
// tools/opgen/batching.py), by op name.
struct TableRule {
  std::string_view op;
  BatchingRule rule;
  uint32_t dim_args;  // bit i: argument i is a dim of self, shifted past the batch dim
};
#include "switchyard/transforms/generated/batching_rules.h"

const std::unordered_map<std::string_view, const TableRule*>& table_rules() {
  static const std::unordered_map<std::string_view, const TableRule*> rules = [] {
    std::unordered_map<std::string_view, const TableRule*> m;
    for (const TableRule& r : kTableRules) m.emplace(r.op, &r);
    return m;
  }();
  return rules;
}

// ---- the per-example loop -------------------------------------------------------

struct FallbackStats {
  std::mutex mu;
  std::map<std::string, int64_t> counts;
  std::set<std::string> warned;
};
FallbackStats& stats() {
  static auto* s = new FallbackStats;  // never destroyed: used from static destructors
  return *s;
}
std::atomic<bool> fallback_is_error{false};

void note_fallback(const OperatorHandle& op, const Level& level) {
  SY_CHECK(!fallback_is_error.load(std::memory_order_relaxed), ValueError,
           "{}: there is no batching rule for this op inside vmap(level {}) ({}), and the "
           "per-example fallback is switched off (set_vmap_fallback_error(true)); switch it on "
           "again, or add a rule (docs/transforms.md)",
           op.name(), level.number, describe_transform_stack());
  bool first_time = false;
  {
    FallbackStats& s = stats();
    std::lock_guard lock(s.mu);
    ++s.counts[op.name()];
    first_time = s.warned.insert(op.name()).second;
  }
  if (first_time) {
    warn(
        fmt::format("vmap: {} has no batching rule; it runs once per example (slower). "
                    "sy.func.vmap_fallback_counts() counts these calls",
                    op.name()));
  }
}

void run_loop(const OperatorHandle& op, const OpInfo& info, const Level& level, Stack* stack) {
  note_fallback(op, level);
  const size_t first = first_arg(*stack, info);
  const size_t n = info.num_arguments;
  const auto& args = info.schema->arguments();
  std::vector<IValue> in(stack->begin() + static_cast<ptrdiff_t>(first), stack->end());
  std::vector<Unwrapped> us(n);
  std::vector<std::vector<Unwrapped>> lists(n);
  bool any_written_batched = false;
  for (size_t i = 0; i < n; ++i) {
    if (in[i].is_tensor()) {
      us[i] = unwrap_at(in[i].to_tensor_ref(), level.id);
      const bool written = args[i].alias && args[i].alias->is_write;
      if (written && !us[i].bdim) throw_unbatched_self(op, level);
      any_written_batched |= written;
    } else if (in[i].is_tensor_list()) {
      for (const Tensor& t : in[i].to_tensor_list()) lists[i].push_back(unwrap_at(t, level.id));
    }
  }
  for (const Return& r : info.schema->returns()) {
    SY_CHECK(r.type.is_tensor(), ValueError,
             "{}: returns a {} and has no batching rule; vmap(level {}) can batch only tensor "
             "results",
             op.name(), r.type.to_string(), level.number);
  }
  const int64_t batch = level.batch_size;
  std::vector<std::vector<Tensor>> results(info.num_returns);
  stack->resize(first);
  {
    PassDown down;
    const int64_t runs = batch == 0 ? 1 : batch;
    for (int64_t b = 0; b < runs; ++b) {
      for (size_t i = 0; i < n; ++i) {
        if (us[i].bdim) {
          // A batch of none: one example of zeros, to learn the results' shapes.
          stack->push_back(batch == 0 ? zeros(in[i].to_tensor_ref().sizes(),
                                              TensorOptions().dtype(us[i].value.dtype()))
                                      : select(us[i].value, *us[i].bdim, b));
        } else if (!lists[i].empty()) {
          std::vector<Tensor> ts;
          for (const Unwrapped& u : lists[i]) {
            ts.push_back(u.bdim ? select(u.value, *u.bdim, b) : u.value);
          }
          stack->push_back(std::move(ts));
        } else {
          stack->push_back(in[i]);
        }
      }
      op.call_boxed(*stack);
      for (size_t j = 0; j < info.num_returns; ++j) {
        results[j].push_back((*stack)[first + j].to_tensor());
      }
      stack->resize(first);
    }
    for (size_t j = 0; j < info.num_returns; ++j) {
      if (any_written_batched && j == 0 && info.writes_self) continue;
      Tensor out;
      if (batch == 0) {
        std::vector<int64_t> sizes{0};
        for (int64_t s : results[j][0].sizes()) sizes.push_back(s);
        out = empty(sizes, TensorOptions().dtype(results[j][0].dtype()));
      } else {
        for (const Tensor& r : results[j]) {
          SY_CHECK(r.sizes() == results[j][0].sizes(), ValueError,
                   "{}: its result {} has shape {} for example 0 and {} for another inside "
                   "vmap(level {}); results whose shape depends on the values cannot be batched",
                   op.name(), j, to_string(results[j][0].sizes()), to_string(r.sizes()),
                   level.number);
        }
        out = sy::stack(results[j], 0);
      }
      results[j] = {out};
    }
  }
  for (size_t j = 0; j < info.num_returns; ++j) {
    if (any_written_batched && j == 0 && info.writes_self) {
      stack->push_back(in[0]);
    } else {
      stack->push_back(make_batched(results[j][0], 0, level));
    }
  }
}

// ---- randomness ---------------------------------------------------------------------

[[noreturn]] void throw_random(const OperatorHandle& op, const Level& level) {
  SY_THROW(ValueError,
           "{}: a random op inside vmap(level {}) with randomness='error' ({}); pass "
           "randomness='same' (one draw shared by the batch) or 'different' (one draw per "
           "example) to vmap",
           op.name(), level.number, describe_transform_stack());
}

void run_random_batched(const OperatorHandle& op, const OpInfo& info, const Level& level,
                        Stack* stack) {
  if (level.randomness == Randomness::Error) throw_random(op, level);
  if (level.randomness == Randomness::Different) {
    pointwise_rule(op, info, level, stack);
    return;
  }
  // Same: one draw of one example's shape, unbatched.
  const size_t first = first_arg(*stack, info);
  const Unwrapped u = unwrap_at((*stack)[first].to_tensor_ref(), level.id);
  PassDown down;
  (*stack)[first] = level.batch_size == 0 ? zeros((*stack)[first].to_tensor_ref().sizes(),
                                                  TensorOptions().dtype(u.value.dtype()))
                                          : select(u.value, *u.bdim, 0);
  op.call_boxed(*stack);
}

}  // namespace

// ---- the interpreter's entry points -------------------------------------------------

const OpInfo& op_info(const OperatorHandle& op) {
  thread_local std::unordered_map<const std::string*, OpInfo> cache;
  const uint32_t generation = op.definition_generation();
  OpInfo& info = cache[&op.name()];
  if (info.generation == generation && info.schema) return info;
  info = OpInfo{};
  info.generation = generation;
  info.schema = op.current_schema();
  SY_CHECK(info.schema != nullptr, DispatchError, "{}: the op is not defined", op.name());
  info.num_arguments = info.schema->arguments().size();
  info.num_returns = info.schema->returns().size();
  info.tags = op.tags();
  const auto& args = info.schema->arguments();
  info.writes_self =
      !args.empty() && args[0].alias && args[0].alias->is_write && !info.tags.has(Tag::out);
  bool backend = false, implicit = false, explicit_composite = false;
  for (DispatchKey k : Dispatcher::singleton().registered_keys(op)) {
    backend |= is_backend_key(k);
    implicit |= k == DispatchKey::CompositeImplicitAutograd;
    explicit_composite |= k == DispatchKey::CompositeExplicitAutograd;
  }
  info.composite_only = implicit && !backend && !explicit_composite;
  const auto& rules = table_rules();
  if (auto it = rules.find(op.name()); it != rules.end()) {
    info.rule = it->second->rule;
    info.dim_args = it->second->dim_args;
  } else if (info.tags.has(Tag::out)) {
    info.rule = out_rule;
  } else if (info.tags.has(Tag::pointwise)) {
    info.rule = pointwise_rule;
  }
  return info;
}

void run_batched(const OperatorHandle& op, const OpInfo& info, const Level& level, Stack* stack) {
  if (info.tags.has(Tag::random)) {
    run_random_batched(op, info, level, stack);
  } else if (info.rule != nullptr) {
    info.rule(op, info, level, stack);
  } else if (info.composite_only) {
    // The composite's ops come back through the front key, still at this level.
    op.redispatch_boxed(DispatchKeySet(DispatchKey::CPU), *stack);
  } else if (decompositions::has_decomposition(op.name())) {
    decompositions::run_decomposition(op, stack);
  } else {
    run_loop(op, info, level, stack);
  }
}

bool run_random_unbatched(const OperatorHandle& op, const OpInfo& info, const Level& level,
                          Stack* stack) {
  if (level.randomness == Randomness::Error) throw_random(op, level);
  if (level.randomness == Randomness::Same) return false;
  const size_t first = first_arg(*stack, info);
  IValue& a0 = (*stack)[first];
  PassDown down;
  if (a0.is_int_list()) {  // rand(size, ...): a batch of draws
    std::vector<int64_t> sizes{level.batch_size};
    for (int64_t s : a0.to_int_list()) sizes.push_back(s);
    a0 = std::move(sizes);
  } else if (a0.is_tensor()) {  // rand_like(self, ...)
    a0 = expand_batch(a0.to_tensor_ref(), level.batch_size);
  } else {
    SY_THROW(ValueError,
             "{}: randomness='different' inside vmap(level {}) does not know how to "
             "draw a batch for this op",
             op.name(), level.number);
  }
  op.call_boxed(*stack);
  wrap_results(info, level, stack, nullptr);
  return true;
}

}  // namespace detail

// ---- the fallback's counters ----------------------------------------------------------

std::map<std::string, int64_t> vmap_fallback_counts() {
  detail::FallbackStats& s = detail::stats();
  std::lock_guard lock(s.mu);
  return s.counts;
}

void reset_vmap_fallback_counts() {
  detail::FallbackStats& s = detail::stats();
  std::lock_guard lock(s.mu);
  s.counts.clear();
  s.warned.clear();
}

void set_vmap_fallback_error(bool error) {
  detail::fallback_is_error.store(error, std::memory_order_relaxed);
}

bool vmap_fallback_error() { return detail::fallback_is_error.load(std::memory_order_relaxed); }

}  // namespace sy::func
