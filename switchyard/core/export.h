// The one export macro. The library is built with -fvisibility=hidden, so only
// declarations marked SY_API are part of libswitchyard.so's interface.
#pragma once

#define SY_API __attribute__((visibility("default")))

#define SY_LIKELY(x) __builtin_expect(static_cast<bool>(x), 1)
#define SY_UNLIKELY(x) __builtin_expect(static_cast<bool>(x), 0)
#define SY_ALWAYS_INLINE inline __attribute__((always_inline))
#define SY_NOINLINE __attribute__((noinline))
// The TLS model of switchyard's per-thread variables: initial-exec, one load with
// no call to __tls_get_addr, which fits as the library's static TLS block is small
// (See Note [Zero-initialised thread state] in core/local_dispatch_key_set.h).
#define SY_TLS_MODEL __attribute__((tls_model("initial-exec")))
