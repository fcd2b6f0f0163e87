#include "switchyard/core/warning.h"

#include <atomic>
#include <cstdio>

namespace sy {
namespace {

void to_stderr(const std::string& message) {
  std::fprintf(stderr, "switchyard warning: %s\n", message.c_str());
}

std::atomic<WarningHandler> g_handler{&to_stderr};

}  // namespace

void warn(const std::string& message) { g_handler.load(std::memory_order_acquire)(message); }

WarningHandler set_warning_handler(WarningHandler handler) {
  return g_handler.exchange(handler ? handler : &to_stderr, std::memory_order_acq_rel);
}

}  // namespace sy
