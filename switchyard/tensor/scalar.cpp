#include "switchyard/tensor/scalar.h"

#include <fmt/format.h>

namespace sy {

std::string Scalar::str() const {
  switch (kind_) {
    case Kind::Bool: return i_ ? "True" : "False";
    case Kind::Int: return std::to_string(i_);
    case Kind::Double: {
      std::string s = fmt::format("{}", d_);
      if (s.find_first_of(".eni") == std::string::npos) s += ".";
      return s;
    }
  }
  return "";
}

}  // namespace sy
