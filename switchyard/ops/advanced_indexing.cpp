// Advanced indexing (advanced_indexing.yaml): index, index_put_, masked_fill,
// masked_select and nonzero. One kernel per op serves CPU and Meta: on meta
// tensors the checks run and the result is made without data, except where
// the result's shape depends on values (a bool mask), which is an error there.
// index_put and masked_fill (the out-of-place forms) are composites.
//
// Indexing moves elements and never computes with them, so every kernel works
// on bytes, for every dtype alike.
#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "switchyard/ops/elementwise_impl.h"
#include "switchyard/ops/op_call.h"

namespace sy {
namespace {

using detail::kGrain;

bool is_mask_dtype(ScalarType t) { return t == kBool || t == kUInt8; }

// ---- masks: counting and walking the true entries -----------------------------------------

// Bit i set when byte i of the 16 at p is nonzero.
inline uint32_t nonzero_bits16(const uint8_t* p) {
#if defined(__SSE2__)
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128()))) ^ 0xffffu;
#else
  uint32_t bits = 0;
  for (int i = 0; i < 16; ++i) bits |= static_cast<uint32_t>(p[i] != 0) << i;
  return bits;
#endif
}

// The number of nonzero bytes in m[begin, end).
int64_t count_true(const uint8_t* m, int64_t begin, int64_t end) {
  int64_t n = 0, i = begin;
  for (; i + 16 <= end; i += 16) n += std::popcount(nonzero_bits16(m + i));
  for (; i < end; ++i) n += m[i] != 0;
  return n;
}

// Calls fn(i) for each i in [begin, end) whose byte is nonzero, in order. Walks
// 16 bytes at a time by their bits, so a random mask costs no mispredicted
// branch per element.
template <typename F>
void for_each_true(const uint8_t* m, int64_t begin, int64_t end, F&& fn) {
  int64_t i = begin;
  for (; i + 16 <= end; i += 16) {
    for (uint32_t bits = nonzero_bits16(m + i); bits != 0; bits &= bits - 1) {
      fn(i + std::countr_zero(bits));
    }
  }
  for (; i < end; ++i) {
    if (m[i]) fn(i);
  }
}

// Splits [0, n) into pieces for two-pass work (count, then write): piece c is
// [c * size, min(n, (c + 1) * size)).
struct Pieces {
  int64_t size = 1, count = 0;
  Pieces(int64_t n, int64_t grain) {
    const int64_t threads = std::max(1, get_num_threads());
    size = std::max<int64_t>(std::max<int64_t>(grain, 1), (n + threads - 1) / threads);
    count = n == 0 ? 0 : (n + size - 1) / size;
  }
  int64_t begin(int64_t c) const { return c * size; }
  int64_t end(int64_t c, int64_t n) const { return std::min(n, (c + 1) * size); }
};

// For each piece, where its true entries start in the output; the total last.
std::vector<int64_t> true_offsets(const uint8_t* m, int64_t n, const Pieces& pieces) {
  std::vector<int64_t> starts(static_cast<size_t>(pieces.count + 1), 0);
  parallel_for(0, pieces.count, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      starts[static_cast<size_t>(c + 1)] = count_true(m, pieces.begin(c), pieces.end(c, n));
    }
  });
  for (size_t c = 1; c < starts.size(); ++c) starts[c] += starts[c - 1];
  return starts;
}

// A contiguous uint8 view of a bool or uint8 mask's bytes.
Tensor mask_bytes(const Tensor& mask) { return mask.contiguous(); }

// Copies the rows i of src (each `row_bytes` long, contiguous) whose m[i] is
// set, in order, into dst; `starts` (from true_offsets over `pieces`) says
// where each piece's rows land. E is an unsigned type of the row's size when a
// row is one element, void otherwise.
template <typename E>
void compact_rows(char* dst, const char* src, const uint8_t* m, int64_t rows, int64_t row_bytes,
                  const Pieces& pieces, const std::vector<int64_t>& starts) {
  parallel_for(0, pieces.count, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      int64_t j = starts[static_cast<size_t>(c)];
      if constexpr (std::is_void_v<E>) {
        for_each_true(m, pieces.begin(c), pieces.end(c, rows), [&](int64_t i) {
          std::memcpy(dst + j++ * row_bytes, src + i * row_bytes, static_cast<size_t>(row_bytes));
        });
      } else {
        E* out = reinterpret_cast<E*>(dst);
        const E* in = reinterpret_cast<const E*>(src);
        for_each_true(m, pieces.begin(c), pieces.end(c, rows),
                      [&](int64_t i) { out[j++] = in[i]; });
      }
    }
  });
}

