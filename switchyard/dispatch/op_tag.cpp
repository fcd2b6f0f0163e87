#include "switchyard/dispatch/op_tag.h"

#include <array>

namespace sy {
namespace {
constexpr std::array<std::string_view, kNumTags> kNames = {
    "pointwise",
    "reduction",
    "view",
    "inplace",
    "out",
    "random",
    "nondeterministic",
    "data_dependent_output",
    "dynamic_output_shape",
};
}  // namespace

std::string_view to_string(Tag t) { return kNames[static_cast<size_t>(t)]; }

std::optional<Tag> parse_tag(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Tag>(i);
  }
  return std::nullopt;
}

std::vector<Tag> TagSet::tags() const {
  std::vector<Tag> out;
  for (int i = 0; i < kNumTags; ++i) {
    if (has(static_cast<Tag>(i))) out.push_back(static_cast<Tag>(i));
  }
  return out;
}

std::string TagSet::to_string() const {
  std::string out = "[";
  for (Tag t : tags()) {
    if (out.size() > 1) out += ", ";
    out += sy::to_string(t);
  }
  return out + "]";
}

}  // namespace sy
