// A set of runtime dispatch keys in one 64-bit word, bit i standing for the key
// numbered i. Priority is the key's number, so the key whose kernel runs is the
// highest set bit. Cheap to copy; every operation is a few bit instructions.
//
// A call's keys are (keys of its tensors | keys the thread included)
// & ~keys the thread excluded: exclusion wins over inclusion.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <string>

#include "switchyard/core/dispatch_key.h"
#include "switchyard/core/export.h"

namespace sy {

class DispatchKeySet {
 public:
  constexpr DispatchKeySet() = default;
  constexpr explicit DispatchKeySet(DispatchKey k)
      : bits_(is_runtime_key(k) ? uint64_t{1} << static_cast<int>(k) : 0) {}
  constexpr DispatchKeySet(std::initializer_list<DispatchKey> keys) {
    for (DispatchKey k : keys) bits_ |= DispatchKeySet(k).bits_;
  }

  // The set whose bit pattern is `bits`; bits above the runtime keys are dropped.
  static constexpr DispatchKeySet from_raw(uint64_t bits) {
    DispatchKeySet s;
    s.bits_ = bits & kRuntimeMask;
    return s;
  }
  // Every runtime key.
  static constexpr DispatchKeySet full() { return from_raw(kRuntimeMask); }

  constexpr uint64_t raw() const { return bits_; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr int size() const { return std::popcount(bits_); }
  constexpr bool has(DispatchKey k) const { return (bits_ & DispatchKeySet(k).bits_) != 0; }
  constexpr bool has_any(DispatchKeySet other) const { return (bits_ & other.bits_) != 0; }
  constexpr bool is_superset_of(DispatchKeySet other) const {
    return (bits_ & other.bits_) == other.bits_;
  }

  [[nodiscard]] constexpr DispatchKeySet add(DispatchKey k) const {
    return *this | DispatchKeySet(k);
  }
  [[nodiscard]] constexpr DispatchKeySet remove(DispatchKey k) const {
    return *this - DispatchKeySet(k);
  }

  // The key whose kernel runs: the highest-priority key, Undefined when empty.
  constexpr DispatchKey highest_priority_key() const {
    return static_cast<DispatchKey>(highest_index());
  }
  // The table index of highest_priority_key(): 0 for the empty set.
  constexpr int highest_index() const { return bits_ == 0 ? 0 : 63 - std::countl_zero(bits_); }

  // The keys strictly below runtime key `k` in priority: what a kernel at `k`
  // redispatches to. (An alias key is above every runtime key: the set is kept.)
  [[nodiscard]] constexpr DispatchKeySet remove_from_and_above(DispatchKey k) const {
    if (!is_runtime_key(k)) return k == DispatchKey::Undefined ? DispatchKeySet() : *this;
    return from_raw(bits_ & ((uint64_t{1} << static_cast<int>(k)) - 1));
  }
  // The keys at runtime key `k` and below.
  [[nodiscard]] constexpr DispatchKeySet keep_at_and_below(DispatchKey k) const {
    if (!is_runtime_key(k)) return k == DispatchKey::Undefined ? DispatchKeySet() : *this;
    return from_raw(bits_ & ((uint64_t{2} << static_cast<int>(k)) - 1));
  }
  // The highest backend key in the set, Undefined when there is none.
  constexpr DispatchKey highest_backend_key() const {
    return from_raw(bits_ & kBackendMask).highest_priority_key();
  }

  constexpr DispatchKeySet operator|(DispatchKeySet o) const { return from_raw(bits_ | o.bits_); }
  constexpr DispatchKeySet operator&(DispatchKeySet o) const { return from_raw(bits_ & o.bits_); }
  constexpr DispatchKeySet operator-(DispatchKeySet o) const { return from_raw(bits_ & ~o.bits_); }
  constexpr DispatchKeySet& operator|=(DispatchKeySet o) { return *this = *this | o; }
  constexpr DispatchKeySet& operator&=(DispatchKeySet o) { return *this = *this & o; }
  constexpr DispatchKeySet& operator-=(DispatchKeySet o) { return *this = *this - o; }
  constexpr bool operator==(const DispatchKeySet&) const = default;

  // Iterates the keys from lowest to highest priority.
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = DispatchKey;
    using difference_type = std::ptrdiff_t;
    using pointer = const DispatchKey*;
    using reference = DispatchKey;
    constexpr Iterator() = default;
    constexpr explicit Iterator(uint64_t bits) : bits_(bits) {}
    constexpr DispatchKey operator*() const {
      return static_cast<DispatchKey>(std::countr_zero(bits_));
    }
    constexpr Iterator& operator++() {
      bits_ &= bits_ - 1;
      return *this;
    }
    constexpr Iterator operator++(int) {
      Iterator old = *this;
      ++*this;
      return old;
    }
    constexpr bool operator==(const Iterator&) const = default;

   private:
    uint64_t bits_ = 0;
  };
  constexpr Iterator begin() const { return Iterator(bits_); }
  constexpr Iterator end() const { return Iterator(0); }

 private:
  static constexpr uint64_t kRuntimeMask =
      ((uint64_t{1} << kNumRuntimeKeys) - 1) & ~uint64_t{1};  // bit 0 is Undefined
  static constexpr uint64_t kBackendMask =
      ((uint64_t{2} << kLastBackendKey) - 1) & ~((uint64_t{1} << kFirstBackendKey) - 1);
  uint64_t bits_ = 0;
};

// The runtime keys an alias key stands for; a runtime key stands for itself.
SY_API DispatchKeySet runtime_keys_of(DispatchKey k);

// Every backend key.
inline constexpr DispatchKeySet kBackendKeys{DispatchKey::CPU, DispatchKey::CUDA, DispatchKey::Meta,
                                             DispatchKey::PrivateUse1};
// Every per-backend autograd key.
inline constexpr DispatchKeySet kAutogradKeys{DispatchKey::AutogradOther, DispatchKey::AutogradCPU,
                                              DispatchKey::AutogradCUDA, DispatchKey::AutogradMeta,
                                              DispatchKey::AutogradPrivateUse1};

// "{AutogradCPU, CPU}": the keys from highest to lowest priority.
SY_API std::string to_string(DispatchKeySet s);

}  // namespace sy