// The rows of `x` (contiguous, rows of `row_shape`) where `mask` (contiguous
// bytes, one per row) is set, in a new tensor of shape [count, row_shape...].
Tensor select_rows(const Tensor& x, const Tensor& mask, IntArrayRef row_shape) {
  const auto* m = static_cast<const uint8_t*>(mask.raw_data());
  const int64_t rows = mask.numel();
  int64_t row_elems = 1;
  for (int64_t s : row_shape) row_elems *= s;
  const int64_t es = element_size(x.dtype());
  const Pieces pieces(rows, kGrain / std::max<int64_t>(1, row_elems));
  const std::vector<int64_t> starts = true_offsets(m, rows, pieces);
  DimVector shape(size_t{1}, starts.back());
  for (int64_t s : row_shape) shape.push_back(s);
  Tensor out = make_tensor(shape, x.dtype(), x.device());
  if (out.numel() == 0) return out;
  auto* dst = static_cast<char*>(out.raw_data());
  const auto* src = static_cast<const char*>(x.raw_data());
  const int64_t rb = row_elems * es;
  if (row_elems != 1) {
    compact_rows<void>(dst, src, m, rows, rb, pieces, starts);
  } else if (es == 1) {
    compact_rows<uint8_t>(dst, src, m, rows, rb, pieces, starts);
  } else if (es == 2) {
    compact_rows<uint16_t>(dst, src, m, rows, rb, pieces, starts);
  } else if (es == 4) {
    compact_rows<uint32_t>(dst, src, m, rows, rb, pieces, starts);
  } else {
    compact_rows<uint64_t>(dst, src, m, rows, rb, pieces, starts);
  }
  return out;
}

void check_not_meta_for_mask(std::string_view op, const Tensor& t) {
  SY_CHECK(!t.is_meta(), ValueError,
           "{}: with a bool mask the result's shape depends on the mask's values, and a meta "
           "tensor has none; use integer indices (or a cpu tensor)",
           op);
}

// ---- nonzero -------------------------------------------------------------------------------

Tensor nonzero_k(const Tensor& self) {
  SY_CHECK(!self.is_meta(), ValueError,
           "nonzero: the result's shape depends on the values, and a meta tensor has none");
  const int64_t n = self.numel(), nd = self.dim();
  // Which elements are nonzero, as one byte each (bool and uint8 already are).
  Tensor flags = is_mask_dtype(self.dtype()) ? self.contiguous() : ne(self, 0).contiguous();
  const auto* m = static_cast<const uint8_t*>(flags.raw_data());
  const Pieces pieces(n, kGrain);
  const std::vector<int64_t> starts = true_offsets(m, n, pieces);
  Tensor out = make_tensor({starts.back(), nd}, kInt64, self.device());
  if (out.numel() == 0) return out;
  auto* o = static_cast<int64_t*>(out.raw_data());
  const IntArrayRef sizes = self.sizes();
  parallel_for(0, pieces.count, 1, [&](int64_t b, int64_t e) {
    DimVector coord(static_cast<size_t>(nd), 0);
    for (int64_t c = b; c < e; ++c) {
      // The coordinates of the piece's first element, then carried forward.
      int64_t at = pieces.begin(c), rest = at;
      for (int64_t d = nd; d-- > 0;) coord[d] = rest % sizes[d], rest /= sizes[d];
      int64_t* row = o + starts[static_cast<size_t>(c)] * nd;
      for_each_true(m, pieces.begin(c), pieces.end(c, n), [&](int64_t i) {
        if (nd == 0) return;
        coord[nd - 1] += i - at;
        for (int64_t d = nd - 1; d > 0 && coord[d] >= sizes[d]; --d) {
          coord[d - 1] += coord[d] / sizes[d];
          coord[d] %= sizes[d];
        }
        at = i;
        for (int64_t d = 0; d < nd; ++d) row[d] = coord[d];
        row += nd;
      });
    }
  });
  return out;
}

