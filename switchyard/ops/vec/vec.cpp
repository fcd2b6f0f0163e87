// Picks the kernels of vec.h for this machine and forwards to them.
//
// Note [Choosing the instruction set]
// Each kernel is compiled three times (vec_avx512.cpp, vec_avx2.cpp,
// vec_generic.cpp, each with its own -m flags; see CMakeLists.txt), and the
// first call picks the table of the best instruction set the CPU reports
// (cpuid, through __builtin_cpu_supports): AVX-512 (F and DQ), else AVX2 with
// FMA, else SSE2, which every x86-64 has. SY_VEC_ISA=avx2 or =generic in the
// environment picks a lower one (for tests and comparisons); asking for one the
// CPU lacks falls back to the best it has. Nothing else in the library is
// compiled for more than the baseline, so one build runs on any x86-64.
#include "switchyard/ops/vec/vec.h"

#include <atomic>
#include <cstdlib>
#include <string_view>

#include "switchyard/ops/vec/vec_table.h"

namespace sy::vec {
namespace {

struct Isa {
  const char* name;
  const Table* table;
};

bool cpu_has(std::string_view isa) {
  __builtin_cpu_init();
  if (isa == "avx512")
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
  if (isa == "avx2") return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return isa == "generic";
}

constexpr Isa kIsas[] = {
    {"avx512", &avx512::kTable}, {"avx2", &avx2::kTable}, {"generic", &generic::kTable}};

// The best instruction set the CPU has, or the one SY_VEC_ISA asks for if the
// CPU has that one (a higher or unknown one falls back to the best).
const Isa* choose() {
  const char* want = std::getenv("SY_VEC_ISA");
  const Isa* best = nullptr;
  for (const Isa& isa : kIsas) {
    if (!cpu_has(isa.name)) continue;
    if (best == nullptr) best = &isa;
    if (want != nullptr && std::string_view(want) == isa.name) return &isa;
  }
  return best;
}

std::atomic<const Isa*> g_isa{nullptr};

const Isa& current() {
  const Isa* isa = g_isa.load(std::memory_order_relaxed);
  if (SY_UNLIKELY(isa == nullptr)) {
    isa = choose();
    g_isa.store(isa, std::memory_order_relaxed);
  }
  return *isa;
}
const Table& table() { return *current().table; }

}  // namespace

const char* isa_name() { return current().name; }

std::vector<std::string> supported_isas() {
  std::vector<std::string> out;
  for (const Isa& isa : kIsas) {
    if (cpu_has(isa.name)) out.emplace_back(isa.name);
  }
  return out;
}

bool use_isa(std::string_view name) {
  for (const Isa& isa : kIsas) {
    if (name == isa.name && cpu_has(name)) {
      g_isa.store(&isa, std::memory_order_relaxed);
      return true;
    }
  }
  return false;
}

void exp(const float* x, float* y, int64_t n) { table().exp.f(x, y, n); }
void exp(const double* x, double* y, int64_t n) { table().exp.d(x, y, n); }
void log(const float* x, float* y, int64_t n) { table().log.f(x, y, n); }
void log(const double* x, double* y, int64_t n) { table().log.d(x, y, n); }
void tanh(const float* x, float* y, int64_t n) { table().tanh.f(x, y, n); }
void tanh(const double* x, double* y, int64_t n) { table().tanh.d(x, y, n); }
void erf(const float* x, float* y, int64_t n) { table().erf.f(x, y, n); }
void erf(const double* x, double* y, int64_t n) { table().erf.d(x, y, n); }
void sigmoid(const float* x, float* y, int64_t n) { table().sigmoid.f(x, y, n); }
void sigmoid(const double* x, double* y, int64_t n) { table().sigmoid.d(x, y, n); }
void gelu(const float* x, float* y, int64_t n) { table().gelu.f(x, y, n); }
void gelu(const double* x, double* y, int64_t n) { table().gelu.d(x, y, n); }
void gelu_tanh(const float* x, float* y, int64_t n) { table().gelu_tanh.f(x, y, n); }
void gelu_tanh(const double* x, double* y, int64_t n) { table().gelu_tanh.d(x, y, n); }
void pow(const float* x, const float* e, float* y, int64_t n) { table().pow.f(x, e, y, n); }
void pow(const double* x, const double* e, double* y, int64_t n) { table().pow.d(x, e, y, n); }

void softmax_rows(const float* x, float* y, int64_t rows, int64_t n, bool log) {
  table().softmax_rows.f(x, y, rows, n, log);
}
void softmax_rows(const double* x, double* y, int64_t rows, int64_t n, bool log) {
  table().softmax_rows.d(x, y, rows, n, log);
}

double sum(const float* x, int64_t n) { return table().sum.f(x, n); }
double sum(const double* x, int64_t n) { return table().sum.d(x, n); }
float max(const float* x, int64_t n) { return table().max.f(x, n); }
double max(const double* x, int64_t n) { return table().max.d(x, n); }
float min(const float* x, int64_t n) { return table().min.f(x, n); }
double min(const double* x, int64_t n) { return table().min.d(x, n); }

void transpose(const void* src, int64_t src_row, int64_t src_col, void* dst, int64_t dst_row,
               int64_t rows, int64_t cols, int64_t elsize) {
  table().transpose(src, src_row, src_col, dst, dst_row, rows, cols, elsize);
}

}  // namespace sy::vec
