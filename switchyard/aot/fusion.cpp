#include "switchyard/aot/fusion.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>

#include "switchyard/aot/compiled_model.h"
#include "switchyard/ops/loops.h"
#include "switchyard/ops/vec/vec.h"
#include "switchyard/parallel/parallel.h"

namespace sy::aot::detail {
namespace {

// ---- which steps fuse ---------------------------------------------------------------------

// The ops fusion knows, by full name. Operand layout: `binary` ops take
// (Tensor self, Tensor other) or, for Scalar overloads, (Tensor self, Scalar
// other); `alpha` ops take alpha as their last argument.
struct Fusable {
  std::string_view name;
  PointwiseFn fn;
  bool binary;
  bool scalar_other;  // other is a Scalar literal
  bool alpha;
};
constexpr Fusable kFusable[] = {
    {"sy::add.Tensor", PointwiseFn::Add, true, false, true},
    {"sy::add.Scalar", PointwiseFn::Add, true, true, true},
    {"sy::sub.Tensor", PointwiseFn::Sub, true, false, true},
    {"sy::sub.Scalar", PointwiseFn::Sub, true, true, true},
    {"sy::mul.Tensor", PointwiseFn::Mul, true, false, false},
    {"sy::mul.Scalar", PointwiseFn::Mul, true, true, false},
    {"sy::div.Tensor", PointwiseFn::Div, true, false, false},
    {"sy::div.Scalar", PointwiseFn::Div, true, true, false},
    {"sy::maximum", PointwiseFn::Maximum, true, false, false},
    {"sy::minimum", PointwiseFn::Minimum, true, false, false},
    {"sy::neg", PointwiseFn::Neg, false, false, false},
    {"sy::abs", PointwiseFn::Abs, false, false, false},
    {"sy::exp", PointwiseFn::Exp, false, false, false},
    {"sy::log", PointwiseFn::Log, false, false, false},
    {"sy::sqrt", PointwiseFn::Sqrt, false, false, false},
    {"sy::rsqrt", PointwiseFn::Rsqrt, false, false, false},
    {"sy::sin", PointwiseFn::Sin, false, false, false},
    {"sy::cos", PointwiseFn::Cos, false, false, false},
    {"sy::tanh", PointwiseFn::Tanh, false, false, false},
    {"sy::sigmoid", PointwiseFn::Sigmoid, false, false, false},
    {"sy::relu", PointwiseFn::Relu, false, false, false},
    {"sy::gelu", PointwiseFn::Gelu, false, false, false},  // approximate='tanh': GeluTanh
    {"sy::clamp", PointwiseFn::Clamp, false, false, false},
};

const Fusable* fusable_op(const FunctionSchema& s) {
  const std::string name = s.full_name();
  for (const Fusable& f : kFusable) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// Whether the step calls the library's own kernel. The elementwise ops
// register one function (SY_FN, whose unboxed entry point is that function's
// own) as both their CPU and their Meta kernel; a kernel registered over it at
// CPU is not one fusion may replace.
bool calls_library_kernel(const Step& step) {
  const OperatorHandle::ResolvedKernel meta =
      step.functional.op.resolve(make_tensor({0}, kFloat32, Device("meta")).key_set());
  return !step.functional.overrides_earlier && meta.kernel.unboxed != nullptr &&
         meta.kernel.unboxed == step.functional.kernel.unboxed &&
         meta.kernel.boxed == step.functional.kernel.boxed;
}

// The instruction a step becomes, without its sources; nullopt when the step
// cannot fuse (an op fusion does not know, another kernel, another dtype).
std::optional<FusedInstr> instruction_for(const CompiledModel& m, const Step& step) {
  const FunctionSchema& s = *step.functional.schema;
  const Fusable* f = fusable_op(s);
  if (f == nullptr || step.results.size() != 1 || step.results[0].is_list ||
      !step.results[0].is_tensor) {
    return std::nullopt;
  }
  const ScalarType dtype = m.value_dtype[step.results[0].ids[0]];
  if (dtype != kFloat32 && dtype != kFloat64) return std::nullopt;
  const size_t tensors = f->binary && !f->scalar_other ? 2 : 1;
  for (size_t a = 0; a < tensors; ++a) {
    if (a >= step.args.size() || step.args[a].kind != Operand::Kind::Tensor) return std::nullopt;
  }
  FusedInstr in;
  in.fn = f->fn;
  if (f->scalar_other) {
    if (step.args.size() < 2 || step.args[1].kind != Operand::Kind::Literal ||
        !step.args[1].literal.is_scalar()) {
      return std::nullopt;
    }
    in.imm = step.args[1].literal.to_scalar();
  }
  if (f->alpha) {
    const Operand& alpha = step.args.back();
    if (alpha.kind != Operand::Kind::Literal || !alpha.literal.is_scalar()) return std::nullopt;
    in.c0 = alpha.literal.to_scalar();
  }
  if (f->fn == PointwiseFn::Gelu) {
    if (step.args.size() != 2 || step.args[1].kind != Operand::Kind::Literal ||
        !step.args[1].literal.is_string()) {
      return std::nullopt;
    }
    const std::string& approximate = step.args[1].literal.to_string_ref();
    if (approximate == "tanh") {
      in.fn = PointwiseFn::GeluTanh;
    } else if (approximate != "none") {
      return std::nullopt;
    }
  }
  if (f->fn == PointwiseFn::Clamp) {
    if (step.args.size() != 3) return std::nullopt;
    for (size_t a = 1; a < 3; ++a) {
      const Operand& o = step.args[a];
      if (o.kind != Operand::Kind::Literal || !(o.literal.is_none() || o.literal.is_scalar())) {
        return std::nullopt;
      }
    }
    in.has_c0 = !step.args[1].literal.is_none();
    in.has_c1 = !step.args[2].literal.is_none();
    if (!in.has_c0 && !in.has_c1) return std::nullopt;
    if (in.has_c0) in.c0 = step.args[1].literal.to_scalar();
    if (in.has_c1) in.c1 = step.args[2].literal.to_scalar();
  }
  if (!calls_library_kernel(step)) return std::nullopt;
  return in;
}

bool is_binary(PointwiseFn fn) { return fn <= PointwiseFn::Minimum; }

std::string_view fn_name(PointwiseFn fn) {
  static constexpr std::array<std::string_view, 20> kNames = {
      "add",  "sub",   "mul", "div", "maximum", "minimum", "neg",  "abs",  "exp",       "log",
      "sqrt", "rsqrt", "sin", "cos", "tanh",    "sigmoid", "relu", "gelu", "gelu_tanh", "clamp"};
  return kNames[static_cast<size_t>(fn)];
}

// Builds the group of steps [first, last] (each with its instruction in
// `instr`), or returns nullopt when it needs more registers or operands than
// the limits allow.
std::optional<FusedGroup> build_group(const CompiledModel& m, size_t first, size_t last,
                                      const std::vector<std::optional<FusedInstr>>& instr,
                                      const std::vector<size_t>& last_reader) {
  FusedGroup g;
  g.first = first;
  g.last = last;
  g.result = m.steps[last].results[0].ids[0];
  g.dtype = m.value_dtype[g.result];
  std::vector<int> reg_of(m.num_values, -1);  // the register holding a member's result
  std::vector<uint8_t> free_regs;
  uint8_t regs = 0;
  for (size_t s = first; s <= last; ++s) {
    const Step& step = m.steps[s];
    FusedInstr in = *instr[s];
    bool scalar_other = false;
    if (const Fusable* f = fusable_op(*step.functional.schema)) scalar_other = f->scalar_other;
    FusedSource* srcs[2] = {&in.a, &in.b};
    for (size_t a = 0; a < (is_binary(in.fn) ? 2 : 1); ++a) {
      if (a == 1 && scalar_other) {
        in.b.kind = FusedSource::Kind::Imm;
        continue;
      }
      const uint32_t v = step.args[a].id;
      if (reg_of[v] >= 0) {
        *srcs[a] = {FusedSource::Kind::Reg, static_cast<uint8_t>(reg_of[v])};
      } else {
        auto it = std::find(g.loads.begin(), g.loads.end(), v);
        if (it == g.loads.end()) {
          if (g.loads.size() == kMaxLoads) return std::nullopt;
          it = g.loads.insert(g.loads.end(), v);
        }
        *srcs[a] = {FusedSource::Kind::Load, static_cast<uint8_t>(it - g.loads.begin())};
      }
    }
    // Registers whose value this step reads last are free for its result.
    for (size_t a = 0; a < (is_binary(in.fn) ? 2 : 1); ++a) {
      if (srcs[a]->kind != FusedSource::Kind::Reg) continue;
      const uint32_t v = step.args[a].id;
      if (last_reader[v] == s && reg_of[v] >= 0) {
        free_regs.push_back(static_cast<uint8_t>(reg_of[v]));
        reg_of[v] = -1;
      }
    }
    if (s != last) {
      uint8_t r;
      if (!free_regs.empty()) {
        r = free_regs.back();
        free_regs.pop_back();
      } else {
        if (regs == kMaxRegs) return std::nullopt;
        r = regs++;
      }
      in.out = r;
      reg_of[step.results[0].ids[0]] = r;
    }
    if (!g.describe.empty()) g.describe += '+';
    g.describe += fn_name(in.fn);
    g.code.push_back(std::move(in));
  }
  g.num_regs = regs;
  return g;
}

// ---- the loop -------------------------------------------------------------------------------

// An instruction operand within one block: a pointer to kBlock values, or one value.
template <typename T>
struct Arg {
  const T* p;
  T v;
};

template <typename T, typename F>
SY_ALWAYS_INLINE void binary(T* __restrict o, Arg<T> a, Arg<T> b, int64_t n, F f) {
  if (a.p != nullptr && b.p != nullptr) {
    const T* x = a.p;
    const T* y = b.p;
    _Pragma("GCC ivdep") for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
  } else if (a.p != nullptr) {
    const T* x = a.p;
    const T y = b.v;
    _Pragma("GCC ivdep") for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y);
  } else if (b.p != nullptr) {
    const T x = a.v;
    const T* y = b.p;
    _Pragma("GCC ivdep") for (int64_t i = 0; i < n; ++i) o[i] = f(x, y[i]);
  } else {
    const T v = f(a.v, b.v);
    for (int64_t i = 0; i < n; ++i) o[i] = v;
  }
}

template <typename T, typename F>
SY_ALWAYS_INLINE void unary(T* o, const T* x, int64_t n, F f) {
  _Pragma("GCC ivdep") for (int64_t i = 0; i < n; ++i) o[i] = f(x[i]);
}

// One instruction over a block, with the formulas of the ops' kernels
// (ops/binary_ops.cpp, ops/unary_ops.cpp), in the same type and order; the
// functions the ops compute with ops/vec (SLEEF) run through the same kernels,
// whose result for an element does not depend on where it sits in the array.
template <typename T>
void apply(const FusedInstr& in, T c0, T c1, T* o, Arg<T> a, Arg<T> b, int64_t n) {
  const T* x = a.p;
  switch (in.fn) {
    case PointwiseFn::Add:
      return binary(o, a, b, n, [c0](T p, T q) { return static_cast<T>(p + c0 * q); });
    case PointwiseFn::Sub:
      return binary(o, a, b, n, [c0](T p, T q) { return static_cast<T>(p - c0 * q); });
    case PointwiseFn::Mul:
      return binary(o, a, b, n, [](T p, T q) { return static_cast<T>(p * q); });
    case PointwiseFn::Div:
      return binary(o, a, b, n, [](T p, T q) { return static_cast<T>(p / q); });
    case PointwiseFn::Maximum:
    case PointwiseFn::Minimum: {
      const bool mx = in.fn == PointwiseFn::Maximum;
      return binary(o, a, b, n, [mx](T p, T q) {
        if (p != p) return p;
        if (q != q) return q;
        return (mx ? p > q : p < q) ? p : q;
      });
    }
    case PointwiseFn::Neg: return unary(o, x, n, [](T v) { return static_cast<T>(-v); });
    case PointwiseFn::Abs:
      return unary(o, x, n, [](T v) { return v < T(0) ? static_cast<T>(-v) : v; });
    case PointwiseFn::Exp: return vec::exp(x, o, n);
    case PointwiseFn::Log: return vec::log(x, o, n);
    case PointwiseFn::Sqrt: return unary(o, x, n, [](T v) { return std::sqrt(v); });
    case PointwiseFn::Rsqrt: return unary(o, x, n, [](T v) { return T(1) / std::sqrt(v); });
    case PointwiseFn::Sin: return unary(o, x, n, [](T v) { return std::sin(v); });
    case PointwiseFn::Cos: return unary(o, x, n, [](T v) { return std::cos(v); });
    case PointwiseFn::Tanh: return vec::tanh(x, o, n);
    case PointwiseFn::Sigmoid: return vec::sigmoid(x, o, n);
    case PointwiseFn::Relu: return unary(o, x, n, [](T v) { return v < T(0) ? T(0) : v; });
    case PointwiseFn::Gelu: return vec::gelu(x, o, n);
    case PointwiseFn::GeluTanh: return vec::gelu_tanh(x, o, n);
    case PointwiseFn::Clamp: {
      const bool lo = in.has_c0, hi = in.has_c1;
      return unary(o, x, n, [=](T v) {
        if (lo && v < c0) v = c0;
        if (hi && v > c1) v = c1;
        return v;
      });
    }
  }
}

template <typename T>
void run_blocks(const FusedGroup& g, const FusedPlan& p, const Tensor* const* loads, T* out,
                int64_t numel) {
  // Per run: the constants in T, the loads' data, the single-element loads' values.
  std::array<T, 64> c0{}, c1{}, imm{};
  const size_t n_code = std::min<size_t>(g.code.size(), 64);
  for (size_t k = 0; k < n_code; ++k) {
    const FusedInstr& in = g.code[k];
    c0[k] = in.c0.to<T>();
    c1[k] = in.c1.to<T>();
    if (in.b.kind == FusedSource::Kind::Imm) imm[k] = in.imm.to<T>();
  }
  std::array<const T*, kMaxLoads> data{};
  std::array<T, kMaxLoads> value{};
  for (size_t l = 0; l < g.loads.size(); ++l) {
    const Tensor& t = *loads[l];
    if (p.load_mode[l] == FusedPlan::Mode::Scalar) {
      SY_DISPATCH_ALL_TYPES(t.dtype(), "fused elementwise", [&] {
        value[l] = static_cast<T>(*static_cast<const scalar_t*>(t.raw_data()));
      });
    } else {
      data[l] = static_cast<const T*>(t.raw_data());
    }
  }
  auto body = [&](int64_t begin, int64_t end) {
    alignas(64) T regs[kMaxRegs + kMaxLoads][kBlock];
    for (int64_t lo = begin; lo < end; lo += kBlock) {
      const int64_t n = std::min(kBlock, end - lo);
      // Repeated operands (a bias over rows): this block's values, in a register.
      for (size_t l = 0; l < g.loads.size(); ++l) {
        if (p.load_mode[l] != FusedPlan::Mode::Repeat) continue;
        const int64_t period = p.load_numel[l];
        T* dst = regs[kMaxRegs + l];
        int64_t j = lo % period;
        for (int64_t i = 0; i < n;) {
          const int64_t run = std::min(n - i, period - j);
          std::copy_n(data[l] + j, run, dst + i);
          i += run;
          j = 0;
        }
      }
      auto arg = [&](const FusedSource& s, size_t k) -> Arg<T> {
        switch (s.kind) {
          case FusedSource::Kind::Reg: return {regs[s.index], T()};
          case FusedSource::Kind::Imm: return {nullptr, imm[k]};
          case FusedSource::Kind::Load:
            switch (p.load_mode[s.index]) {
              case FusedPlan::Mode::Full: return {data[s.index] + lo, T()};
              case FusedPlan::Mode::Scalar: return {nullptr, value[s.index]};
              case FusedPlan::Mode::Repeat: return {regs[kMaxRegs + s.index], T()};
            }
        }
        return {nullptr, T()};
      };
      for (size_t k = 0; k < g.code.size(); ++k) {
        const FusedInstr& in = g.code[k];
        T* dst = k + 1 == g.code.size() ? out + lo : regs[in.out];
        const Arg<T> a = arg(in.a, k);
        const Arg<T> b = is_binary(in.fn) ? arg(in.b, k) : Arg<T>{nullptr, T()};
        apply<T>(in, c0[k], c1[k], dst, a, b, n);
      }
    }
  };
  // Chunks of whole blocks, as large as the ops' own parallel grain.
  if (numel < sy::detail::kGrain) {
    body(0, numel);
  } else {
    parallel_for(0, (numel + kBlock - 1) / kBlock, sy::detail::kGrain / kBlock,
                 [&](int64_t b0, int64_t b1) { body(b0 * kBlock, std::min(numel, b1 * kBlock)); });
  }
}

}  // namespace

// ---- groups ---------------------------------------------------------------------------------

std::vector<FusedGroup> find_fused_groups(const CompiledModel& m) {
  const size_t n = m.steps.size();
  std::vector<std::optional<FusedInstr>> instr(n);
  for (size_t s = 0; s < n; ++s) instr[s] = instruction_for(m, m.steps[s]);
  // Who reads each value: the last step, and whether anything before `first`
  // or after `last` of a group would (a graph output counts as read at the end).
  std::vector<size_t> last_reader(m.num_values, 0);
  std::vector<size_t> first_reader(m.num_values, n);
  for (size_t s = 0; s < n; ++s) {
    for (const Operand& o : m.steps[s].args) {
      auto note = [&](uint32_t v) {
        last_reader[v] = std::max(last_reader[v], s);
        first_reader[v] = std::min(first_reader[v], s);
      };
      if (o.kind == Operand::Kind::Tensor || o.kind == Operand::Kind::NonTensor) note(o.id);
      for (uint32_t v : o.list) note(v);
    }
  }
  for (uint32_t v : m.output_ids) last_reader[v] = n;
  // A value may stay inside a group ending at `last` when nothing after it
  // reads it, and nothing views it (every alias of it is read by steps too).
  auto stays_inside = [&](uint32_t v, size_t last) {
    return last_reader[v] <= last && m.alias_root[v] == v;
  };

  std::vector<FusedGroup> groups;
  size_t s = 0;
  while (s < n) {
    if (!instr[s]) {
      ++s;
      continue;
    }
    // One dtype a group: registers hold values of one type.
    const ScalarType dtype = m.value_dtype[m.steps[s].results[0].ids[0]];
    size_t last = s;
    while (last + 1 < n && instr[last + 1] &&
           m.value_dtype[m.steps[last + 1].results[0].ids[0]] == dtype) {
      ++last;
    }
    // Shrink until every member's result but the last stays inside, and the
    // program fits the limits.
    std::optional<FusedGroup> g;
    while (last > s) {
      bool ok = true;
      for (size_t k = s; k < last && ok; ++k) {
        if (!stays_inside(m.steps[k].results[0].ids[0], last)) {
          last = k;
          ok = false;
        }
      }
      if (!ok) continue;
      g = build_group(m, s, last, instr, last_reader);
      if (g) break;
      --last;
    }
    if (g) {
      groups.push_back(std::move(*g));
      s = last + 1;
    } else {
      ++s;
    }
  }
  return groups;
}

FusedPlan plan_fused(const CompiledModel& m, const FusedGroup& g, const std::vector<bool>& known,
                     const std::vector<DimVector>& sizes) {
  FusedPlan p;
  if (!known[g.result]) return p;
  p.sizes = sizes[g.result];
  const IntArrayRef out(p.sizes);
  int64_t numel = 1;
  for (int64_t d : out) numel *= d;
  for (size_t s = g.first; s <= g.last; ++s) {
    const uint32_t v = m.steps[s].results[0].ids[0];
    if (!known[v] || IntArrayRef(sizes[v]) != out) return p;
  }
  for (uint32_t v : g.loads) {
    if (!known[v]) return p;
    const IntArrayRef in(sizes[v]);
    int64_t n = 1;
    for (int64_t d : in) n *= d;
    FusedPlan::Mode mode;
    if (in == out) {
      mode = FusedPlan::Mode::Full;
    } else if (n == 1) {
      mode = FusedPlan::Mode::Scalar;
    } else {
      // A trailing block of the result: its dims, leading 1s dropped, are
      // the result's last dims.
      size_t lead = 0;
      while (lead < in.size() && in[lead] == 1) ++lead;
      const size_t tail = in.size() - lead;
      if (tail > out.size() || !std::equal(in.begin() + lead, in.end(), out.end() - tail)) {
        return p;
      }
      mode = FusedPlan::Mode::Repeat;
    }
    const ScalarType dt = m.value_dtype[v];
    if (mode == FusedPlan::Mode::Scalar ? (dt == kFloat16 || dt == kBFloat16) : dt != g.dtype) {
      return p;
    }
    p.load_mode.push_back(mode);
    p.load_numel.push_back(n);
  }
  p.on = true;
  return p;
}

bool fused_operands_fit(const FusedGroup& g, const FusedPlan& p, const Tensor* const* loads,
                        const Tensor* out) {
  for (size_t l = 0; l < g.loads.size(); ++l) {
    const Tensor& t = *loads[l];
    if (!t.defined() || !t.device().is_cpu()) return false;
    if (p.load_mode[l] == FusedPlan::Mode::Scalar) {
      if (t.numel() != 1) return false;
      continue;
    }
    if (t.dtype() != g.dtype || !t.is_contiguous() || t.numel() != p.load_numel[l]) return false;
    // An operand in the result's memory (a borrowed output passed back in):
    // the ops' out= kernels handle the overlap.
    if (out != nullptr && t.impl()->storage().get() == out->impl()->storage().get()) return false;
  }
  return true;
}

void run_fused(const FusedGroup& g, const FusedPlan& p, const Tensor* const* loads,
               const Tensor& out) {
  const int64_t numel = out.numel();
  if (numel == 0) return;
  if (g.dtype == kFloat32) {
    run_blocks<float>(g, p, loads, static_cast<float*>(out.raw_data()), numel);
  } else {
    run_blocks<double>(g, p, loads, static_cast<double*>(out.raw_data()), numel);
  }
}

}  // namespace sy::aot::detail