// ---- planning an index ------------------------------------------------------------------------

// self[indices] seen as rows: out = [outer..., B..., inner...], where the
// element at (o, b, i) is self's element at base(o) + offsets[b] + inner(i).
struct IndexPlan {
  DimVector out_shape;
  DimVector outer_sizes, outer_strides;  // self's dims before B (adjacent indices only)
  DimVector inner_sizes, inner_strides;  // self's dims after B
  DimVector bshape;                      // the broadcast shape of the index tensors
  std::vector<int64_t> offsets;          // per element of B, in elements (with data only)
  int64_t outer_numel = 1, inner_numel = 1, b_numel = 1;
  bool inner_contiguous = true;  // inner dims are contiguous in self
};

// The index tensors per dim of self: bool masks replaced by the columns of
// their nonzero(); undefined for dims taken whole.
std::vector<Tensor> per_dim_indices(std::string_view op, const Tensor& self,
                                    OptionalTensorListRef indices) {
  std::vector<Tensor> per_dim(static_cast<size_t>(self.dim()));
  int64_t d = 0;
  for (size_t i = 0; i < indices.size(); ++i) {
    const Tensor& idx = indices[i];
    const int64_t covers = !idx.defined() || !is_mask_dtype(idx.dtype()) ? 1 : idx.dim();
    SY_CHECK(d + covers <= self.dim(), IndexError,
             "{}: too many indices for a tensor of dimension {} (the indices cover {} dims)", op,
             self.dim(), d + covers);
    if (!idx.defined()) {
      ++d;
      continue;
    }
    SY_CHECK(is_mask_dtype(idx.dtype()) || idx.dtype() == kInt64 || idx.dtype() == kInt32,
             IndexError,
             "{}: tensors used as indices must be int64, int32, bool or uint8, but index {} is {}",
             op, i, to_string(idx.dtype()));
    SY_CHECK(idx.device() == self.device() || (idx.device().is_cpu() && idx.dim() == 0), ValueError,
             "{}: index {} is on {}, but self is on {}", op, i, idx.device().str(),
             self.device().str());
    if (!is_mask_dtype(idx.dtype())) {
      per_dim[static_cast<size_t>(d++)] = idx;
      continue;
    }
    SY_CHECK(idx.dim() > 0, ValueError,
             "{}: index {} is a zero-dim bool tensor, which covers no dim; unsqueeze self at that "
             "dim and index it with [0] (or nothing), as t[True] does",
             op, i);
    for (int64_t k = 0; k < idx.dim(); ++k) {
      SY_CHECK(idx.sizes()[k] == self.sizes()[d + k], IndexError,
               "{}: the shape of the mask {} at index {} does not match the shape of the indexed "
               "tensor {} at index {} (dim {} has size {} in the mask and {} in the tensor)",
               op, to_string(idx.sizes()), i, to_string(self.sizes()), d, d + k, idx.sizes()[k],
               self.sizes()[d + k]);
    }
    check_not_meta_for_mask(op, idx);
    check_not_meta_for_mask(op, self);
    const Tensor nz = nonzero_k(idx);
    for (int64_t k = 0; k < idx.dim(); ++k) per_dim[static_cast<size_t>(d + k)] = select(nz, 1, k);
    d += idx.dim();
  }
  return per_dim;
}

