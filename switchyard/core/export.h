// The one export macro. The library is built with -fvisibility=hidden, so only
// declarations marked SY_API are part of libswitchyard.so's interface.
#pragma once

#define SY_API __attribute__((visibility("default")))

#define SY_LIKELY(x) __builtin_expect(static_cast<bool>(x), 1)
#define SY_UNLIKELY(x) __builtin_expect(static_cast<bool>(x), 0)
#define SY_ALWAYS_INLINE inline __attribute__((always_inline))
#define SY_NOINLINE __attribute__((noinline))
