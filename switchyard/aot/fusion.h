// Elementwise fusion (internal to aot/): runs of pointwise steps computed in
// one loop over blocks, so a chain of them reads its operands and writes its
// result once instead of once a step (docs/aot.md, "Fused elementwise steps").
//
//   * at load (find_fused_groups): consecutive steps that call a pointwise op
//     fusion knows (add, mul, exp, relu, ...; kFusable in fusion.cpp) through
//     the library's own kernel, on float32 or float64, whose results are read
//     only by later steps of the group (the last step's result leaves it),
//     become a group with a small register program: one instruction a step;
//   * per input shapes (plan_fused): a group runs fused when every step's
//     result has the group's shape and every operand from outside is that
//     shape, a single element (broadcast), or a trailing block of it repeated
//     (a bias of shape [n] over [b, n]);
//   * per run (run_fused): the operands must also be contiguous; the loop
//     walks the result in blocks of kBlock elements that live in registers on
//     the stack (no allocation), in parallel for large results as the ops are.
//     A run whose operands do not fit runs the group's steps one by one.
//
// A fused group computes each element with the same formulas, in the same
// order and type, as the ops' kernels do, so its results equal the unfused
// ones bit for bit (tests/aot/fusion_test.cpp checks every op on special values).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "switchyard/tensor/tensor.h"

namespace sy::aot::detail {

struct CompiledModel;

// Limits that keep a group's registers on the stack: kMaxRegs + kMaxLoads
// blocks of kBlock elements (24 KiB in float64).
inline constexpr size_t kMaxRegs = 6;
inline constexpr size_t kMaxLoads = 6;
inline constexpr int64_t kBlock = 256;

enum class PointwiseFn : uint8_t {
  // binary: a (op) b
  Add,  // a + c0 * b (c0 is alpha)
  Sub,  // a - c0 * b
  Mul,
  Div,
  Maximum,
  Minimum,
  // unary: f(a)
  Neg,
  Abs,
  Exp,
  Log,
  Sqrt,
  Rsqrt,
  Sin,
  Cos,
  Tanh,
  Sigmoid,
  Relu,
  Gelu,
  GeluTanh,
  Clamp,  // bounds c0 (when has_c0) and c1 (when has_c1)
};

// Where an instruction's operand comes from.
struct FusedSource {
  enum class Kind : uint8_t {
    Reg,   // register `index`
    Load,  // the group's operand `index` (a tensor from outside the group)
    Imm,   // the instruction's constant `imm`
  };
  Kind kind = Kind::Reg;
  uint8_t index = 0;
};

struct FusedInstr {
  PointwiseFn fn = PointwiseFn::Add;
  FusedSource a, b;       // b: binary ops only
  uint8_t out = 0;        // the register written (the last instruction writes the result)
  Scalar imm;             // b's value when b is Imm
  Scalar c0 = 1, c1 = 0;  // alpha, or clamp's bounds
  bool has_c0 = true, has_c1 = false;
};

struct FusedGroup {
  size_t first = 0, last = 0;  // the steps [first, last]
  uint32_t result = 0;         // the value the last step defines
  ScalarType dtype = kFloat32;
  std::vector<uint32_t> loads;  // value ids of the tensors read from outside
  std::vector<FusedInstr> code;
  uint8_t num_regs = 0;
  std::string describe;  // "mul+add+relu"
};

// The groups of the model's steps (needs its steps, values and lifetimes).
std::vector<FusedGroup> find_fused_groups(const CompiledModel& m);

// How a group runs for one set of input shapes.
struct FusedPlan {
  enum class Mode : uint8_t { Full, Scalar, Repeat };
  bool on = false;
  DimVector sizes;  // the result's
  std::vector<Mode> load_mode;
  std::vector<int64_t> load_numel;
};

// `sizes[v]` / `known[v]`: the inferred shape of each value for these inputs.
FusedPlan plan_fused(const CompiledModel& m, const FusedGroup& g, const std::vector<bool>& known,
                     const std::vector<DimVector>& sizes);

// Whether `loads` (the tensors of g.loads) fit the plan: contiguous, of the
// planned sizes and dtype, and not in the memory of `out` (when given). When
// they do not, the caller runs the group's steps one by one.
bool fused_operands_fit(const FusedGroup& g, const FusedPlan& p, const Tensor* const* loads,
                        const Tensor* out);
// Computes the group into `out` (contiguous, the plan's shape, the group's
// dtype) from `loads`, which fit the plan.
void run_fused(const FusedGroup& g, const FusedPlan& p, const Tensor* const* loads,
               const Tensor& out);

}  // namespace sy::aot::detail