IndexPlan plan_index(std::string_view op, const Tensor& self, const std::vector<Tensor>& per_dim,
                     bool with_offsets) {
  IndexPlan p;
  std::vector<int64_t> dims;
  for (size_t d = 0; d < per_dim.size(); ++d) {
    if (per_dim[d].defined()) dims.push_back(static_cast<int64_t>(d));
  }
  for (size_t k = 0; k < dims.size(); ++k) {
    const IntArrayRef s = per_dim[static_cast<size_t>(dims[k])].sizes();
    if (k == 0) {
      p.bshape = DimVector(s);
      continue;
    }
    const size_t n = std::max(p.bshape.size(), s.size());
    DimVector out(n, 1);
    for (size_t i = 0; i < n; ++i) {
      const int64_t a = i < n - p.bshape.size() ? 1 : p.bshape[i - (n - p.bshape.size())];
      const int64_t b = i < n - s.size() ? 1 : s[i - (n - s.size())];
      SY_CHECK(a == b || a == 1 || b == 1, IndexError,
               "{}: shape mismatch: the index tensors cannot be broadcast together: shapes {} "
               "and {} (for dim {})",
               op, to_string(p.bshape), to_string(s), dims[k]);
      out[i] = a == 1 ? b : a;
    }
    p.bshape = out;
  }
  for (int64_t s : IntArrayRef(p.bshape)) p.b_numel *= s;
  const int64_t nd = self.dim();
  const bool adjacent =
      !dims.empty() && dims.back() - dims.front() + 1 == static_cast<int64_t>(dims.size());
  for (int64_t d = 0; d < nd; ++d) {
    if (per_dim[static_cast<size_t>(d)].defined()) continue;
    const bool before = adjacent && !dims.empty() && d < dims.front();
    (before ? p.outer_sizes : p.inner_sizes).push_back(self.sizes()[d]);
    (before ? p.outer_strides : p.inner_strides).push_back(self.strides()[d]);
  }
  for (int64_t s : IntArrayRef(p.outer_sizes)) p.outer_numel *= s;
  for (int64_t s : IntArrayRef(p.inner_sizes)) p.inner_numel *= s;
  p.out_shape = p.outer_sizes;
  for (int64_t s : IntArrayRef(p.bshape)) p.out_shape.push_back(s);
  for (int64_t s : IntArrayRef(p.inner_sizes)) p.out_shape.push_back(s);
  int64_t expected = 1;
  for (size_t k = p.inner_sizes.size(); k-- > 0;) {
    if (p.inner_sizes[k] != 1 && p.inner_strides[k] != expected) p.inner_contiguous = false;
    expected *= p.inner_sizes[k];
  }
  if (!with_offsets || self.is_meta()) return p;
  for (int64_t d : dims) {
    SY_CHECK(!per_dim[static_cast<size_t>(d)].is_meta(), ValueError,
             "{}: the index for dim {} is a meta tensor, but self has data", op, d);
  }
  p.offsets.assign(static_cast<size_t>(p.b_numel), 0);
  if (p.b_numel == 0) return p;
  for (int64_t d : dims) {
    const Tensor idx = per_dim[static_cast<size_t>(d)].to(kInt64).expand(p.bshape).contiguous();
    const auto* v = static_cast<const int64_t*>(idx.raw_data());
    const int64_t size = self.sizes()[d], stride = self.strides()[d];
    int64_t* off = p.offsets.data();
    bool bad = false;
    for (int64_t i = 0; i < p.b_numel; ++i) {
      const int64_t x = v[i];
      bad |= x < -size || x >= size;
      off[i] += (x < 0 ? x + size : x) * stride;
    }
    if (SY_UNLIKELY(bad)) {
      for (int64_t i = 0; i < p.b_numel; ++i) {
        SY_CHECK(v[i] >= -size && v[i] < size, IndexError,
                 "{}: index {} is out of bounds for dimension {} with size {}", op, v[i], d, size);
      }
    }
  }
  return p;
}

// The element offset in self of outer row o.
int64_t outer_offset(const IndexPlan& p, int64_t o) {
  int64_t off = 0;
  for (size_t d = p.outer_sizes.size(); d-- > 0;) {
    off += (o % p.outer_sizes[d]) * p.outer_strides[d];
    o /= p.outer_sizes[d];
  }
  return off;
}

inline void copy_bytes(char* dst, const char* src, int64_t es) {
  switch (es) {
    case 1: *dst = *src; return;
    case 2: std::memcpy(dst, src, 2); return;
    case 4: std::memcpy(dst, src, 4); return;
    case 8: std::memcpy(dst, src, 8); return;
    default: std::memcpy(dst, src, static_cast<size_t>(es));
  }
}

