#include "switchyard/core/tracer_mode.h"

#include "switchyard/core/error.h"

namespace sy::tracer {

void set_dispatch_enabled(bool enabled) {
  SY_CHECK(!(enabled && tls_is_dispatch_key_excluded(DispatchKey::Tracer)), DispatchError,
           "tracer::set_dispatch_enabled(true) called inside a NoTracerDispatchMode scope: "
           "the Tracer key is excluded on this thread, so tracing cannot be enabled here.\n"
           "  Enable tracing before entering NoTracerDispatchMode, or leave its scope first.");
  tls_set_dispatch_key_included(DispatchKey::Tracer, enabled);
}

}  // namespace sy::tracer
