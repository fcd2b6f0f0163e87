// What a model run does to the calling thread while it runs (internal to aot/):
// a model computes as inference, whatever the thread has switched on. Every
// key above the backends (Python modes, autograd, the tracer, transforms) is
// excluded and grad mode is off, so ops that kernels call inside a run reach
// the backend kernels, as the steps themselves do; both are restored exactly
// when the run ends, also by an exception.
#pragma once

#include "switchyard/autograd/grad_mode.h"
#include "switchyard/core/local_dispatch_key_set.h"

namespace sy::aot::detail {

// Every runtime key above the backends.
inline constexpr DispatchKeySet kAboveBackends = DispatchKeySet::from_raw(
    DispatchKeySet::full().raw() & ~((uint64_t{2} << kLastBackendKey) - 1));

class RunGuard {
 public:
  RunGuard() : exclude_(kAboveBackends) {}

 private:
  ExcludeDispatchKeyGuard exclude_;
  NoGradGuard no_grad_;
};

}  // namespace sy::aot::detail
