// The vectorised kernels (switchyard/ops/vec), on every instruction set this
// CPU runs, against scalar references: random inputs, special values (NaN,
// +-inf, +-0, denormals, huge and tiny arguments) and every length up to a few
// vectors (tails), in place and out of place.
#include "switchyard/ops/vec/vec.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sy {
namespace {

template <typename T>
constexpr T kInf = std::numeric_limits<T>::infinity();
template <typename T>
constexpr T kNaN = std::numeric_limits<T>::quiet_NaN();

// Special values of T: the reference functions' edge cases and the limits.
template <typename T>
std::vector<T> special_values() {
  using L = std::numeric_limits<T>;
  return {kNaN<T>,
          -kNaN<T>,
          kInf<T>,
          -kInf<T>,
          T(0),
          T(-0.0),
          L::denorm_min(),
          -L::denorm_min(),
          L::min(),
          -L::min(),
          L::min() / 4,
          L::max(),
          -L::max(),
          L::epsilon(),
          T(1),
          T(-1),
          T(0.5),
          T(-0.5),
          T(2),
          T(1e-30),
          T(-1e-30),
          T(1e-7),
          T(-1e-7),
          T(10),
          T(-10),
          T(50),
          T(-50),
          T(88.7),
          T(-88.7),
          T(89),
          T(-89),
          T(103),
          T(-104),
          T(700),
          T(-745),
          T(710),
          T(1e10),
          T(-1e10),
          T(1e30),
          T(-1e30),
          T(3.9),
          T(-3.9),
          T(6),
          T(-6)};
}

// Random values spread over many magnitudes and both signs, then the special
// values, so they land in vector bodies and in tails.
template <typename T>
std::vector<T> inputs(std::mt19937& rng, int n) {
  std::vector<T> v;
  std::uniform_real_distribution<double> mant(-1.0, 1.0);
  std::uniform_int_distribution<int> expo(-20, 8);
  for (int i = 0; i < n; ++i) v.push_back(static_cast<T>(mant(rng) * std::ldexp(1.0, expo(rng))));
  for (T s : special_values<T>()) v.push_back(s);
  std::shuffle(v.begin(), v.end(), rng);
  return v;
}

// Distance in units in the last place between two finite values of T.
template <typename T>
double ulps(T a, T b) {
  using I = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
  auto ordered = [](T x) -> __int128 {
    const I i = std::bit_cast<I>(x);
    return i < 0 ? -static_cast<__int128>(i & std::numeric_limits<I>::max()) : i;
  };
  const __int128 d = ordered(a) - ordered(b);
  return static_cast<double>(d < 0 ? -d : d);
}

// Whether `got` matches the exact `want` (computed in long double): the same
// class for NaN, infinities and zeros of either sign, else within `max_ulps` or
// the absolute slack `abs` (for results that come out of a cancellation).
template <typename T>
::testing::AssertionResult close(T got, long double want, double max_ulps, long double abs = 0) {
  const T w = static_cast<T>(want);
  if (std::isnan(w) || std::isnan(got)) {
    if (std::isnan(w) && std::isnan(got)) return ::testing::AssertionSuccess();
  } else if (std::isinf(w) || std::isinf(got)) {
    if (got == w) return ::testing::AssertionSuccess();
    if (std::isinf(got) && std::abs(want) > std::numeric_limits<T>::max() * 0.999L &&
        std::signbit(got) == std::signbit(w)) {
      return ::testing::AssertionSuccess();  // rounds to overflow either way
    }
  } else if (ulps(got, w) <= max_ulps || std::abs(static_cast<long double>(got) - want) <= abs) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "got " << static_cast<double>(got) << ", want " << static_cast<double>(want) << " ("
         << (std::isfinite(got) && std::isfinite(w) ? ulps(got, w) : -1) << " ulps)";
}

class VecKernels : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    saved_ = vec::isa_name();
    ASSERT_TRUE(vec::use_isa(GetParam()));
    ASSERT_EQ(std::string(vec::isa_name()), GetParam());
  }
  void TearDown() override { vec::use_isa(saved_); }
  std::string saved_;
};

template <typename T>
struct Unary {
  const char* name;
  void (*kernel)(const T*, T*, int64_t);
  long double (*exact)(long double);
  double max_ulps;
  bool cancels;  // the result is x times a difference near 0: allow |x| * eps slack
};

