// The table of op cases shared by the Meta/CPU consistency test and the
// trace-and-replay test: for every op of namespace sy, calls that build their
// arguments on a given device.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "switchyard/switchyard.h"

namespace sy::testing_cases {

// Arguments of one call: positional first, then named; arguments left out take
// their schema defaults.
struct Args {
  std::vector<IValue> pos;
  std::vector<std::pair<std::string, IValue>> named;
};

struct Case {
  std::string op;
  std::function<Args(Device)> make;
  // The result's shape depends on the input's values (nonzero, masked_select):
  // on meta tensors the call is a ValueError instead.
  bool data_dependent = false;
};

// Every case, in a stable order.
const std::vector<Case>& cases();

// The full argument stack of `args` for `schema`, defaults filled in; a missing
// argument without a default is reported through `missing`.
Stack build_stack(const FunctionSchema& schema, Args args, std::string* missing);

// Ops whose results are random or uninitialised: only shapes and dtypes compare.
bool nondeterministic(const std::string& op);

// The case's stack on CPU, with every float tensor's whole storage filled with
// values in [0.5, 1.5) from `seed` (positive, so logs and roots stay finite).
Stack random_stack(const Case& c, const FunctionSchema& schema, uint32_t seed);

// The stack's tensors (tensor-list elements included), in order.
std::vector<Tensor> tensors_of(const Stack& stack);

// The stack with its tensors replaced, in order, by `in`.
Stack with_tensors(Stack stack, const std::vector<Tensor>& in);

}  // namespace sy::testing_cases