// Calls fn(row, self_offset) for each row (o, b) of the plan, in parallel; a
// row covers inner_numel elements of the result.
template <typename F>
void for_each_row(const IndexPlan& p, F&& fn) {
  const int64_t rows = p.outer_numel * p.b_numel;
  parallel_for(0, rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, p.inner_numel)),
               [&](int64_t lo, int64_t hi) {
                 // Row r is (o, b) = (r / b_numel, r % b_numel): divide once, then step.
                 int64_t o = lo / p.b_numel, b = lo % p.b_numel;
                 int64_t base = outer_offset(p, o);
                 const int64_t* off = p.offsets.data();
                 for (int64_t r = lo; r < hi; ++r) {
                   fn(r, base + off[b]);
                   if (++b == p.b_numel && r + 1 < hi) b = 0, base = outer_offset(p, ++o);
                 }
               });
}

void gather_into(const Tensor& out, const Tensor& self, const IndexPlan& p) {
  const int64_t es = element_size(self.dtype());
  auto* dst = static_cast<char*>(out.raw_data());
  const auto* src = static_cast<const char*>(self.raw_data());
  const int64_t row_bytes = p.inner_numel * es;
  for_each_row(p, [&](int64_t r, int64_t base) {
    char* d = dst + r * row_bytes;
    if (p.inner_contiguous) {
      if (p.inner_numel == 1) {
        copy_bytes(d, src + base * es, es);
      } else {
        std::memcpy(d, src + base * es, static_cast<size_t>(row_bytes));
      }
      return;
    }
    detail::for_each_offset(p.inner_sizes, p.inner_strides, [&](int64_t off) {
      copy_bytes(d, src + (base + off) * es, es);
      d += es;
    });
  });
}

// The only index is a bool mask over self's leading dims.
bool is_leading_mask(OptionalTensorListRef indices) {
  return indices.size() == 1 && indices[0].defined() && is_mask_dtype(indices[0].dtype()) &&
         indices[0].dim() > 0;
}

// ---- index -------------------------------------------------------------------------------

Tensor index_k(const Tensor& self, OptionalTensorListRef indices) {
  if (is_leading_mask(indices) && !self.is_meta() && !indices[0].is_meta() &&
      indices[0].dim() <= self.dim() &&
      IntArrayRef(self.sizes().data(), static_cast<size_t>(indices[0].dim())) ==
          indices[0].sizes()) {
    // t[mask]: the selected rows, compacted in one pass over the mask.
    const Tensor& mask = indices[0];
    const IntArrayRef rest(self.sizes().data() + mask.dim(),
                           static_cast<size_t>(self.dim() - mask.dim()));
    return select_rows(self.contiguous(), mask_bytes(mask), rest);
  }
  const std::vector<Tensor> per_dim = per_dim_indices("index", self, indices);
  const IndexPlan p = plan_index("index", self, per_dim, true);
  Tensor out = make_tensor(p.out_shape, self.dtype(), self.device());
  if (out.is_meta() || out.numel() == 0) return out;
  gather_into(out, self, p);
  return out;
}

// ---- index_put_ ----------------------------------------------------------------------------

template <typename T>
void accumulate_rows(const Tensor& self, const Tensor& vals, const IndexPlan& p) {
  // Sequential: repeated positions must all add up.
  T* dst = static_cast<T*>(self.raw_data());
  const T* v = static_cast<const T*>(vals.raw_data());
  const int64_t rows = p.outer_numel * p.b_numel;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t base =
        outer_offset(p, r / p.b_numel) + p.offsets[static_cast<size_t>(r % p.b_numel)];
    const T* src = v + r * p.inner_numel;
    if (p.inner_contiguous) {
      T* d = dst + base;
      for (int64_t i = 0; i < p.inner_numel; ++i) d[i] = static_cast<T>(d[i] + src[i]);
    } else {
      int64_t i = 0;
      detail::for_each_offset(p.inner_sizes, p.inner_strides, [&](int64_t off) {
        dst[base + off] = static_cast<T>(dst[base + off] + src[i++]);
      });
    }
  }
}

