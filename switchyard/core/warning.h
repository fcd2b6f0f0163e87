// Warnings: something worked, but perhaps not as meant (a kernel registered
// over another one). Each goes to the process's warning handler: standard error
// by default; the Python module installs one that issues a UserWarning.
#pragma once

#include <string>

#include "switchyard/core/export.h"

namespace sy {

// Receives each warning. It must not throw: warnings come from places (such as
// registration) that have already done their work.
using WarningHandler = void (*)(const std::string& message);

// Passes `message` to the current handler.
SY_API void warn(const std::string& message);
// Installs `handler` (null: back to standard error) and returns the one it replaced.
SY_API WarningHandler set_warning_handler(WarningHandler handler);

}  // namespace sy
