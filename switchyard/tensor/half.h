// The 16-bit floating-point element types: Half (IEEE 754 binary16, dtype
// float16) and BFloat16 (the top half of a float32, dtype bfloat16).
//
// Both are storage types: they convert implicitly to and from float, so an
// expression over them (a + b, a < b) computes in float32, and kernels round
// results back only when they store them. Conversion from float rounds to
// nearest, ties to even; NaN stays NaN and values beyond the range become
// infinities, as in PyTorch.
#pragma once

#include <bit>
#include <cstdint>
#include <type_traits>

namespace sy {

namespace detail {

// float32 -> binary16 bits, round to nearest even.
constexpr uint16_t float_to_half_bits(float value) {
  const uint32_t x = std::bit_cast<uint32_t>(value);
  const uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t magnitude = x & 0x7fffffffu;
  if (magnitude >= 0x47800000u) {  // >= 2^16: infinity, or NaN (kept quiet)
    return static_cast<uint16_t>(sign | (magnitude > 0x7f800000u ? 0x7e00u : 0x7c00u));
  }
  if (magnitude < 0x38800000u) {  // below 2^-14: a subnormal half or zero
    // Adding 0.5 lines the half's subnormal bits up with the bottom of the
    // float's mantissa, and the float add rounds them to nearest even.
    const float shifted = std::bit_cast<float>(magnitude) + 0.5f;
    return static_cast<uint16_t>(sign | (std::bit_cast<uint32_t>(shifted) - 0x3f000000u));
  }
  // A normal half: rebias the exponent (127 -> 15) and round away the 13 low
  // mantissa bits, ties to even (a carry into the exponent is correct rounding,
  // up to infinity).
  const uint32_t odd = (magnitude >> 13) & 1u;
  magnitude += 0xc8000fffu + odd;  // (15 - 127) << 23, plus the rounding bias
  return static_cast<uint16_t>(sign | (magnitude >> 13));
}

// binary16 bits -> float32 (exact).
constexpr float half_bits_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return std::bit_cast<float>(sign | std::bit_cast<uint32_t>(magnitude));
  }
  if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

// float32 -> bfloat16 bits, round to nearest even; NaN stays a quiet NaN.
constexpr uint16_t float_to_bfloat16_bits(float value) {
  const uint32_t x = std::bit_cast<uint32_t>(value);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x0040u);
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

constexpr float bfloat16_bits_to_float(uint16_t b) {
  return std::bit_cast<float>(static_cast<uint32_t>(b) << 16);
}

}  // namespace detail

struct Half {
  uint16_t bits = 0;

  Half() = default;
  constexpr Half(float v) : bits(detail::float_to_half_bits(v)) {}  // NOLINT: like a number
  constexpr operator float() const { return detail::half_bits_to_float(bits); }  // NOLINT
  static constexpr Half from_bits(uint16_t b) {
    Half h;
    h.bits = b;
    return h;
  }
};

struct BFloat16 {
  uint16_t bits = 0;

  BFloat16() = default;
  constexpr BFloat16(float v) : bits(detail::float_to_bfloat16_bits(v)) {}           // NOLINT
  constexpr operator float() const { return detail::bfloat16_bits_to_float(bits); }  // NOLINT
  static constexpr BFloat16 from_bits(uint16_t b) {
    BFloat16 h;
    h.bits = b;
    return h;
  }
};

static_assert(sizeof(Half) == 2 && sizeof(BFloat16) == 2);

// Whether T is a floating-point element type, the 16-bit ones included
// (std::is_floating_point_v is false for Half and BFloat16).
template <typename T>
inline constexpr bool is_floating_type_v =
    std::is_floating_point_v<T> || std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;

}  // namespace sy
