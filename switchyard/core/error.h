// Errors. Every exception switchyard throws derives from sy::Error, and its
// what() holds the whole message: what was called, with what, and what would
// have worked. The subclasses map onto Python's exception types in the bindings.
#pragma once

#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "switchyard/core/export.h"

namespace sy {

class SY_API Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A schema string that does not parse; the message shows line, column and a caret.
class SY_API SchemaError : public Error {
 public:
  using Error::Error;
};

// No kernel for a call, a removed op, or a registration that conflicts.
class SY_API DispatchError : public Error {
 public:
  using Error::Error;
};

// An argument of the wrong type (Python's TypeError).
class SY_API TypeError : public Error {
 public:
  using Error::Error;
};

// An argument of the right type but a wrong value (Python's ValueError).
class SY_API ValueError : public Error {
 public:
  using Error::Error;
};

// A dimension or index out of range (Python's IndexError).
class SY_API IndexError : public Error {
 public:
  using Error::Error;
};

// A misuse of autograd: a second backward through a graph whose saved tensors
// were freed, an in-place change to a tensor saved for backward, a gradient of
// the wrong shape, ... (Python's RuntimeError, as PyTorch raises for these).
class SY_API AutogradError : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <typename E>
[[noreturn]] SY_NOINLINE void throw_error(std::string message) {
  throw E(message);
}
}  // namespace detail

}  // namespace sy

// Throws `Kind` (a subclass of sy::Error) with a fmt-formatted message when
// `cond` is false. The message is only formatted on failure.
#define SY_CHECK(cond, Kind, ...)                                        \
  do {                                                                   \
    if (SY_UNLIKELY(!(cond))) {                                          \
      ::sy::detail::throw_error<::sy::Kind>(::fmt::format(__VA_ARGS__)); \
    }                                                                    \
  } while (false)

// Throws `Kind` unconditionally with a fmt-formatted message.
#define SY_THROW(Kind, ...) ::sy::detail::throw_error<::sy::Kind>(::fmt::format(__VA_ARGS__))
