// rand and randn with the per-thread Philox generator (random.h), each with one
// kernel at CompositeExplicitAutograd (the device argument picks where the
// result lives; meta makes no data).
// The ops are declared in random_ops.yaml (docs/op-table.md); their registrations,
// generated from it, are included at the end of this file.
#include <atomic>
#include <cmath>
#include <numbers>

#include "switchyard/dispatch/library.h"
#include "switchyard/ops/op_call.h"
#include "switchyard/ops/ops.h"
#include "switchyard/ops/random.h"
#include "switchyard/parallel/parallel.h"

namespace sy {
namespace detail {

std::array<uint32_t, 4> PhiloxGenerator::block(uint64_t counter) const {
  // Philox-4x32 with 10 rounds (Salmon et al., SC'11).
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32);
  uint32_t c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed_), k1 = static_cast<uint32_t>(seed_ >> 32);
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t{kM0} * c0, p1 = uint64_t{kM1} * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(p1);
    c3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c2 = n2;
    k0 += kW0;
    k1 += kW1;
  }
  return {c0, c1, c2, c3};
}

std::array<uint32_t, 4> PhiloxGenerator::next() { return block(counter_++); }

namespace {
// Seeds for new threads: a fixed start, stepped by a large odd constant.
std::atomic<uint64_t> g_next_thread_seed{0x5EEDu};
}  // namespace

PhiloxGenerator& thread_generator() {
  thread_local PhiloxGenerator gen(
      g_next_thread_seed.fetch_add(0x9E3779B97F4A7C15ull, std::memory_order_relaxed));
  return gen;
}

}  // namespace detail

void manual_seed(uint64_t seed) { detail::thread_generator() = detail::PhiloxGenerator(seed); }
uint64_t initial_seed() { return detail::thread_generator().seed(); }

namespace {

// Uniform in [0, 1) from 24 (float) or 53 (double) random bits.
template <typename T>
T uniform(uint32_t lo, uint32_t hi) {
  if constexpr (std::is_same_v<T, float>) {
    return static_cast<float>(lo >> 8) * 0x1.0p-24f;
  } else {
    return static_cast<double>(((uint64_t{hi} << 32) | lo) >> 11) * 0x1.0p-53;
  }
}

// Fills t (contiguous, float type) from blocks of the thread's generator; each
// block gives 2 values (uniform) or, by Box-Muller, 2 normal values.
template <typename T>
void fill_random(const Tensor& t, bool normal) {
  T* p = static_cast<T*>(t.raw_data());
  const int64_t n = t.numel();
  auto& gen = detail::thread_generator();
  const uint64_t first = gen.reserve(static_cast<uint64_t>((n + 1) / 2));
  parallel_for(0, (n + 1) / 2, 4096, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const auto r = gen.block(first + static_cast<uint64_t>(i));
      T u0 = uniform<T>(r[0], r[1]), u1 = uniform<T>(r[2], r[3]);
      if (normal) {
        const T radius = std::sqrt(T(-2) * std::log(T(1) - u0));  // 1 - u0 is in (0, 1]
        const T angle = T(2 * std::numbers::pi) * u1;
        u0 = radius * std::cos(angle);
        u1 = radius * std::sin(angle);
      }
      p[2 * i] = u0;
      if (2 * i + 1 < n) p[2 * i + 1] = u1;
    }
  });
}

Tensor random_kernel(std::string_view op, IntArrayRef size, std::optional<ScalarType> dtype,
                     std::optional<Device> device, bool requires_grad, bool normal) {
  const ScalarType t = dtype.value_or(kFloat32);
  SY_CHECK(is_floating_point(t), TypeError,
           "{}: makes floating-point tensors, got dtype {}; use float32 or float64", op,
           to_string(t));
  for (int64_t s : size) {
    SY_CHECK(s >= 0, ValueError, "{}: sizes must be >= 0, got {}", op, to_string(size));
  }
  Tensor out = make_tensor(size, t, device.value_or(kCPU));
  if (!out.is_meta() && out.numel() > 0) {
    if (t == kFloat64) {
      fill_random<double>(out, normal);
    } else if (t == kFloat32) {
      fill_random<float>(out, normal);
    } else {  // float16, bfloat16: drawn in float32, rounded
      Tensor wide = make_tensor(size, kFloat32, kCPU);
      fill_random<float>(wide, normal);
      copy_(out, wide);
    }
  }
  if (requires_grad) out.requires_grad_(true);
  return out;
}

Tensor rand_kernel(IntArrayRef size, std::optional<ScalarType> dtype, std::optional<Device> device,
                   bool requires_grad) {
  return random_kernel("rand", size, dtype, device, requires_grad, false);
}
Tensor randn_kernel(IntArrayRef size, std::optional<ScalarType> dtype, std::optional<Device> device,
                    bool requires_grad) {
  return random_kernel("randn", size, dtype, device, requires_grad, true);
}

// The *_like forms: self's shape, and its dtype and device unless given.
Tensor rand_like_kernel(const Tensor& self, std::optional<ScalarType> dtype,
                        std::optional<Device> device, bool requires_grad) {
  return random_kernel("rand_like", self.sizes(), dtype.value_or(self.dtype()),
                       device.value_or(self.device()), requires_grad, false);
}
Tensor randn_like_kernel(const Tensor& self, std::optional<ScalarType> dtype,
                         std::optional<Device> device, bool requires_grad) {
  return random_kernel("randn_like", self.sizes(), dtype.value_or(self.dtype()),
                       device.value_or(self.device()), requires_grad, true);
}

}  // namespace
}  // namespace sy

#include "switchyard/ops/generated/random_ops_registrations.h"
