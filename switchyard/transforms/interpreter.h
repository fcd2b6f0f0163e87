// The interpreter stack: the calling thread's active transforms (vmap, grad,
// jvp), one level each, outermost first, kept in a thread-local extension slot
// (seed 000) so that launch, parallel_for and the backward engine carry it.
//
// While a level is visible, the thread includes the DynamicLayerFrontMode key;
// that key's kernel (interpreter.cpp) hands each op to the top visible level,
// which handles it (a vmap level runs the op's batching rule when an argument
// is batched at that level) or passes it down, one level at a time.
// See docs/transforms.md.
//
// Everything here acts on the calling thread only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/core/local_dispatch_key_set.h"
#include "switchyard/core/thread_local_state.h"

namespace sy::func {

enum class TransformKind : uint8_t { Vmap, Grad, Jvp };

// What a vmap level does with ops tagged `random`.
enum class Randomness : uint8_t {
  Error,      // refuse them (the default, as in PyTorch)
  Same,       // one draw shared by every example
  Different,  // one draw per example
};

SY_API std::string_view to_string(TransformKind k);
SY_API std::string_view to_string(Randomness r);
// "error" | "same" | "different"; a ValueError naming the choices otherwise.
SY_API Randomness parse_randomness(std::string_view text);

// One active transform.
struct Level {
  TransformKind kind = TransformKind::Vmap;
  int64_t number = 0;                         // depth, 1 for the outermost: what messages show
  uint64_t id = 0;                            // unique in the process; batched tensors carry it
  int64_t batch_size = 0;                     // vmap only
  Randomness randomness = Randomness::Error;  // vmap only
};

// The calling thread's visible levels, outermost first.
SY_API std::vector<Level> transform_stack();
// "vmap(level 2) > grad(level 1)": the visible levels, innermost first; "no transform".
SY_API std::string describe_transform_stack();
// The visible vmap level with `id`, or null (a batched tensor of a finished vmap).
SY_API const Level* find_visible_level(uint64_t id);

// Pushes a level on the calling thread for the guard's life; restores the
// stack, and whether the front key was included, exactly as it found them.
class SY_API LevelGuard {
 public:
  LevelGuard(TransformKind kind, int64_t batch_size = 0, Randomness randomness = Randomness::Error);
  ~LevelGuard();
  LevelGuard(const LevelGuard&) = delete;
  LevelGuard& operator=(const LevelGuard&) = delete;
  const Level& level() const { return level_; }

 private:
  Level level_;
  std::vector<Level> saved_levels_;  // the levels hidden above the caller's, if any
  size_t saved_active_ = 0;
  bool saved_included_ = false;
  bool had_state_ = false;
};

namespace detail {

// The stack's slot object.
struct TransformState final : ThreadLocalSlot {
  std::vector<Level> levels;
  size_t active = 0;  // levels[0, active) are visible to the op being handled
  // Set while a transform makes its own inputs require grad (the veto is for users).
  bool making_grad_inputs = false;

  std::unique_ptr<ThreadLocalSlot> deepcopy() const override;
  int64_t check_supports_single_level_autograd_function() const override;
  void check_supports_inplace_requires_grad() const override;
  void check_supports_retain_grad() const override;
};

// The calling thread's state, or null when no transform ever ran here.
SY_API TransformState* transform_state();

// Hides the top visible level for the guard's life, so calls made meanwhile
// are handled by the levels below (the front key is dropped when none is left).
class SY_API PassDown {
 public:
  PassDown();
  ~PassDown();
  PassDown(const PassDown&) = delete;
  PassDown& operator=(const PassDown&) = delete;

 private:
  TransformState* state_;
  bool saved_included_;
};

// Shows only the first `n` levels for the guard's life (n <= the visible count),
// so calls made meanwhile are handled from level n down.
class SY_API ShowLevels {
 public:
  explicit ShowLevels(size_t n);
  ~ShowLevels();
  ShowLevels(const ShowLevels&) = delete;
  ShowLevels& operator=(const ShowLevels&) = delete;

 private:
  TransformState* state_;
  size_t saved_active_ = 0;
  bool saved_included_;
};

}  // namespace detail
}  // namespace sy::func
