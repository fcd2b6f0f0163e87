// Layout and MemoryFormat: two argument types of PyTorch's schemas
// (`Layout? layout=None`, `MemoryFormat? memory_format=None`), so that
// schemas written as in native_functions.yaml define here unchanged. Every
// switchyard tensor is strided; a memory format says how an op lays out the
// tensor it makes. Boxed as ints (in an IValue), as PyTorch boxes them.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "switchyard/core/export.h"

namespace sy {

enum class Layout : int8_t { Strided = 0 };
enum class MemoryFormat : int8_t {
  Contiguous = 0,
  Preserve = 1,
  ChannelsLast = 2,
  ChannelsLast3d = 3
};

// PyTorch's names: "strided"; "contiguous_format", "preserve_format",
// "channels_last", "channels_last_3d".
SY_API std::string_view to_string(Layout l);
SY_API std::string_view to_string(MemoryFormat m);
SY_API std::optional<Layout> parse_layout(std::string_view name);
SY_API std::optional<MemoryFormat> parse_memory_format(std::string_view name);
// The value of a boxed int, or nothing when no enumerator has it.
SY_API std::optional<Layout> layout_from_int(int64_t v);
SY_API std::optional<MemoryFormat> memory_format_from_int(int64_t v);

}  // namespace sy
