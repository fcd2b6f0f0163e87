// The graph file: a Graph (graph.h) with its constants and weights, written by
// Graph::save and read by Graph::load, in a versioned binary format that
// docs/aot.md describes byte by byte. A file saved by one process loads in
// another, also in a program that never starts Python.
//
// Loading trusts nothing: a truncated or corrupted file, a file of a newer
// format version, an op this process does not have (or has with another
// schema), and a graph that does not check are each a GraphFileError saying
// what is wrong and where, never a crash.
//
// Thread-safety: the functions here share no state; many threads may save and
// load at once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "switchyard/core/error.h"
#include "switchyard/core/export.h"
#include "switchyard/trace/graph.h"

namespace sy {

// A graph file that cannot be read or written (a ValueError in Python).
class SY_API GraphFileError : public ValueError {
 public:
  using ValueError::ValueError;
};

// The format version this library writes; it reads this one and the older ones.
inline constexpr uint32_t kGraphFileVersion = 1;

namespace detail {
// The file's bytes for `g`; what Graph::save writes.
SY_API std::string graph_to_bytes(const Graph& g);
// The graph in `bytes`; what Graph::load reads. `what` names the source in
// messages (a path). With verify_checksum false a payload whose checksum does
// not match is read anyway (for the fuzzer, which reaches the parser that way).
SY_API Graph graph_from_bytes(std::string_view bytes, std::string_view what,
                              bool verify_checksum = true);
// The FNV-1a 64-bit hash the header holds of the payload.
SY_API uint64_t graph_file_checksum(std::string_view payload);
}  // namespace detail

}  // namespace sy
