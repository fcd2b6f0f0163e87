// Matrix products. mm, bmm, addmm and dot have one kernel serving CPU and Meta
// (on meta tensors only the result is made); matmul is a composite over them.
// The ops are declared in linalg_ops.yaml (docs/op-table.md); their registrations,
// generated from it, are included at the end of this file.
//
// Threads: OpenBLAS keeps its own thread pool. Before each BLAS call the
// kernel gives OpenBLAS switchyard's intra-op thread count (get_num_threads())
// when it changed, so set_num_threads governs matrix products too; inside a
// parallel region (a parallel_for chunk, a launched task) products run on one
// thread, as nested parallelism would only oversubscribe the cores.
#include <cblas.h>

#include "switchyard/dispatch/library.h"
#include "switchyard/ops/direct.h"
#include "switchyard/ops/elementwise_impl.h"
#include "switchyard/ops/op_call.h"

namespace sy {
namespace {

// Applies switchyard's thread count to OpenBLAS when it differs. The setting is
// process-wide and others (libtorch, numpy) may change it too, so it is read
// back each time rather than cached.
void sync_blas_threads() {
  const int want = in_parallel_region() ? 1 : get_num_threads();
  if (openblas_get_num_threads() != want) openblas_set_num_threads(want);
}

void check_pair(std::string_view op, const Tensor& a, const Tensor& b) {
  SY_CHECK(a.dtype() == b.dtype(), TypeError,
           "{}: expected both operands to have one dtype, got {} and {}; convert one with to()", op,
           to_string(a.dtype()), to_string(b.dtype()));
  SY_CHECK(a.dtype() != kBool, TypeError, "{}: not supported for bool tensors", op);
  detail::result_device(op, {&a, &b});
}

// How a matrix operand reaches BLAS: its data, whether it is transposed, and
// its leading dimension; a contiguous copy when neither layout fits.
struct BlasOperand {
  Tensor keep;
  bool trans = false;
  int64_t ld = 1;
};

BlasOperand blas_operand(const Tensor& m) {  // m is [rows, cols]
  const int64_t rows = m.sizes()[0], cols = m.sizes()[1];
  const int64_t s0 = m.strides()[0], s1 = m.strides()[1];
  if ((s1 == 1 || cols <= 1) && s0 >= std::max<int64_t>(1, cols)) return {m, false, s0};
  if ((s0 == 1 || rows <= 1) && s1 >= std::max<int64_t>(1, rows)) return {m, true, s1};
  Tensor c = detail::contiguous_values(m);
  return {c, false, std::max<int64_t>(1, cols)};
}

// out (contiguous [n, m]) = alpha * a @ b + beta * out.
template <typename T>
void gemm(const Tensor& out, const Tensor& a, const Tensor& b, T alpha, T beta) {
  const int64_t n = a.sizes()[0], k = a.sizes()[1], m = b.sizes()[1];
  T* c = static_cast<T*>(out.raw_data());
  if (n == 0 || m == 0) return;
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    const BlasOperand A = blas_operand(a), B = blas_operand(b);
    sync_blas_threads();
    const auto ta = A.trans ? CblasTrans : CblasNoTrans;
    const auto tb = B.trans ? CblasTrans : CblasNoTrans;
    if constexpr (std::is_same_v<T, float>) {
      cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(n), static_cast<int>(m),
                  static_cast<int>(k), alpha, static_cast<const float*>(A.keep.raw_data()),
                  static_cast<int>(A.ld), static_cast<const float*>(B.keep.raw_data()),
                  static_cast<int>(B.ld), beta, c, static_cast<int>(m));
    } else {
      cblas_dgemm(CblasRowMajor, ta, tb, static_cast<int>(n), static_cast<int>(m),
                  static_cast<int>(k), alpha, static_cast<const double*>(A.keep.raw_data()),
                  static_cast<int>(A.ld), static_cast<const double*>(B.keep.raw_data()),
                  static_cast<int>(B.ld), beta, c, static_cast<int>(m));
    }
  } else {
    const T* pa = static_cast<const T*>(a.raw_data());
    const T* pb = static_cast<const T*>(b.raw_data());
    const int64_t a0 = a.strides()[0], a1 = a.strides()[1];
    const int64_t b0 = b.strides()[0], b1 = b.strides()[1];
    for (int64_t i = 0; i < n; ++i) {
      T* row = c + i * m;
      // beta 0 overwrites (as BLAS does), so NaNs in an uninitialized out cannot leak in.
      for (int64_t j = 0; j < m; ++j) row[j] = beta == T(0) ? T(0) : static_cast<T>(beta * row[j]);
      for (int64_t p = 0; p < k; ++p) {
        const T av = static_cast<T>(alpha * pa[i * a0 + p * a1]);
        for (int64_t j = 0; j < m; ++j) row[j] = static_cast<T>(row[j] + av * pb[p * b0 + j * b1]);
      }
    }
  }
}

