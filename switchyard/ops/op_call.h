// Internal to the ops layer: the typed handle a free function calls through.
#pragma once

#include <string_view>

#include "switchyard/dispatch/dispatcher.h"

namespace sy::detail {

// The typed handle of the op named `name` ("sy::add.Tensor"); free functions keep
// it in a function-local static, so the lookup happens once.
template <typename Sig>
TypedOperatorHandle<Sig> typed_op(std::string_view name) {
  return Dispatcher::singleton().find_op(name).typed<Sig>();
}

}  // namespace sy::detail
