#include "switchyard/core/dispatch_key_set.h"

#include <vector>

namespace sy {

DispatchKeySet runtime_keys_of(DispatchKey k) {
  switch (k) {
    case DispatchKey::Autograd: return kAutogradKeys;
    case DispatchKey::CompositeImplicitAutograd:
    case DispatchKey::CatchAll: return DispatchKeySet::full();
    case DispatchKey::CompositeExplicitAutograd: return kBackendKeys;
    default: return DispatchKeySet(k);
  }
}

std::string to_string(DispatchKeySet s) {
  std::vector<DispatchKey> keys(s.begin(), s.end());
  std::string out = "{";
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) {
    if (it != keys.rbegin()) out += ", ";
    out += to_string(*it);
  }
  return out + "}";
}

}  // namespace sy
