// Tags: facts about an op that code working over every op reads (a pass that fuses
// pointwise ops, a check that in-place ops return self, a mode that skips random
// ops). An op gets its tags when it is defined, `m.def(schema, {Tag::pointwise})`,
// and keeps them until its definition is removed. The names are PyTorch's where it
// has the tag (torch.Tag).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/export.h"

namespace sy {

enum class Tag : uint8_t {
  pointwise,              // each output element depends on the same element of each input
  reduction,              // reduces dims of its input
  view,                   // returns a view of an input (shares its storage)
  inplace,                // writes its `self` argument and returns it
  out,                    // writes keyword-only `out` arguments and returns them
  random,                 // draws from the calling thread's generator
  nondeterministic,       // may give different results for the same inputs
  data_dependent_output,  // the output's values decide its meta data (e.g. nonzero)
  dynamic_output_shape,   // the output's shape depends on the input's values
};
inline constexpr int kNumTags = 9;

// "pointwise"
SY_API std::string_view to_string(Tag t);
// The tag of that name, or nothing.
SY_API std::optional<Tag> parse_tag(std::string_view name);

// A set of tags: one integer, cheap to copy.
class TagSet {
 public:
  constexpr TagSet() = default;
  constexpr TagSet(std::initializer_list<Tag> tags) {  // NOLINT: {Tag::a, Tag::b} reads best
    for (Tag t : tags) bits_ |= bit(t);
  }
  constexpr bool has(Tag t) const { return (bits_ & bit(t)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  [[nodiscard]] constexpr TagSet add(Tag t) const {
    TagSet s = *this;
    s.bits_ |= bit(t);
    return s;
  }
  constexpr bool operator==(const TagSet&) const = default;
  // In declaration order.
  SY_API std::vector<Tag> tags() const;
  // "[pointwise, out]"
  SY_API std::string to_string() const;

 private:
  static constexpr uint32_t bit(Tag t) { return uint32_t{1} << static_cast<int>(t); }
  uint32_t bits_ = 0;
};

}  // namespace sy
