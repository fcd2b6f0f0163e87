#include "switchyard/core/local_dispatch_key_set.h"

namespace sy {
namespace detail {
constinit thread_local RawLocalDispatchKeySet tls_local_dispatch_key_set
    SY_TLS_MODEL = {0, 0};
}  // namespace detail

void tls_set_dispatch_key_included(DispatchKey k, bool included) {
  auto& raw = detail::tls_local_dispatch_key_set.included;
  const uint64_t bit = DispatchKeySet(k).raw();
  raw = included ? (raw | bit) : (raw & ~bit);
}

void tls_set_dispatch_key_excluded(DispatchKey k, bool excluded) {
  auto& raw = detail::tls_local_dispatch_key_set.excluded;
  const uint64_t bit = DispatchKeySet(k).raw();
  raw = excluded ? (raw | bit) : (raw & ~bit);
}

}  // namespace sy