void check_values_fit(const Tensor& values, IntArrayRef shape) {
  bool fits = values.dim() <= static_cast<int64_t>(shape.size());
  for (int64_t k = 1; fits && k <= values.dim(); ++k) {
    const int64_t v = values.sizes()[values.dim() - k];
    fits = v == 1 || v == shape[shape.size() - k];
  }
  SY_CHECK(fits, ValueError,
           "index_put_: shape mismatch: values of shape {} cannot be broadcast to the indexing "
           "result of shape {}",
           to_string(values.sizes()), to_string(shape));
}

const Tensor& index_put_k(const Tensor& self, OptionalTensorListRef indices, const Tensor& values,
                          bool accumulate) {
  detail::check_writable("index_put_", self);
  SY_CHECK(values.dtype() == self.dtype(), TypeError,
           "index_put_: values are {}, but self is {}; index put requires one dtype (convert "
           "values with .to({}))",
           to_string(values.dtype()), to_string(self.dtype()), to_string(self.dtype()));
  detail::result_device("index_put_", {&self, &values});
  const bool has_mask = std::any_of(indices.begin(), indices.end(), [](const Tensor& t) {
    return t.defined() && is_mask_dtype(t.dtype());
  });
  if (self.is_meta() || values.is_meta()) {
    if (!has_mask) {
      const IndexPlan p =
          plan_index("index_put_", self, per_dim_indices("index_put_", self, indices), false);
      check_values_fit(values, p.out_shape);
    }
    return self;
  }
  if (!accumulate && values.numel() == 1 && is_leading_mask(indices) &&
      values.dim() <= 1 + self.dim() - indices[0].dim() && indices[0].dim() <= self.dim() &&
      IntArrayRef(self.sizes().data(), static_cast<size_t>(indices[0].dim())) ==
          indices[0].sizes()) {
    // t[mask] = v: a masked fill of the rows the mask selects.
    Tensor mask = indices[0];
    if (mask.dtype() != kBool) mask = ne(mask, 0);
    while (mask.dim() < self.dim()) mask = unsqueeze(mask, -1);
    return masked_fill_(self, mask, values.reshape({}));
  }
  const std::vector<Tensor> per_dim = per_dim_indices("index_put_", self, indices);
  const IndexPlan p = plan_index("index_put_", self, per_dim, true);
  check_values_fit(values, p.out_shape);
  if (p.outer_numel * p.b_numel * p.inner_numel == 0) return self;
  // Values read through self's memory would change as they are written.
  Tensor vals = values.expand(p.out_shape);
  vals = detail::may_overlap(vals, self) ? vals.clone() : vals.contiguous();
  if (accumulate) {
    SY_DISPATCH_ALL_TYPES_AND_HALF(self.dtype(), "index_put_",
                                   [&] { accumulate_rows<scalar_t>(self, vals, p); });
    return self;
  }
  const int64_t es = element_size(self.dtype());
  auto* dst = static_cast<char*>(self.raw_data());
  const auto* src = static_cast<const char*>(vals.raw_data());
  const int64_t row_bytes = p.inner_numel * es;
  // Repeated positions take one of their values (which one is unspecified, as in PyTorch).
  for_each_row(p, [&](int64_t r, int64_t base) {
    const char* s = src + r * row_bytes;
    if (p.inner_contiguous) {
      std::memcpy(dst + base * es, s, static_cast<size_t>(row_bytes));
      return;
    }
    detail::for_each_offset(p.inner_sizes, p.inner_strides, [&](int64_t off) {
      copy_bytes(dst + (base + off) * es, s, es);
      s += es;
    });
  });
  return self;
}

// ---- masked_fill_, masked_select -------------------------------------------------------------

void check_mask(std::string_view op, const Tensor& mask) {
  SY_CHECK(is_mask_dtype(mask.dtype()), TypeError,
           "{}: the mask must be a bool tensor, got {}; compare first (e.g. x > 0)", op,
           to_string(mask.dtype()));
}

