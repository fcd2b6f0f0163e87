#include "switchyard/core/local_dispatch_key_set.h"

#include <cstdio>
#include <string>

#include "switchyard/core/error.h"

namespace sy {
namespace detail {
constinit thread_local RawLocalDispatchKeySet tls_local_dispatch_key_set SY_TLS_MODEL = {0, 0};
constinit thread_local uint64_t tls_guard_depth SY_TLS_MODEL = 0;

namespace {
std::string out_of_order_message(const char* guard, bool other_thread, uint64_t depth,
                                 uint64_t innermost) {
  if (other_thread) {
    return fmt::format(
        "{} ended on a thread other than the one it began on; it changed nothing here, and "
        "the thread it began on keeps what the guard set. A guard of per-thread state acts on "
        "the thread that makes it: end it there (capture a ThreadLocalState to carry state "
        "to another thread)",
        guard);
  }
  return fmt::format(
      "{} ended out of order: it was guard {} on this thread, but guard {} began after it and "
      "is still live, so restoring now would undo that one's change too. It changed nothing; "
      "end guards in the reverse order they began (See Note [Guards end in order])",
      guard, depth, innermost);
}
}  // namespace

void throw_guard_out_of_order(const char* guard, bool other_thread, uint64_t depth,
                              uint64_t innermost) {
  throw Error(out_of_order_message(guard, other_thread, depth, innermost));
}

void report_guard_out_of_order(const char* guard, bool other_thread, uint64_t depth,
                               uint64_t innermost) {
  const std::string m = out_of_order_message(guard, other_thread, depth, innermost);
  std::fprintf(stderr, "switchyard: %s (reported, not thrown: another exception is unwinding)\n",
               m.c_str());
}
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
