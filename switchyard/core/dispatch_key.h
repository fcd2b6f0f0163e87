// Dispatch keys. A runtime key names one thing a kernel can be registered for
// and a tensor or thread can carry: a backend (CPU, Meta, ...), or a feature
// that handles a call and then redispatches below itself (autograd, tracing,
// batching, Python). Runtime keys are numbered by priority: when a call's key
// set holds several, the kernel of the highest-numbered one runs first.
// See docs/dispatch.md for why the keys are in this order.
//
// Alias keys (Autograd, CompositeImplicitAutograd, ...) never appear in a key
// set; registering a kernel at an alias key fills the slots of the runtime keys
// it stands for, with the precedence described in dispatch/operator_entry.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "switchyard/core/export.h"

namespace sy {

enum class DispatchKey : uint8_t {
  // Not a key: the slot used by a call whose key set is empty (no tensor
  // arguments and nothing included on the calling thread).
  Undefined = 0,

  // Backends, lowest priority: they compute.
  CPU,
  CUDA,         // reserved: kernels exist only in a CUDA build
  Meta,         // shapes, strides and dtypes only; no data
  PrivateUse1,  // a backend supplied by code outside the library

  // Features, in rising priority.
  Python,                // Python-registered kernels that want to see every op
  DynamicLayerBackMode,  // transform layer: the bottom of a transform's stack
  ADInplaceOrView,       // version counters and view bookkeeping, below autograd
  AutogradOther,         // autograd for backends without a key of their own
  AutogradCPU,
  AutogradCUDA,
  AutogradMeta,
  AutogradPrivateUse1,
  Tracer,                 // off unless the thread includes it; see trace/
  Batched,                // vmap's batched tensors
  GradWrapper,            // transform layer: grad's wrapped tensors
  PythonTLSSnapshot,      // captures Python's per-thread state before anything runs
  DynamicLayerFrontMode,  // transform layer: entry into the transform stack

  EndOfRuntimeKeys,

  // Alias keys: only for registration.
  Autograd = 64,              // every per-backend autograd key
  CompositeImplicitAutograd,  // every runtime key; a decomposition into other ops
  CompositeExplicitAutograd,  // every backend key; one kernel for all backends
  CatchAll,                   // PyTorch's old name; registers as CompositeImplicitAutograd
};

inline constexpr int kNumRuntimeKeys = static_cast<int>(DispatchKey::EndOfRuntimeKeys);
inline constexpr int kFirstBackendKey = static_cast<int>(DispatchKey::CPU);
inline constexpr int kLastBackendKey = static_cast<int>(DispatchKey::PrivateUse1);
static_assert(kNumRuntimeKeys <= 64, "a key set is one 64-bit word");

constexpr bool is_runtime_key(DispatchKey k) {
  return static_cast<int>(k) > 0 && static_cast<int>(k) < kNumRuntimeKeys;
}
constexpr bool is_alias_key(DispatchKey k) {
  return static_cast<int>(k) >= static_cast<int>(DispatchKey::Autograd) &&
         static_cast<int>(k) <= static_cast<int>(DispatchKey::CatchAll);
}
constexpr bool is_backend_key(DispatchKey k) {
  return static_cast<int>(k) >= kFirstBackendKey && static_cast<int>(k) <= kLastBackendKey;
}
constexpr bool is_autograd_key(DispatchKey k) {
  return k == DispatchKey::AutogradOther || k == DispatchKey::AutogradCPU ||
         k == DispatchKey::AutogradCUDA || k == DispatchKey::AutogradMeta ||
         k == DispatchKey::AutogradPrivateUse1;
}

// The autograd key that serves `backend` (AutogradCPU for CPU, ...).
constexpr DispatchKey autograd_key_for(DispatchKey backend) {
  switch (backend) {
    case DispatchKey::CPU: return DispatchKey::AutogradCPU;
    case DispatchKey::CUDA: return DispatchKey::AutogradCUDA;
    case DispatchKey::Meta: return DispatchKey::AutogradMeta;
    case DispatchKey::PrivateUse1: return DispatchKey::AutogradPrivateUse1;
    default: return DispatchKey::AutogradOther;
  }
}

// The backend an autograd key serves; Undefined for AutogradOther and non-autograd keys.
constexpr DispatchKey backend_for_autograd_key(DispatchKey k) {
  switch (k) {
    case DispatchKey::AutogradCPU: return DispatchKey::CPU;
    case DispatchKey::AutogradCUDA: return DispatchKey::CUDA;
    case DispatchKey::AutogradMeta: return DispatchKey::Meta;
    case DispatchKey::AutogradPrivateUse1: return DispatchKey::PrivateUse1;
    default: return DispatchKey::Undefined;
  }
}

// The key's name as users write it ("CPU", "AutogradCPU", "CompositeImplicitAutograd").
SY_API std::string_view to_string(DispatchKey k);

// The key named `name`, or nothing when no key has that name.
SY_API std::optional<DispatchKey> parse_dispatch_key(std::string_view name);

}  // namespace sy