template <typename T>
std::vector<Unary<T>> unary_ops() {
  return {
      {"exp", vec::exp, [](long double x) { return std::exp(x); }, 2, false},
      {"log", vec::log, [](long double x) { return std::log(x); }, 2, false},
      {"tanh", vec::tanh, [](long double x) { return std::tanh(x); }, 2, false},
      {"erf", vec::erf, [](long double x) { return std::erf(x); }, 2, false},
      {"sigmoid", vec::sigmoid, [](long double x) { return 1 / (1 + std::exp(-x)); }, 4, false},
      {"gelu", vec::gelu,
       [](long double x) { return x * std::erfc(-x / std::numbers::sqrt2_v<long double>) / 2; }, 4,
       true},
      {"gelu_tanh", vec::gelu_tanh,
       [](long double x) {
         const long double k =
             std::numbers::sqrt2_v<long double> * std::numbers::inv_sqrtpi_v<long double>;
         return x * (1 + std::tanh(k * (x + 0.044715L * x * x * x))) / 2;
       },
       4, true},
  };
}

template <typename T>
void check_unary(const Unary<T>& op, const std::vector<T>& x) {
  const T eps = std::numeric_limits<T>::epsilon();
  std::vector<T> y(x.size(), T(123));
  op.kernel(x.data(), y.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const long double slack = op.cancels ? 8 * eps * std::abs(static_cast<long double>(x[i])) : 0;
    EXPECT_TRUE(close<T>(y[i], op.exact(x[i]), op.max_ulps, slack))
        << op.name << "(" << static_cast<double>(x[i]) << ") at " << i << " of " << x.size();
  }
  // In place gives the same.
  std::vector<T> z = x;
  op.kernel(z.data(), z.data(), static_cast<int64_t>(z.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_TRUE(std::memcmp(&z[i], &y[i], sizeof(T)) == 0 || (std::isnan(z[i]) && std::isnan(y[i])))
        << op.name << " in place differs at " << i;
  }
}

template <typename T>
void unary_suite() {
  std::mt19937 rng(7);
  for (const Unary<T>& op : unary_ops<T>()) {
    check_unary(op, inputs<T>(rng, 2000));
    // Every length up to a few vectors, starting at an odd offset too.
    const std::vector<T> pool = inputs<T>(rng, 200);
    for (size_t n = 0; n <= 70; ++n) {
      check_unary(op, std::vector<T>(pool.begin() + 1, pool.begin() + 1 + n));
    }
  }
}

TEST_P(VecKernels, UnaryFloatMatchesTheExactValues) { unary_suite<float>(); }
TEST_P(VecKernels, UnaryDoubleMatchesTheExactValues) { unary_suite<double>(); }

TEST_P(VecKernels, LengthZeroWritesNothing) {
  float y = 5;
  vec::exp(&y, &y, 0);
  EXPECT_EQ(y, 5);
}

template <typename T>
void pow_suite() {
  std::mt19937 rng(11);
  std::vector<T> bases = inputs<T>(rng, 300), exps = inputs<T>(rng, 300);
  // Integer and half-integer exponents, negative bases, the C special cases.
  for (T e : {T(0), T(-0.0), T(1), T(-1), T(2), T(3), T(-3), T(0.5), T(-0.5), T(1.0 / 3), T(2.5),
              kInf<T>, -kInf<T>, kNaN<T>}) {
    for (T b : {T(0), T(-0.0), T(1), T(-1), T(2), T(-2), T(0.5), T(-8), kInf<T>, -kInf<T>, kNaN<T>,
                T(1e-30), T(1e30)}) {
      bases.push_back(b);
      exps.push_back(e);
    }
  }
  for (size_t n : {bases.size(), size_t{0}, size_t{1}, size_t{7}, size_t{17}, size_t{33}}) {
    std::vector<T> y(n);
    vec::pow(bases.data(), exps.data(), y.data(), static_cast<int64_t>(n));
    for (size_t i = 0; i < n; ++i) {
      const long double want =
          std::pow(static_cast<long double>(bases[i]), static_cast<long double>(exps[i]));
      EXPECT_TRUE(close<T>(y[i], want, 2))
          << "pow(" << static_cast<double>(bases[i]) << ", " << static_cast<double>(exps[i]) << ")";
      if (y[i] == 0 && want == 0) {
        EXPECT_EQ(std::signbit(y[i]), std::signbit(want))
            << "sign of pow(" << static_cast<double>(bases[i]) << ", "
            << static_cast<double>(exps[i]) << ")";
      }
    }
  }
}

TEST_P(VecKernels, PowFloatMatchesCsPow) { pow_suite<float>(); }
TEST_P(VecKernels, PowDoubleMatchesCsPow) { pow_suite<double>(); }

// softmax of one row as the scalar definition computes it, in long double.
template <typename T>
std::vector<long double> softmax_ref(const std::vector<T>& x, bool log) {
  long double m = -kInf<long double>;
  for (T v : x) m = std::max<long double>(m, v);
  if (std::isinf(m) && m < 0) m = 0;
  long double s = 0;
  for (T v : x) s += std::exp(static_cast<long double>(v) - m);
  for (T v : x) {
    if (std::isnan(v)) s = kNaN<long double>;
  }
  std::vector<long double> out;
  for (T v : x) {
    out.push_back(log ? static_cast<long double>(v) - m - std::log(s)
                      : std::exp(static_cast<long double>(v) - m) / s);
  }
  return out;
}

template <typename T>
void check_softmax_rows(const std::vector<T>& x, int64_t rows, int64_t n, const char* what) {
  const long double eps = std::numeric_limits<T>::epsilon();
  for (bool log : {false, true}) {
    std::vector<T> y(x.size());
    vec::softmax_rows(x.data(), y.data(), rows, n, log);
    for (int64_t r = 0; r < rows; ++r) {
      const std::vector<T> row(x.begin() + r * n, x.begin() + (r + 1) * n);
      const std::vector<long double> want = softmax_ref(row, log);
      long double m = 0;
      for (T v : row) m = std::isfinite(v) ? std::max<long double>(m, std::abs(v)) : m;
      for (int64_t i = 0; i < n; ++i) {
        // exp(x - max) in T: the difference is rounded, which costs up to about
        // |x - max| / 2 ulps; log_softmax's x - (max + log sum) cancels.
        const long double spread = std::abs(static_cast<long double>(row[i])) + m + 4;
        const long double slack = log ? 2 * eps * spread : std::abs(want[i]) * eps * spread;
        ASSERT_TRUE(close<T>(y[r * n + i], want[i], 8, slack))
            << what << (log ? " log_softmax" : " softmax") << " row " << r << " of " << rows
            << ", element " << i << " of " << n << ", x = " << static_cast<double>(row[i]);
      }
    }
  }
}

template <typename T>
void softmax_suite() {
  std::mt19937 rng(3);
  std::normal_distribution<double> normal(0, 3);
  auto random_rows = [&](int64_t rows, int64_t n) {
    std::vector<T> x(static_cast<size_t>(rows * n));
    for (T& v : x) v = static_cast<T>(normal(rng));
    return x;
  };
  for (int64_t n = 1; n <= 70; ++n) check_softmax_rows(random_rows(3, n), 3, n, "short rows");
  check_softmax_rows(random_rows(4, 1000), 4, 1000, "rows of 1000");
  check_softmax_rows(random_rows(2, 5003), 2, 5003, "rows of 5003");
  // A row whose maximum keeps growing: a new run every block, more runs than kept.
  std::vector<T> rising(20000);
  for (size_t i = 0; i < rising.size(); ++i) rising[i] = static_cast<T>(i) * T(0.002);
  check_softmax_rows(rising, 1, static_cast<int64_t>(rising.size()), "rising row");
  // Special values: -inf entries, a row of -inf, +inf, NaN, huge spreads.
  const T inf = kInf<T>;
  const std::vector<std::vector<T>> special = {
      {-inf, T(1), T(2)},
      {-inf, -inf, -inf},
      {inf, T(0), T(1)},
      {kNaN<T>, T(0), T(1)},
      {T(-1e30), T(1e30), T(0)},
      {T(1000), T(-1000)},
      {std::numeric_limits<T>::max(), std::numeric_limits<T>::lowest()}};
  for (const auto& row : special) {
    check_softmax_rows(row, 1, static_cast<int64_t>(row.size()), "special row");
    // The same values in a long row, after many ordinary ones (another block).
    std::vector<T> long_row = random_rows(1, 700);
    long_row.insert(long_row.end(), row.begin(), row.end());
    check_softmax_rows(long_row, 1, static_cast<int64_t>(long_row.size()), "long special row");
  }
  // -inf until late in a long row.
  std::vector<T> late(600, -inf);
  late.push_back(T(3));
  late.push_back(T(4));
  check_softmax_rows(late, 1, static_cast<int64_t>(late.size()), "late finite values");
}

TEST_P(VecKernels, SoftmaxFloatRowsMatchTheDefinition) { softmax_suite<float>(); }
TEST_P(VecKernels, SoftmaxDoubleRowsMatchTheDefinition) { softmax_suite<double>(); }

template <typename T>
void reduction_suite() {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(-10, 10);
  for (int64_t n :
       {1, 2, 3, 7, 15, 16, 17, 31, 33, 63, 64, 65, 127, 129, 255, 4095, 4096, 4097, 100003}) {
    std::vector<T> x(static_cast<size_t>(n));
    for (T& v : x) v = static_cast<T>(u(rng));
    long double want = 0, abs_sum = 0;
    for (T v : x) want += v, abs_sum += std::abs(static_cast<long double>(v));
    EXPECT_NEAR(static_cast<double>(vec::sum(x.data(), n)), static_cast<double>(want),
                static_cast<double>(abs_sum) * 4 * std::numeric_limits<T>::epsilon())
        << "n = " << n;
    const T mx = *std::max_element(x.begin(), x.end());
    const T mn = *std::min_element(x.begin(), x.end());
    EXPECT_EQ(vec::max(x.data(), n), mx) << "n = " << n;
    EXPECT_EQ(vec::min(x.data(), n), mn) << "n = " << n;
    // A NaN anywhere (body or tail) makes max and min NaN; infinities win.
    for (int64_t at : {int64_t{0}, n / 2, n - 1}) {
      std::vector<T> y = x;
      y[at] = kNaN<T>;
      EXPECT_TRUE(std::isnan(vec::max(y.data(), n))) << "n = " << n << ", NaN at " << at;
      EXPECT_TRUE(std::isnan(vec::min(y.data(), n))) << "n = " << n << ", NaN at " << at;
      EXPECT_TRUE(std::isnan(vec::sum(y.data(), n))) << "n = " << n << ", NaN at " << at;
      y[at] = kInf<T>;
      EXPECT_EQ(vec::max(y.data(), n), kInf<T>);
      EXPECT_EQ(vec::sum(y.data(), n), kInf<T>);
      y[at] = -kInf<T>;
      EXPECT_EQ(vec::min(y.data(), n), -kInf<T>);
    }
  }
  // Denormals add up exactly; all -inf stays -inf.
  std::vector<T> tiny(37, std::numeric_limits<T>::denorm_min());
  EXPECT_EQ(vec::sum(tiny.data(), 37),
            37 * static_cast<double>(std::numeric_limits<T>::denorm_min()));
  std::vector<T> neg(19, -kInf<T>);
  EXPECT_EQ(vec::max(neg.data(), 19), -kInf<T>);
}

TEST_P(VecKernels, FloatReductionsMatchScalarOnes) { reduction_suite<float>(); }
TEST_P(VecKernels, DoubleReductionsMatchScalarOnes) { reduction_suite<double>(); }

template <typename E>
void transpose_case(int64_t rows, int64_t cols, bool unit_rows) {
  // A source of shape [cols, rows] (unit_rows) read transposed, or a strided one.
  const int64_t src_row = unit_rows ? 1 : cols * 3;
  const int64_t src_col = unit_rows ? rows + 5 : 2;
  std::vector<E> src(
      static_cast<size_t>(std::max<int64_t>(1, (rows - 1) * src_row + (cols - 1) * src_col + 1)));
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<E>(i * 2654435761u);
  const int64_t dst_row = cols + 3;
  std::vector<E> dst(static_cast<size_t>(std::max<int64_t>(1, rows * dst_row)), E(7));
  vec::transpose(src.data(), src_row, src_col, dst.data(), dst_row, rows, cols, sizeof(E));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < dst_row; ++c) {
      const E want = c < cols ? src[static_cast<size_t>(r * src_row + c * src_col)] : E(7);
      ASSERT_EQ(dst[static_cast<size_t>(r * dst_row + c)], want)
          << rows << " x " << cols << ", elsize " << sizeof(E) << ", at " << r << ", " << c;
    }
  }
}

TEST_P(VecKernels, TransposeCopiesEveryElementOnce) {
  for (int64_t rows : {1, 3, 8, 9, 17, 64, 65, 130}) {
    for (int64_t cols : {1, 2, 8, 15, 33, 64, 71}) {
      for (bool unit : {true, false}) {
        transpose_case<uint8_t>(rows, cols, unit);
        transpose_case<uint16_t>(rows, cols, unit);
        transpose_case<uint32_t>(rows, cols, unit);
        transpose_case<uint64_t>(rows, cols, unit);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryIsaThisCpuRuns, VecKernels,
                         ::testing::ValuesIn(vec::supported_isas()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(VecIsa, TheBestSupportedIsChosen) {
  const auto isas = vec::supported_isas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.back(), "generic");
  if (std::getenv("SY_VEC_ISA") == nullptr) EXPECT_EQ(vec::isa_name(), isas.front());
  EXPECT_FALSE(vec::use_isa("no-such-isa"));
}

}  // namespace
}  // namespace sy
