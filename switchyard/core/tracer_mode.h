// The tracer's two dispatch switches (the per-thread tracing state that the
// tracer also needs lives in trace/). Tracing dispatch happens only when the
// calling thread includes the Tracer key and does not exclude it; the Tracer key
// is off on every thread until set_dispatch_enabled(true).
#pragma once

#include "switchyard/core/local_dispatch_key_set.h"

namespace sy::tracer {

// Whether calls on this thread reach the Tracer key (included and not excluded).
inline bool is_dispatch_enabled() {
  return tls_is_dispatch_key_included(DispatchKey::Tracer) &&
         !tls_is_dispatch_key_excluded(DispatchKey::Tracer);
}

// Includes or removes the Tracer key on the calling thread. Enabling inside a
// NoTracerDispatchMode scope throws sy::DispatchError and changes nothing.
SY_API void set_dispatch_enabled(bool enabled);

// Excludes the Tracer key on the calling thread for the guard's lifetime, so
// nothing is traced inside it; restores the excluded set it found.
class NoTracerDispatchMode {
 public:
  NoTracerDispatchMode() = default;

 private:
  ExcludeDispatchKeyGuard guard_{DispatchKey::Tracer};
};

}  // namespace sy::tracer