void check_mm(std::string_view op, const Tensor& a, const Tensor& b) {
  check_pair(op, a, b);
  SY_CHECK(a.dim() == 2 && b.dim() == 2, ValueError,
           "{}: expects two matrices, got shapes {} and {}; use matmul for vectors and batches", op,
           to_string(a.sizes()), to_string(b.sizes()));
  SY_CHECK(a.sizes()[1] == b.sizes()[0], ValueError,
           "{}: self is {} and mat2 is {}; self's columns ({}) must equal mat2's rows ({})", op,
           to_string(a.sizes()), to_string(b.sizes()), a.sizes()[1], b.sizes()[0]);
}

// out = beta * out + alpha * a @ b, out contiguous [n, m]; beta == 0 overwrites.
void mm_into(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar& alpha,
             const Scalar& beta) {
  if (out.is_meta() || out.numel() == 0) return;
  if (is_reduced_float(out.dtype())) {  // float16/bfloat16: multiplied in float32, rounded once
    Tensor wide = to(out, kFloat32);
    mm_into(wide, to(a, kFloat32), to(b, kFloat32), alpha, beta);
    copy_(out, wide);
    return;
  }
  SY_DISPATCH_ALL_TYPES(out.dtype(), "mm", [&] {
    using T = scalar_t;
    if (a.sizes()[1] == 0) {  // no product: out = beta * out, zeros when beta is 0
      T* p = static_cast<T*>(out.raw_data());
      if (beta.to<double>() == 0) {
        std::fill_n(p, out.numel(), T(0));  // so NaNs in out cannot leak through
      } else {
        const T bv = beta.to<T>();
        for (int64_t i = 0; i < out.numel(); ++i) p[i] = static_cast<T>(bv * p[i]);
      }
      return;
    }
    // With beta 0, sgemm/dgemm and the loop of gemm() overwrite C without reading
    // it (the BLAS contract): out needs no zeroing first.
    gemm<T>(out, a, b, alpha.to<T>(), beta.to<T>());
  });
}

Tensor mm_k(const Tensor& a, const Tensor& b) {
  check_mm("mm", a, b);
  Tensor out = make_tensor({a.sizes()[0], b.sizes()[1]}, a.dtype(), a.device());
  mm_into(out, a, b, 1, 0);
  return out;
}

// Runs `compute` into `out` directly when it is contiguous and apart from the
// operands, else into a temporary that is then copied.
template <typename F>
const Tensor& write_result(std::string_view op, const Tensor& out, IntArrayRef shape,
                           ScalarType dtype, std::initializer_list<const Tensor*> operands,
                           F compute) {
  detail::check_output(op, out, shape, dtype, false, (*operands.begin())->device());
  bool direct = out.dtype() == dtype && out.is_contiguous();
  for (const Tensor* t : operands) direct = direct && !detail::may_overlap(out, *t);
  if (direct) {
    compute(out);
    return out;
  }
  Tensor tmp = make_tensor(shape, dtype, out.device());
  compute(tmp);
  detail::copy_values(out, tmp);
  return out;
}

const Tensor& mm_out_k(const Tensor& a, const Tensor& b, const Tensor& out) {
  check_mm("mm.out", a, b);
  const int64_t shape[] = {a.sizes()[0], b.sizes()[1]};
  return write_result("mm.out", out, IntArrayRef(shape, 2), a.dtype(), {&a, &b},
                      [&](const Tensor& o) { mm_into(o, a, b, 1, 0); });
}

