// Forward-mode automatic differentiation: dual tensors.
//
// Inside a dual level, make_dual(primal, tangent) gives a tensor that carries
// `tangent` along; every op computes the tangent of its result from its
// inputs' (the op's forward formula, or, for an op without one, the ops of its
// decomposition: decomposition.h), and unpack_dual(t) reads it back.
//
//   sy::autograd::forward_ad::DualLevel level;
//   Tensor x = make_dual(p, v);
//   Tensor y = (x.sin() * x).sum();
//   Tensor jvp = unpack_dual(y).tangent;          // d/dp (sum sin(p) p) . v
//
// Levels: each DualLevel is a new level with a process-wide unique number;
// a tensor may carry one tangent per level, and ops compute the tangents of
// every level their inputs carry (a formula for level L runs with L set aside,
// so its own ops differentiate at the other levels: nesting levels gives
// higher-order derivatives without mixing them up). Leaving a level drops
// every tangent made at it. make_dual and unpack_dual use the calling
// thread's innermost level unless given one.
//
// Thread-safety: a level belongs to the thread that entered it (levels leave
// in reverse order of entering); tensors carrying tangents may be used from
// any thread while the level lives.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "switchyard/autograd/small_vector.h"
#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy::autograd {

// The tangents of one tensor, one per level. Shared with the levels that
// hold tangents in it, which clear theirs when they end.
class SY_API ForwardGrad {
 public:
  // The tangent at `level`, or undefined.
  Tensor get(uint64_t level) const;
  void set(uint64_t level, Tensor tangent);
  // Drops the tangent at `level` / every tangent.
  void clear(uint64_t level);
  void clear();
  bool empty() const;
  // The levels that hold a tangent here, added to `out` when not present.
  void add_levels(detail::SmallVector<uint64_t, 2>& out) const;

 private:
  mutable std::mutex mu_;
  detail::SmallVector<std::pair<uint64_t, Tensor>, 1> tangents_;
};

namespace forward_ad {

// Enters a new dual level on the calling thread; leaving (the destructor)
// drops every tangent made at it, then restores the thread's previous level.
class SY_API DualLevel {
 public:
  DualLevel();
  ~DualLevel();
  DualLevel(const DualLevel&) = delete;
  DualLevel& operator=(const DualLevel&) = delete;
  uint64_t level() const { return level_; }

 private:
  uint64_t level_;
};

// The calling thread's innermost level, or nothing outside every DualLevel.
SY_API std::optional<uint64_t> current_level();

// A new tensor viewing `primal`'s data that carries `tangent` (same shape,
// floating point) at `level` (default: the current one). Differentiable with
// respect to `primal` in reverse mode.
SY_API Tensor make_dual(const Tensor& primal, const Tensor& tangent,
                        std::optional<uint64_t> level = std::nullopt);

struct UnpackedDual {
  Tensor primal;   // the tensor without its tangent at the level
  Tensor tangent;  // undefined when it has none there
};
SY_API UnpackedDual unpack_dual(const Tensor& t, std::optional<uint64_t> level = std::nullopt);

}  // namespace forward_ad

namespace detail {

// Whether any argument carries a tangent (at a level not set aside on this
// thread): the cheap test every autograd kernel makes.
SY_API bool has_forward_grad(const Tensor& t);
// The tangent of `t` at `level`, or undefined.
SY_API Tensor fw_grad(const Tensor& t, uint64_t level);
// Sets the tangent of `t` at `level` (shape and dtype must match: a formula
// that returns another is a bug, reported naming `op`).
SY_API void set_fw_grad(const Tensor& t, uint64_t level, const Tensor& tangent, const char* op);
// Sets the tangent of `self` after an in-place op changed it: writes into the
// tangent self already has (so views of it see the change), and for a view,
// into the region of its base's tangent (made as zeros when the base had
// none), as PyTorch does.
SY_API void set_fw_grad_inplace(const Tensor& self, uint64_t level, const Tensor& tangent,
                                const char* op);
// The levels `t` carries tangents at, minus those set aside, added to `out`.
SY_API void add_forward_levels(const Tensor& t, SmallVector<uint64_t, 2>& out);

// Sets `level` aside for the guard's lifetime: ops do not compute its
// tangents (a forward formula for that level is running).
class SY_API SetAsideLevel {
 public:
  explicit SetAsideLevel(uint64_t level);
  ~SetAsideLevel();
  SetAsideLevel(const SetAsideLevel&) = delete;
  SetAsideLevel& operator=(const SetAsideLevel&) = delete;
};

// Turns forward-mode AD off on the calling thread for the guard's lifetime
// (no op computes tangents; what a custom function's forward runs under).
class SY_API ForwardADDisabled {
 public:
  ForwardADDisabled();
  ~ForwardADDisabled();
  ForwardADDisabled(const ForwardADDisabled&) = delete;
  ForwardADDisabled& operator=(const ForwardADDisabled&) = delete;

 private:
  bool saved_;
};

}  // namespace detail
}  // namespace sy::autograd
