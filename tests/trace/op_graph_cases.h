// Graphs of one op each, for every case of the shared op table
// (tests/ops/op_cases.h): traced as a function of the case's tensor arguments,
// and checked against the op run eagerly on fresh inputs. The trace tests
// replay them; the AOT tests run them as models.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "op_cases.h"
#include "switchyard/switchyard.h"

namespace sy::testing_cases {

// The case traced as a one-op function of its tensor arguments (one node).
Graph trace_case(const Case& c);

// `run` (the case's graph, replayed some way) on fresh random inputs gives
// what the op gives eagerly on identical ones: the same bits, or for random and
// uninitialising ops the same shapes and dtypes.
void expect_equals_eager(const Case& c,
                         const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& run);

// A test name for case i: the op's name with '_' for punctuation, and i.
std::string case_name(size_t i);

}  // namespace sy::testing_cases