void check_bmm(std::string_view op, const Tensor& a, const Tensor& b) {
  check_pair(op, a, b);
  SY_CHECK(a.dim() == 3 && b.dim() == 3, ValueError,
           "{}: expects two 3-d tensors (batches of matrices), got shapes {} and {}", op,
           to_string(a.sizes()), to_string(b.sizes()));
  SY_CHECK(a.sizes()[0] == b.sizes()[0] && a.sizes()[2] == b.sizes()[1], ValueError,
           "{}: shapes {} and {} do not match: batch sizes must be equal and self's columns "
           "must equal mat2's rows",
           op, to_string(a.sizes()), to_string(b.sizes()));
}

// Products of at most this many multiply-adds a matrix skip BLAS: its call
// costs more than the arithmetic (vmap's per-example rows times matrices).
constexpr int64_t kSmallProduct = 8192;

// W columns of one output row, from column j0: the sum over p of a's row
// element p times b's row p, accumulated in registers (W is a compile-time
// width, so the loop over j unrolls into a few vector registers and nothing
// goes through memory between the k steps).
template <typename T, int W>
inline void small_row_block(T* row, const T* arow, int64_t a2, const T* b, int64_t b1, int64_t k,
                            int64_t j0) {
  T acc[W] = {};
  for (int64_t p = 0; p < k; ++p) {
    const T av = arow[p * a2];
    const T* brow = b + p * b1 + j0;
    for (int j = 0; j < W; ++j) acc[j] += av * brow[j];
  }
  for (int j = 0; j < W; ++j) row[j0 + j] = acc[j];
}

// The last r < 4 columns of a row: their sums side by side, over even and odd p
// apart, so that no column waits on one long chain of dependent adds.
template <typename T>
inline void small_row_tail(T* row, const T* arow, int64_t a2, const T* b, int64_t b1, int64_t k,
                           int64_t j0, int64_t r) {
  T even[3] = {}, odd[3] = {};
  int64_t p = 0;
  for (; p + 2 <= k; p += 2) {
    const T a_even = arow[p * a2], a_odd = arow[(p + 1) * a2];
    const T* b_even = b + p * b1 + j0;
    const T* b_odd = b_even + b1;
    for (int64_t j = 0; j < r; ++j) {
      even[j] += a_even * b_even[j];
      odd[j] += a_odd * b_odd[j];
    }
  }
  if (p < k) {
    for (int64_t j = 0; j < r; ++j) even[j] += arow[p * a2] * b[p * b1 + j0 + j];
  }
  for (int64_t j = 0; j < r; ++j) row[j0 + j] = even[j] + odd[j];
}

// out (contiguous [B, n, m]) = a @ b for every batch, by direct loops over
// a and b's strides. With b's rows contiguous, each output row is done in
// blocks of 16, 8, 4 and 1 columns accumulated in registers; otherwise the
// inner loop runs along b's rows with a stride.
template <typename T>
void small_bmm(const Tensor& out, const Tensor& a, const Tensor& b) {
  const int64_t batch = a.sizes()[0], n = a.sizes()[1], k = a.sizes()[2], m = b.sizes()[2];
  const int64_t a0 = a.strides()[0], a1 = a.strides()[1], a2 = a.strides()[2];
  const int64_t b0 = b.strides()[0], b1 = b.strides()[1], b2 = b.strides()[2];
  const T* pa = static_cast<const T*>(a.raw_data());
  const T* pb = static_cast<const T*>(b.raw_data());
  T* pc = static_cast<T*>(out.raw_data());
  const int64_t per = std::max<int64_t>(1, n * k * m);
  parallel_for(0, batch, std::max<int64_t>(1, detail::kGrain / per), [&](int64_t lo, int64_t hi) {
    for (int64_t bi = lo; bi < hi; ++bi) {
      const T* ab = pa + bi * a0;
      const T* bb = pb + bi * b0;
      T* cb = pc + bi * n * m;
      for (int64_t i = 0; i < n; ++i) {
        T* row = cb + i * m;
        const T* arow = ab + i * a1;
        if (b2 == 1) {
          int64_t j = 0;
          for (; j + 16 <= m; j += 16) small_row_block<T, 16>(row, arow, a2, bb, b1, k, j);
          if (j + 8 <= m) {
            small_row_block<T, 8>(row, arow, a2, bb, b1, k, j);
            j += 8;
          }
          if (j + 4 <= m) {
            small_row_block<T, 4>(row, arow, a2, bb, b1, k, j);
            j += 4;
          }
          if (j < m) small_row_tail<T>(row, arow, a2, bb, b1, k, j, m - j);
          continue;
        }
        std::fill_n(row, m, T(0));
        for (int64_t p = 0; p < k; ++p) {
          const T av = arow[p * a2];
          const T* brow = bb + p * b1;
          for (int64_t j = 0; j < m; ++j) row[j] += av * brow[j * b2];
        }
      }
    }
  });
}

