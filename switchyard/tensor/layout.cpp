#include "switchyard/tensor/layout.h"

#include <array>

namespace sy {
namespace {
constexpr std::array<std::string_view, 1> kLayouts = {"strided"};
constexpr std::array<std::string_view, 4> kMemoryFormats = {"contiguous_format", "preserve_format",
                                                            "channels_last", "channels_last_3d"};

template <typename E, size_t N>
std::optional<E> find(const std::array<std::string_view, N>& names, std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<E>(i);
  }
  return std::nullopt;
}
}  // namespace

std::string_view to_string(Layout l) { return kLayouts[static_cast<size_t>(l)]; }
std::string_view to_string(MemoryFormat m) { return kMemoryFormats[static_cast<size_t>(m)]; }
std::optional<Layout> parse_layout(std::string_view name) { return find<Layout>(kLayouts, name); }
std::optional<MemoryFormat> parse_memory_format(std::string_view name) {
  return find<MemoryFormat>(kMemoryFormats, name);
}
std::optional<Layout> layout_from_int(int64_t v) {
  if (v < 0 || v >= static_cast<int64_t>(kLayouts.size())) return std::nullopt;
  return static_cast<Layout>(v);
}
std::optional<MemoryFormat> memory_format_from_int(int64_t v) {
  if (v < 0 || v >= static_cast<int64_t>(kMemoryFormats.size())) return std::nullopt;
  return static_cast<MemoryFormat>(v);
}

}  // namespace sy