const Tensor& masked_fill_tensor_i(const Tensor& self, const Tensor& mask, const Tensor& value) {
  check_mask("masked_fill_", mask);
  SY_CHECK(value.dim() == 0, ValueError,
           "masked_fill_: the value must be a zero-dim tensor (or a number), got one of shape {}",
           to_string(value.sizes()));
  SY_CHECK(detail::broadcast_for("masked_fill_", mask.sizes(), self.sizes()) == self.sizes(),
           ValueError,
           "masked_fill_: the mask of shape {} does not broadcast to self's shape {} (an "
           "in-place op keeps self's shape)",
           to_string(mask.sizes()), to_string(self.sizes()));
  detail::check_writable("masked_fill_", self);
  detail::result_device("masked_fill_", {&self, &mask});
  if (self.is_meta() || self.numel() == 0) return self;
  SY_CHECK(!value.is_meta(), ValueError, "masked_fill_: the value is a meta tensor, self is not");
  const Tensor v = value.dtype() == self.dtype() ? value : value.to(self.dtype());
  const IntArrayRef sizes = self.sizes();
  detail::ElementLoop<2> loop(
      sizes, {static_cast<char*>(self.raw_data()), static_cast<char*>(mask.raw_data())},
      {DimVector(self.strides()), detail::broadcast_strides(mask, sizes)},
      {element_size(self.dtype()), 1});
  SY_DISPATCH_ALL_TYPES_AND_HALF(self.dtype(), "masked_fill_", [&] {
    using T = scalar_t;
    const T fill = *static_cast<const T*>(v.raw_data());
    loop.run([fill](std::array<char*, 2> p, std::array<int64_t, 2> s, int64_t n) {
      if (s[0] == sizeof(T) && s[1] == 1) {
        T* o = reinterpret_cast<T*>(p[0]);
        const uint8_t* m = reinterpret_cast<const uint8_t*>(p[1]);
        for (int64_t i = 0; i < n; ++i) o[i] = m[i] ? fill : o[i];
        return;
      }
      for (int64_t i = 0; i < n; ++i) {
        if (*reinterpret_cast<const uint8_t*>(p[1] + i * s[1])) {
          *reinterpret_cast<T*>(p[0] + i * s[0]) = fill;
        }
      }
    });
  });
  return self;
}

const Tensor& masked_fill_scalar_i(const Tensor& self, const Tensor& mask, const Scalar& value) {
  // As in PyTorch, a value that does not fit self's dtype is an error, not a wrap.
  detail::check_scalar_fits("masked_fill_", "the value", value, self.dtype());
  return masked_fill_tensor_i(self, mask, detail::scalar_tensor(value, self.dtype()));
}

Tensor masked_select_k(const Tensor& self, const Tensor& mask) {
  check_mask("masked_select", mask);
  detail::result_device("masked_select", {&self, &mask});
  const DimVector shape = detail::broadcast_for("masked_select", self.sizes(), mask.sizes());
  check_not_meta_for_mask("masked_select", self);
  check_not_meta_for_mask("masked_select", mask);
  const Tensor x = (self.sizes() == IntArrayRef(shape) ? self : self.expand(shape)).contiguous();
  const Tensor m = (mask.sizes() == IntArrayRef(shape) ? mask : mask.expand(shape)).contiguous();
  return select_rows(x, m, {});
}

Tensor index_put_composite(const Tensor& self, OptionalTensorListRef indices, const Tensor& values,
                           bool accumulate) {
  return index_put_(self.clone(), indices, values, accumulate);
}

Tensor masked_fill_scalar_composite(const Tensor& self, const Tensor& mask, const Scalar& value) {
  const DimVector shape = detail::broadcast_for("masked_fill", self.sizes(), mask.sizes());
  Tensor out = self.sizes() == IntArrayRef(shape) ? self.clone() : self.expand(shape).clone();
  return masked_fill_(out, mask, value);
}
Tensor masked_fill_tensor_composite(const Tensor& self, const Tensor& mask, const Tensor& value) {
  const DimVector shape = detail::broadcast_for("masked_fill", self.sizes(), mask.sizes());
  Tensor out = self.sizes() == IntArrayRef(shape) ? self.clone() : self.expand(shape).clone();
  return masked_fill_(out, mask, value);
}

}  // namespace
}  // namespace sy

#include "switchyard/ops/generated/advanced_indexing_registrations.h"