void bmm_into(const Tensor& out, const Tensor& a, const Tensor& b) {
  if (out.is_meta() || out.numel() == 0) return;
  const int64_t product = a.sizes()[1] * a.sizes()[2] * b.sizes()[2];
  if (product <= kSmallProduct && (out.dtype() == kFloat32 || out.dtype() == kFloat64)) {
    if (out.dtype() == kFloat32) {
      small_bmm<float>(out, a, b);
    } else {
      small_bmm<double>(out, a, b);
    }
    return;
  }
  for (int64_t i = 0; i < a.sizes()[0]; ++i) {
    mm_into(detail::selected(out, 0, i), detail::selected(a, 0, i), detail::selected(b, 0, i), 1,
            0);
  }
}

Tensor bmm_k(const Tensor& a, const Tensor& b) {
  check_bmm("bmm", a, b);
  Tensor out = make_tensor({a.sizes()[0], a.sizes()[1], b.sizes()[2]}, a.dtype(), a.device());
  bmm_into(out, a, b);
  return out;
}

const Tensor& bmm_out_k(const Tensor& a, const Tensor& b, const Tensor& out) {
  check_bmm("bmm.out", a, b);
  const int64_t shape[] = {a.sizes()[0], a.sizes()[1], b.sizes()[2]};
  return write_result("bmm.out", out, IntArrayRef(shape, 3), a.dtype(), {&a, &b},
                      [&](const Tensor& o) { bmm_into(o, a, b); });
}

template <typename T>
void dot_typed(const Tensor& out, const Tensor& a, const Tensor& b) {
  const int64_t n = a.numel();
  const T* x = static_cast<const T*>(a.raw_data());
  const T* y = static_cast<const T*>(b.raw_data());
  const int64_t sx = a.strides()[0], sy_ = b.strides()[0];
  T* r = static_cast<T*>(out.raw_data());
  if constexpr (std::is_same_v<T, float>) {
    sync_blas_threads();
    *r = cblas_sdot(static_cast<int>(n), x, static_cast<int>(sx), y, static_cast<int>(sy_));
  } else if constexpr (std::is_same_v<T, double>) {
    sync_blas_threads();
    *r = cblas_ddot(static_cast<int>(n), x, static_cast<int>(sx), y, static_cast<int>(sy_));
  } else {
    T acc = 0;
    for (int64_t i = 0; i < n; ++i) acc = static_cast<T>(acc + x[i * sx] * y[i * sy_]);
    *r = acc;
  }
}

Tensor dot_k(const Tensor& a, const Tensor& b) {
  check_pair("dot", a, b);
  SY_CHECK(a.dim() == 1 && b.dim() == 1 && a.numel() == b.numel(), ValueError,
           "dot: expects two 1-d tensors of one length, got shapes {} and {}", to_string(a.sizes()),
           to_string(b.sizes()));
  Tensor out = make_tensor({}, a.dtype(), a.device());
  if (out.is_meta()) return out;
  if (is_reduced_float(a.dtype())) return to(dot_k(to(a, kFloat32), to(b, kFloat32)), a.dtype());
  SY_DISPATCH_ALL_TYPES(a.dtype(), "dot", [&] { dot_typed<scalar_t>(out, a, b); });
  return out;
}

