#include "op_cases.h"

namespace sy::testing_cases {
namespace {

// A tensor of `sizes` on `d` holding ones (valid input for every op here:
// logs, roots, divisions, and as an index it is in range when sizes allow).
Tensor T(Device d, IntArrayRef sizes, ScalarType dtype = kFloat32) {
  return d.is_meta() ? empty(sizes, TensorOptions().dtype(dtype).device(d))
                     : ones(sizes, TensorOptions().dtype(dtype).device(d));
}
// Zeros: index tensors that are in range for any size.
Tensor Z(Device d, IntArrayRef sizes, ScalarType dtype = kInt64) {
  return d.is_meta() ? empty(sizes, TensorOptions().dtype(dtype).device(d))
                     : zeros(sizes, TensorOptions().dtype(dtype).device(d));
}
// A non-contiguous tensor: the transpose of a [sizes[1], sizes[0]] tensor.
Tensor TT(Device d, int64_t rows, int64_t cols, ScalarType dtype = kFloat32) {
  return T(d, {cols, rows}, dtype).transpose(0, 1);
}
IValue ints(std::vector<int64_t> v) { return IValue(std::move(v)); }
IValue tensors(std::vector<Tensor> v) { return IValue(std::move(v)); }

}  // namespace

Stack build_stack(const FunctionSchema& schema, Args args, std::string* missing) {
  Stack stack;
  const auto& params = schema.arguments();
  for (size_t i = 0; i < params.size(); ++i) {
    if (i < args.pos.size()) {
      stack.push_back(std::move(args.pos[i]));
      continue;
    }
    bool found = false;
    for (auto& [name, value] : args.named) {
      if (name == params[i].name) {
        stack.push_back(value);
        found = true;
      }
    }
    if (found) continue;
    if (!params[i].default_value) {
      if (missing) *missing = params[i].name;
      stack.emplace_back();
      continue;
    }
    stack.push_back(*params[i].default_value);
  }
  return stack;
}


const std::vector<Case>& cases() {
  static const std::vector<Case> table = [] {
    std::vector<Case> v;
    auto add = [&](std::string op, std::function<Args(Device)> make) {
      v.push_back({std::move(op), std::move(make)});
    };
    // --- creation -----------------------------------------------------------
    for (const char* f : {"sy::empty", "sy::zeros", "sy::ones"}) {
      add(f, [](Device d) { return Args{{ints({2, 3})}, {{"device", IValue(d)}}}; });
    }
    add("sy::full", [](Device d) {
      return Args{{ints({2, 3}), IValue(Scalar(1.5))}, {{"device", IValue(d)}}};
    });
    add("sy::fill_", [](Device d) { return Args{{TT(d, 3, 4), IValue(Scalar(2))}}; });
    return v;
  }();
  return table;
}

}  // namespace sy::testing_cases
