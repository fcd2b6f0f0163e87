// float16 and bfloat16 conversions: every 16-bit pattern survives a round trip
// through float, and float -> 16 bits rounds to the nearest value (ties to
// even) as a search over all representable values says it should.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "switchyard/switchyard.h"

namespace sy {
namespace {

template <typename H>
std::vector<std::pair<float, uint16_t>> finite_nonnegative_values() {
  std::vector<std::pair<float, uint16_t>> v;
  for (uint32_t b = 0; b < 0x8000; ++b) {
    const float f = static_cast<float>(H::from_bits(static_cast<uint16_t>(b)));
    if (std::isfinite(f)) v.push_back({f, static_cast<uint16_t>(b)});
  }
  std::sort(v.begin(), v.end());
  return v;
}

// The bits of the value nearest to `x`, ties to the even bit pattern; beyond
// the largest finite value by half an ulp or more, infinity.
template <typename H>
uint16_t nearest(float x, const std::vector<std::pair<float, uint16_t>>& values, uint16_t infinity,
                 float overflow_at) {
  const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  const float a = std::fabs(x);
  if (a >= overflow_at) return sign | infinity;
  auto hi = std::lower_bound(values.begin(), values.end(), std::make_pair(a, uint16_t{0}));
  if (hi == values.end()) return sign | values.back().second;
  if (hi->first == a) return sign | hi->second;
  auto lo = hi - 1;
  const double dl = static_cast<double>(a) - lo->first, dh = hi->first - static_cast<double>(a);
  if (dl < dh) return sign | lo->second;
  if (dh < dl) return sign | hi->second;
  return sign | ((lo->second & 1) == 0 ? lo->second : hi->second);
}

template <typename H>
void check_every_pattern_round_trips() {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const H h = H::from_bits(static_cast<uint16_t>(b));
    const float f = h;
    const H back(f);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(static_cast<float>(back))) << b;
    } else {
      EXPECT_EQ(back.bits, b) << "bits " << b << " -> " << f;
    }
  }
}

TEST(Half, EveryPatternRoundTripsThroughFloat) { check_every_pattern_round_trips<Half>(); }
TEST(BFloat16, EveryPatternRoundTripsThroughFloat) { check_every_pattern_round_trips<BFloat16>(); }

template <typename H>
void check_rounding(uint16_t infinity, float overflow_at) {
  const auto values = finite_nonnegative_values<H>();
  std::mt19937 gen(7);
  std::uniform_int_distribution<uint32_t> bits;
  int checked = 0;
  for (int i = 0; i < 200000; ++i) {
    const float x = std::bit_cast<float>(bits(gen));
    if (std::isnan(x)) continue;
    ASSERT_EQ(H(x).bits, nearest<H>(x, values, infinity, overflow_at)) << x;
    ++checked;
  }
  // Values at and between representable ones, where ties live.
  for (size_t k = 0; k + 1 < values.size(); k += 7) {
    const float mid = static_cast<float>(
        (static_cast<double>(values[k].first) + static_cast<double>(values[k + 1].first)) / 2);
    for (float x : {values[k].first, mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e9f)}) {
      ASSERT_EQ(H(x).bits, nearest<H>(x, values, infinity, overflow_at)) << x;
      ASSERT_EQ(H(-x).bits, nearest<H>(-x, values, infinity, overflow_at)) << -x;
    }
    ++checked;
  }
  EXPECT_GT(checked, 100000);
}

TEST(Half, FloatRoundsToNearestEven) { check_rounding<Half>(0x7c00, 65520.0f); }
TEST(BFloat16, FloatRoundsToNearestEven) {
  // Half an ulp above the largest finite bfloat16 (0x7f7f) rounds to infinity.
  const float max = static_cast<float>(BFloat16::from_bits(0x7f7f));
  const float overflow = static_cast<float>((static_cast<double>(max) + 0x1p128) / 2);
  check_rounding<BFloat16>(0x7f80, overflow);
}

TEST(Half, NaNStaysNaNAndKnownValues) {
  EXPECT_TRUE(std::isnan(static_cast<float>(Half(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_TRUE(std::isnan(static_cast<float>(BFloat16(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_EQ(Half(1.0f).bits, 0x3c00);
  EXPECT_EQ(Half(65504.0f).bits, 0x7bff);
  EXPECT_EQ(Half(-2.0f).bits, 0xc000);
  EXPECT_EQ(Half(0x1p-24f).bits, 0x0001);  // the smallest subnormal
  EXPECT_EQ(BFloat16(1.0f).bits, 0x3f80);
  EXPECT_EQ(static_cast<float>(BFloat16::from_bits(0x4049)), 3.140625f);
}

TEST(HalfTensor, ConvertsPrintsAndPromotes) {
  const Tensor h = tensor({1.5, -2.25}).to(kFloat16);
  EXPECT_EQ(h.dtype(), kFloat16);
  EXPECT_EQ(element_size(kFloat16), 2);
  EXPECT_EQ(h.to_string(), "tensor([ 1.5000, -2.2500], dtype=sy.float16)");
  EXPECT_EQ(h.select(0, 0).item<float>(), 1.5f);
  EXPECT_EQ(promote_types(kFloat16, kBFloat16), kFloat32);
  EXPECT_EQ(promote_types(kInt64, kFloat16), kFloat16);
  EXPECT_EQ(promote_types(kBFloat16, kFloat64), kFloat64);
  EXPECT_EQ((h + tensor({1.0}).to(kBFloat16)).dtype(), kFloat32);
  const Tensor s = (h * 2).sum();
  EXPECT_EQ(s.dtype(), kFloat16);
  EXPECT_EQ(s.item<float>(), -1.5f);
  EXPECT_EQ(parse_scalar_type("half"), kFloat16);
  EXPECT_EQ(to_string(kBFloat16), "bfloat16");
}

}  // namespace
}  // namespace sy