void check_addmm(std::string_view op, const Tensor& self, const Tensor& a, const Tensor& b) {
  check_mm(op, a, b);
  check_pair(op, self, a);
  const int64_t shape[] = {a.sizes()[0], b.sizes()[1]};
  SY_CHECK(broadcast_shapes(self.sizes(), IntArrayRef(shape, 2)) == IntArrayRef(shape, 2),
           ValueError, "{}: self of shape {} does not broadcast to the product's shape {}", op,
           to_string(self.sizes()), to_string(IntArrayRef(shape, 2)));
}

void addmm_into(const Tensor& out, const Tensor& self, const Tensor& a, const Tensor& b,
                const Scalar& beta, const Scalar& alpha) {
  if (out.is_meta()) return;
  if (beta.to<double>() != 0) detail::copy_values(out, self);
  mm_into(out, a, b, alpha, beta);
}

Tensor addmm_k(const Tensor& self, const Tensor& a, const Tensor& b, const Scalar& beta,
               const Scalar& alpha) {
  check_addmm("addmm", self, a, b);
  Tensor out = make_tensor({a.sizes()[0], b.sizes()[1]}, a.dtype(), a.device());
  addmm_into(out, self, a, b, beta, alpha);
  return out;
}

const Tensor& addmm_out_k(const Tensor& self, const Tensor& a, const Tensor& b, const Scalar& beta,
                          const Scalar& alpha, const Tensor& out) {
  check_addmm("addmm.out", self, a, b);
  const int64_t shape[] = {a.sizes()[0], b.sizes()[1]};
  return write_result("addmm.out", out, IntArrayRef(shape, 2), a.dtype(), {&self, &a, &b},
                      [&](const Tensor& o) { addmm_into(o, self, a, b, beta, alpha); });
}

// ---- matmul (composite) ---------------------------------------------------------------

Tensor matmul_composite(const Tensor& a, const Tensor& b) {
  SY_CHECK(a.dim() >= 1 && b.dim() >= 1, ValueError,
           "matmul: both operands need at least one dimension, got shapes {} and {}",
           to_string(a.sizes()), to_string(b.sizes()));
  if (a.dim() == 1 && b.dim() == 1) return dot(a, b);
  if (a.dim() == 2 && b.dim() == 2) return mm(a, b);
  if (a.dim() == 1 && b.dim() == 2) return squeeze(mm(unsqueeze(a, 0), b), 0);
  if (a.dim() == 2 && b.dim() == 1) return squeeze(mm(a, unsqueeze(b, 1)), 1);
  // Stacks: vectors become matrices, leading dims broadcast, then one bmm.
  const Tensor x = a.dim() == 1 ? unsqueeze(a, 0) : a;
  const Tensor y = b.dim() == 1 ? unsqueeze(b, 1) : b;
  const int64_t n = x.sizes()[x.dim() - 2], k = x.sizes()[x.dim() - 1];
  const int64_t k2 = y.sizes()[y.dim() - 2], m = y.sizes()[y.dim() - 1];
  SY_CHECK(k == k2, ValueError,
           "matmul: shapes {} and {} do not match: the last dim of self ({}) must equal the "
           "second-to-last dim of other ({})",
           to_string(a.sizes()), to_string(b.sizes()), k, k2);
  const DimVector batch = detail::broadcast_for(
      "matmul", IntArrayRef(x.sizes().data(), static_cast<size_t>(x.dim() - 2)),
      IntArrayRef(y.sizes().data(), static_cast<size_t>(y.dim() - 2)));
  int64_t nb = 1;
  for (size_t i = 0; i < batch.size(); ++i) nb *= batch[i];
  DimVector xs(batch), ys(batch), out_shape(batch);
  xs.push_back(n), xs.push_back(k);
  ys.push_back(k), ys.push_back(m);
  const Tensor x3 = reshape(expand(x, xs), {nb, n, k});
  const Tensor y3 = reshape(expand(y, ys), {nb, k, m});
  if (a.dim() > 1) out_shape.push_back(n);
  if (b.dim() > 1) out_shape.push_back(m);
  return reshape(bmm(x3, y3), out_shape);
}

}  // namespace
}  // namespace sy

#include "switchyard/ops/generated/linalg_ops_registrations.h"
