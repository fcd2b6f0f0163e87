// The per-thread random generator behind rand and randn.
//
// Each thread has its own generator, so random ops never take a lock. A thread
// starts from a seed drawn from the process's seed sequence (fixed at start-up
// and advanced once per new thread), so runs differ between threads but a
// program that seeds each thread with manual_seed is reproducible.
// The generator is Philox-4x32-10 keyed by the seed: counter-based, so filling
// a tensor is a loop of independent blocks.
#pragma once

#include <array>
#include <cstdint>

#include "switchyard/core/export.h"

namespace sy {

// Seeds the calling thread's generator: the same seed gives the same sequence.
SY_API void manual_seed(uint64_t seed);
// The seed the calling thread's generator started from.
SY_API uint64_t initial_seed();

namespace detail {
// The calling thread's generator: hands out blocks of four 32-bit values.
class SY_API PhiloxGenerator {
 public:
  explicit PhiloxGenerator(uint64_t seed = 0) { seed_ = seed; }
  uint64_t seed() const { return seed_; }
  // The next block of four random 32-bit values.
  std::array<uint32_t, 4> next();
  // Reserves `blocks` blocks and returns the counter of the first; block i of
  // the reservation is block(first + i).
  uint64_t reserve(uint64_t blocks) {
    const uint64_t first = counter_;
    counter_ += blocks;
    return first;
  }
  // The block at `counter`, computed directly (thread-safe: no state).
  std::array<uint32_t, 4> block(uint64_t counter) const;

 private:
  uint64_t seed_ = 0;
  uint64_t counter_ = 0;
};
SY_API PhiloxGenerator& thread_generator();
}  // namespace detail

}  // namespace sy
