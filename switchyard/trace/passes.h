// Passes over a Graph (graph.h): each rewrites the graph in place and returns
// how much it changed. A graph that passed check() still passes it afterwards
// and computes what it computed before.
#pragma once

#include <cstddef>

#include "switchyard/core/export.h"
#include "switchyard/trace/graph.h"

namespace sy {

// Removes nodes whose outputs nothing uses and that write no argument, and the
// values only they used; returns how many nodes it removed.
SY_API size_t eliminate_dead_code(Graph& g);

// Runs nodes whose arguments are all constants once and replaces their outputs
// by constants; returns how many nodes it folded. Leaves alone ops whose
// results differ from run to run (rand, empty, ...), nodes that write an
// argument, and outputs that a later node writes or views or that leave the
// graph, since a constant is one tensor shared by every run.
SY_API size_t fold_constants(Graph& g);

}  // namespace sy
