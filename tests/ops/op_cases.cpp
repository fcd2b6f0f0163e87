#include "op_cases.h"

#include <random>
#include <set>

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
// 0, 1, ..., n-1: an index with no repeats (where repeats make one value win,
// and the gradient with it ill-defined).
Tensor Range(Device d, int64_t n) {
  return d.is_meta() ? empty({n}, TensorOptions().dtype(kInt64).device(d))
                     : arange(Scalar(n), TensorOptions().dtype(kInt64).device(d));
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
    auto dev = [](Device d) { return std::pair<std::string, IValue>{"device", IValue(d)}; };
    // --- creation -----------------------------------------------------------
    for (const char* f : {"sy::empty", "sy::zeros", "sy::ones", "sy::rand", "sy::randn"}) {
      add(f, [dev](Device d) { return Args{{ints({2, 3})}, {dev(d)}}; });
    }
    add("sy::full", [dev](Device d) {
      return Args{{ints({2, 3}), IValue(Scalar(1.5))}, {dev(d)}};
    });
    add("sy::arange", [dev](Device d) { return Args{{IValue(Scalar(5))}, {dev(d)}}; });
    add("sy::arange.start", [dev](Device d) {
      return Args{{IValue(Scalar(1)), IValue(Scalar(4.5))}, {dev(d)}};
    });
    add("sy::arange.start_step", [dev](Device d) {
      return Args{{IValue(Scalar(10)), IValue(Scalar(0)), IValue(Scalar(-3))}, {dev(d)}};
    });
    add("sy::linspace", [dev](Device d) {
      return Args{{IValue(Scalar(0)), IValue(Scalar(1)), IValue(int64_t{5})}, {dev(d)}};
    });
    add("sy::eye", [dev](Device d) { return Args{{IValue(int64_t{3})}, {dev(d)}}; });
    add("sy::eye.m", [dev](Device d) {
      return Args{{IValue(int64_t{2}), IValue(int64_t{4})}, {dev(d)}};
    });
    for (const char* f : {"sy::empty_like", "sy::zeros_like", "sy::ones_like"}) {
      add(f, [](Device d) { return Args{{TT(d, 3, 2, kInt32)}}; });
    }
    add("sy::full_like", [](Device d) { return Args{{T(d, {2, 2}), IValue(Scalar(7))}}; });
    add("sy::fill_", [](Device d) { return Args{{TT(d, 3, 4), IValue(Scalar(2))}}; });
    add("sy::zero_", [](Device d) { return Args{{TT(d, 3, 4)}}; });

    // --- elementwise: binary ------------------------------------------------
    for (const char* op : {"add", "sub"}) {
      const std::string o(op);
      add("sy::" + o + ".Tensor", [](Device d) {
        return Args{{TT(d, 3, 4), T(d, {4}, kInt32)}, {{"alpha", IValue(Scalar(2))}}};
      });
      add("sy::" + o + ".Scalar", [](Device d) {
        return Args{{T(d, {2, 3}, kInt32), IValue(Scalar(2.5))}};
      });
      add("sy::" + o + "_.Tensor", [](Device d) {
        return Args{{T(d, {2, 3}), T(d, {3}, kInt64)}};
      });
      add("sy::" + o + "_.Scalar", [](Device d) { return Args{{TT(d, 2, 3), IValue(Scalar(3))}}; });
      add("sy::" + o + ".out", [](Device d) {
        return Args{{T(d, {2, 1}), T(d, {3})}, {{"out", IValue(T(d, {2, 3}, kFloat64))}}};
      });
    }
    for (const char* op : {"mul", "div", "remainder"}) {
      const std::string o(op);
      add("sy::" + o + ".Tensor", [](Device d) { return Args{{TT(d, 3, 4), T(d, {3, 1})}}; });
      add("sy::" + o + ".Scalar", [](Device d) {
        return Args{{T(d, {5}, kInt64), IValue(Scalar(2))}};
      });
      add("sy::" + o + "_.Tensor", [](Device d) { return Args{{T(d, {2, 3}), T(d, {1, 3})}}; });
      add("sy::" + o + "_.Scalar", [](Device d) {
        return Args{{T(d, {2, 3}, kFloat64), IValue(Scalar(4))}};
      });
    }
    add("sy::mul.out", [](Device d) {
      return Args{{T(d, {3}, kInt32), T(d, {2, 1}, kInt32)},
                  {{"out", IValue(T(d, {2, 3}, kInt64))}}};
    });
    add("sy::div.out", [](Device d) {
      return Args{{T(d, {3}, kInt32), T(d, {3}, kInt32)}, {{"out", IValue(T(d, {3}))}}};
    });
    add("sy::remainder.Tensor_out", [](Device d) {
      return Args{{T(d, {4}, kInt64), T(d, {4}, kInt64)}, {{"out", IValue(T(d, {4}, kInt64))}}};
    });
    add("sy::div.Tensor_mode", [](Device d) {
      return Args{{T(d, {4}, kInt64), T(d, {2, 1}, kInt64)}, {{"rounding_mode", IValue("floor")}}};
    });
    add("sy::div.Scalar_mode", [](Device d) {
      return Args{{T(d, {4}), IValue(Scalar(3))}, {{"rounding_mode", IValue("trunc")}}};
    });
    add("sy::div_.Tensor_mode", [](Device d) {
      return Args{{T(d, {4}, kInt32), T(d, {4}, kInt32)}, {{"rounding_mode", IValue("trunc")}}};
    });
    add("sy::div_.Scalar_mode", [](Device d) {
      return Args{{T(d, {4}), IValue(Scalar(2))}, {{"rounding_mode", IValue("floor")}}};
    });
    add("sy::div.out_mode", [](Device d) {
      return Args{{T(d, {4}), T(d, {4})},
                  {{"rounding_mode", IValue("floor")}, {"out", IValue(T(d, {4}))}}};
    });
    add("sy::floor_divide", [](Device d) { return Args{{T(d, {3}, kInt64), T(d, {3}, kInt64)}}; });
    add("sy::floor_divide.Scalar", [](Device d) { return Args{{T(d, {3}), IValue(Scalar(2))}}; });
    add("sy::pow.Tensor_Tensor", [](Device d) { return Args{{TT(d, 2, 3), T(d, {3}, kInt64)}}; });
    add("sy::pow.Tensor_Scalar", [](Device d) {
      return Args{{T(d, {3}, kInt64), IValue(Scalar(3))}};
    });
    add("sy::pow.Scalar", [](Device d) { return Args{{IValue(Scalar(2.0)), T(d, {3})}}; });
    add("sy::pow_.Tensor", [](Device d) { return Args{{T(d, {3}), T(d, {3})}}; });
    add("sy::pow_.Scalar", [](Device d) { return Args{{T(d, {3}), IValue(Scalar(0.5))}}; });
    add("sy::pow.Tensor_Tensor_out", [](Device d) {
      return Args{{T(d, {3}), T(d, {3})}, {{"out", IValue(T(d, {3}))}}};
    });
    for (const char* op : {"maximum", "minimum"}) {
      const std::string o(op);
      add("sy::" + o, [](Device d) { return Args{{T(d, {2, 3}), T(d, {3}, kInt32)}}; });
      add("sy::" + o + ".out", [](Device d) {
        return Args{{T(d, {3}), T(d, {3})}, {{"out", IValue(T(d, {3}))}}};
      });
    }
    for (const char* op : {"eq", "ne", "lt", "le", "gt", "ge"}) {
      const std::string o(op);
      add("sy::" + o + ".Tensor", [](Device d) { return Args{{TT(d, 2, 3), T(d, {3}, kInt64)}}; });
      add("sy::" + o + ".Scalar", [](Device d) {
        return Args{{T(d, {4}, kInt32), IValue(Scalar(1))}};
      });
    }
    add("sy::logical_and", [](Device d) { return Args{{T(d, {3}), T(d, {2, 3}, kBool)}}; });
    add("sy::logical_or", [](Device d) { return Args{{T(d, {3}, kInt64), T(d, {3})}}; });
    add("sy::logical_not", [](Device d) { return Args{{TT(d, 2, 2)}}; });
    for (const char* op : {"bitwise_and", "bitwise_or", "bitwise_xor"}) {
      const std::string o(op);
      add("sy::" + o + ".Tensor", [](Device d) {
        return Args{{TT(d, 2, 3, kInt32), T(d, {3}, kInt64)}};
      });
      add("sy::" + o + ".Scalar", [](Device d) {
        return Args{{T(d, {4}, kUInt8), IValue(Scalar(6))}};
      });
      add("sy::" + o + "_.Tensor", [](Device d) {
        return Args{{T(d, {2, 3}, kInt64), T(d, {3}, kInt32)}};
      });
      add("sy::" + o + "_.Scalar", [](Device d) {
        return Args{{T(d, {3}, kBool), IValue(Scalar(true))}};
      });
    }
    add("sy::bitwise_not", [](Device d) { return Args{{TT(d, 2, 2, kInt32)}}; });
    add("sy::bitwise_not_", [](Device d) { return Args{{T(d, {3}, kBool)}}; });
    add("sy::where.self", [](Device d) {
      return Args{{T(d, {2, 1}, kBool), T(d, {3}, kInt32), T(d, {2, 3})}};
    });
    add("sy::clamp", [](Device d) {
      return Args{{TT(d, 3, 2), IValue(Scalar(0)), IValue(Scalar(0.5))}};
    });
    add("sy::clamp_", [](Device d) { return Args{{T(d, {4}), IValue(Scalar(2))}}; });
    add("sy::clamp.out", [](Device d) {
      return Args{{T(d, {4}, kInt64)},
                  {{"max", IValue(Scalar(0))}, {"out", IValue(T(d, {4}, kInt64))}}};
    });

    // --- elementwise: unary -------------------------------------------------
    for (const char* op :
         {"neg", "abs", "exp", "log", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid", "relu"}) {
      const std::string o(op);
      add("sy::" + o, [](Device d) { return Args{{TT(d, 3, 2)}}; });
      add("sy::" + o + "_", [](Device d) { return Args{{T(d, {2, 2}, kFloat64)}}; });
      add("sy::" + o + ".out", [](Device d) {
        return Args{{T(d, {3}, kInt32)}, {{"out", IValue(T(d, {3}, kFloat64))}}};
      });
    }
    add("sy::gelu", [](Device d) { return Args{{TT(d, 3, 2)}}; });
    add("sy::gelu_", [](Device d) { return Args{{T(d, {4})}, {{"approximate", IValue("tanh")}}}; });
    add("sy::gelu.out", [](Device d) { return Args{{T(d, {4})}, {{"out", IValue(T(d, {4}))}}}; });

    // --- reductions ---------------------------------------------------------
    add("sy::sum", [](Device d) { return Args{{TT(d, 3, 4, kInt32)}}; });
    add("sy::sum.dim_IntList", [](Device d) {
      return Args{{T(d, {2, 3, 4}), ints({0, 2})}, {{"keepdim", IValue(true)}}};
    });
    add("sy::sum.IntList_out", [](Device d) {
      return Args{{T(d, {2, 3}), ints({1})}, {{"out", IValue(T(d, {2}))}}};
    });
    add("sy::mean", [](Device d) { return Args{{TT(d, 3, 4)}}; });
    add("sy::mean.dim", [](Device d) { return Args{{T(d, {2, 3, 4}), ints({-1})}}; });
    add("sy::mean.out", [](Device d) {
      return Args{{T(d, {2, 3}), ints({0})},
                  {{"keepdim", IValue(true)}, {"out", IValue(T(d, {1, 3}))}}};
    });
    add("sy::prod", [](Device d) { return Args{{T(d, {3}, kInt32)}}; });
    add("sy::prod.dim_int", [](Device d) { return Args{{TT(d, 2, 3), IValue(int64_t{1})}}; });
    add("sy::max", [](Device d) { return Args{{TT(d, 2, 3)}}; });
    add("sy::min", [](Device d) { return Args{{T(d, {4}, kInt64)}}; });
    add("sy::max.dim", [](Device d) { return Args{{T(d, {2, 3, 4}), IValue(int64_t{1})}}; });
    add("sy::min.dim", [](Device d) {
      return Args{{TT(d, 3, 2), IValue(int64_t{0}), IValue(true)}};
    });
    add("sy::argmax", [](Device d) { return Args{{T(d, {2, 3})}}; });
    add("sy::argmin", [](Device d) {
      return Args{{T(d, {2, 3}), IValue(int64_t{1}), IValue(true)}};
    });
    add("sy::var.correction", [](Device d) { return Args{{T(d, {3, 4}), ints({1})}}; });
    add("sy::std.correction", [](Device d) { return Args{{TT(d, 3, 4)}}; });
    add("sy::_softmax", [](Device d) {
      return Args{{T(d, {2, 5}), IValue(int64_t{0}), IValue(false)}};
    });
    add("sy::_log_softmax", [](Device d) {
      return Args{{T(d, {2, 5}), IValue(int64_t{1}), IValue(false)}};
    });
    add("sy::softmax.int", [](Device d) { return Args{{TT(d, 3, 4), IValue(int64_t{1})}}; });
    add("sy::log_softmax.int", [](Device d) {
      return Args{{T(d, {3, 4}, kInt64), IValue(int64_t{0}), IValue(kFloat64)}};
    });

    // --- linear algebra -----------------------------------------------------
    add("sy::mm", [](Device d) { return Args{{TT(d, 2, 3), T(d, {3, 4})}}; });
    add("sy::mm.out", [](Device d) {
      return Args{{T(d, {2, 3}), T(d, {3, 4})}, {{"out", IValue(T(d, {2, 4}))}}};
    });
    add("sy::bmm", [](Device d) { return Args{{T(d, {2, 2, 3}), T(d, {2, 3, 4})}}; });
    add("sy::bmm.out", [](Device d) {
      return Args{{T(d, {2, 2, 3}), T(d, {2, 3, 1})}, {{"out", IValue(T(d, {2, 2, 1}))}}};
    });
    add("sy::dot", [](Device d) { return Args{{T(d, {5}, kInt64), T(d, {5}, kInt64)}}; });
    add("sy::addmm", [](Device d) {
      return Args{{T(d, {4}), T(d, {2, 3}), T(d, {3, 4})}, {{"beta", IValue(Scalar(0.5))}}};
    });
    add("sy::addmm.out", [](Device d) {
      return Args{{T(d, {2, 4}), T(d, {2, 3}), T(d, {3, 4})}, {{"out", IValue(T(d, {2, 4}))}}};
    });
    add("sy::matmul", [](Device d) { return Args{{T(d, {2, 1, 3, 4}), T(d, {5, 4, 2})}}; });

    // --- views and shape ----------------------------------------------------
    add("sy::view", [](Device d) { return Args{{T(d, {2, 3, 4}), ints({6, -1})}}; });
    add("sy::reshape", [](Device d) { return Args{{TT(d, 3, 4), ints({-1})}}; });
    add("sy::flatten.using_ints", [](Device d) {
      return Args{{T(d, {2, 3, 4}), IValue(int64_t{1})}};
    });
    add("sy::transpose.int", [](Device d) {
      return Args{{T(d, {2, 3, 4}), IValue(int64_t{0}), IValue(int64_t{-1})}};
    });
    add("sy::t", [](Device d) { return Args{{T(d, {2, 3})}}; });
    add("sy::permute", [](Device d) { return Args{{T(d, {2, 3, 4}), ints({2, 0, 1})}}; });
    add("sy::select.int", [](Device d) {
      return Args{{T(d, {2, 3, 4}), IValue(int64_t{1}), IValue(int64_t{-1})}};
    });
    add("sy::slice.Tensor", [](Device d) {
      return Args{{T(d, {10, 3}), IValue(int64_t{0}), IValue(int64_t{1}), IValue(int64_t{8}),
                   IValue(int64_t{3})}};
    });
    add("sy::narrow", [](Device d) {
      return Args{{T(d, {4, 5}), IValue(int64_t{1}), IValue(int64_t{1}), IValue(int64_t{3})}};
    });
    add("sy::unsqueeze", [](Device d) { return Args{{TT(d, 2, 3), IValue(int64_t{1})}}; });
    add("sy::squeeze", [](Device d) { return Args{{T(d, {1, 3, 1, 2})}}; });
    add("sy::squeeze.dim", [](Device d) { return Args{{T(d, {1, 3, 1}), IValue(int64_t{-1})}}; });
    add("sy::expand", [](Device d) { return Args{{T(d, {3, 1}), ints({2, -1, 4})}}; });
    add("sy::contiguous", [](Device d) { return Args{{TT(d, 3, 4)}}; });
    add("sy::clone", [](Device d) { return Args{{TT(d, 3, 4, kInt32)}}; });
    add("sy::copy_", [](Device d) { return Args{{T(d, {2, 3}, kInt64), TT(d, 1, 3)}}; });
    add("sy::to.dtype", [](Device d) { return Args{{TT(d, 2, 3), IValue(kInt32)}}; });
    add("sy::to.device", [](Device d) {
      return Args{{T(d, {2, 3}), IValue(d), IValue(kFloat64)}};
    });

    // --- joining and indexing -----------------------------------------------
    add("sy::cat", [](Device d) {
      return Args{{tensors({T(d, {2, 3}), T(d, {1, 3}, kInt64), T(d, {0})}), IValue(int64_t{0})}};
    });
    add("sy::cat.out", [](Device d) {
      return Args{{tensors({T(d, {2, 2}), TT(d, 2, 1)}), IValue(int64_t{1})},
                  {{"out", IValue(T(d, {2, 3}))}}};
    });
    add("sy::stack", [](Device d) {
      return Args{{tensors({T(d, {2, 3}), T(d, {2, 3})}), IValue(int64_t{1})}};
    });
    add("sy::split.Tensor", [](Device d) { return Args{{T(d, {5, 2}), IValue(int64_t{2})}}; });
    add("sy::split_with_sizes", [](Device d) {
      return Args{{T(d, {2, 5}), ints({1, 4}), IValue(int64_t{1})}};
    });
    add("sy::chunk", [](Device d) { return Args{{T(d, {7}), IValue(int64_t{3})}}; });
    add("sy::index_select", [](Device d) {
      return Args{{TT(d, 3, 4), IValue(int64_t{1}), Z(d, {5})}};
    });
    add("sy::gather", [](Device d) {
      return Args{{T(d, {3, 4}), IValue(int64_t{1}), Z(d, {2, 6})}};
    });

    // --- advanced indexing, scatter -------------------------------------------
    auto add_data_dependent = [&](std::string op, std::function<Args(Device)> make) {
      v.push_back({std::move(op), std::move(make), true});
    };
    auto i64 = [](int64_t x) { return IValue(x); };
    add("sy::index.Tensor", [](Device d) {
      return Args{{TT(d, 3, 4), tensors({Z(d, {2, 2}), Z(d, {2}, kInt32)})}};
    });
    add("sy::index_put_", [](Device d) {
      return Args{{T(d, {3, 4}), tensors({Z(d, {2})}), T(d, {4})}};
    });
    add("sy::index_put", [](Device d) {
      return Args{{T(d, {3, 4}), tensors({Z(d, {2}), Z(d, {2})}), T(d, {1}), IValue(true)}};
    });
    add("sy::masked_fill.Scalar", [](Device d) {
      return Args{{T(d, {3, 4}), T(d, {4}, kBool), IValue(Scalar(2.5))}};
    });
    add("sy::masked_fill.Tensor", [](Device d) {
      return Args{{T(d, {1, 4}), T(d, {3, 1}, kBool), T(d, {})}};
    });
    add("sy::masked_fill_.Scalar", [](Device d) {
      return Args{{TT(d, 3, 4), T(d, {4}, kBool), IValue(Scalar(1))}};
    });
    add("sy::masked_fill_.Tensor", [](Device d) {
      return Args{{T(d, {3, 4}), T(d, {3, 1}, kBool), T(d, {}, kFloat64)}};
    });
    add_data_dependent("sy::masked_select", [](Device d) {
      return Args{{T(d, {3, 4}), T(d, {4}, kBool)}};
    });
    add_data_dependent("sy::nonzero", [](Device d) { return Args{{TT(d, 3, 4)}}; });
    for (const char* op :
         {"sy::scatter.src", "sy::scatter_.src", "sy::scatter_add", "sy::scatter_add_"}) {
      add(op, [i64](Device d) { return Args{{T(d, {3, 4}), i64(0), Z(d, {2, 3}), T(d, {2, 4})}}; });
    }
    for (const char* op : {"sy::scatter.value", "sy::scatter_.value"}) {
      add(op, [i64](Device d) {
        return Args{{T(d, {3, 4}), i64(1), Z(d, {2, 3}), IValue(Scalar(2))}};
      });
    }
    add("sy::scatter.reduce", [i64](Device d) {
      return Args{{T(d, {3, 4}), i64(0), Z(d, {2, 3}), T(d, {2, 4})}, {{"reduce", IValue("add")}}};
    });
    add("sy::scatter_.reduce", [i64](Device d) {
      return Args{{T(d, {3, 4}, kInt64), i64(1), Z(d, {2, 3}), T(d, {2, 4}, kInt64)},
                  {{"reduce", IValue("multiply")}}};
    });
    for (const char* op : {"sy::scatter.value_reduce", "sy::scatter_.value_reduce"}) {
      add(op, [i64](Device d) {
        return Args{{T(d, {3, 4}), i64(1), Z(d, {2, 3}), IValue(Scalar(2))},
                    {{"reduce", IValue("multiply")}}};
      });
    }

    // --- sorting and scans --------------------------------------------------
    add("sy::sort", [i64](Device d) { return Args{{T(d, {3, 4}), i64(1), IValue(true)}}; });
    add("sy::sort.stable", [](Device d) {
      return Args{{TT(d, 3, 4)}, {{"stable", IValue(true)}, {"dim", IValue(int64_t{0})}}};
    });
    add("sy::argsort", [i64](Device d) { return Args{{TT(d, 3, 4), i64(0)}}; });
    add("sy::argsort.stable", [](Device d) {
      return Args{{T(d, {3, 4})}, {{"stable", IValue(true)}, {"descending", IValue(true)}}};
    });
    add("sy::topk", [i64](Device d) { return Args{{T(d, {3, 5}), i64(2)}}; });
    add("sy::cumsum", [i64](Device d) { return Args{{TT(d, 3, 4), i64(1)}}; });
    add("sy::cumprod", [i64](Device d) { return Args{{T(d, {3, 4}, kInt32), i64(0)}}; });

    // --- layout, logic, norms, conditionals ----------------------------------------
    add("sy::repeat", [](Device d) { return Args{{T(d, {2, 3}), ints({2, 1, 2})}}; });
    add("sy::numpy_T", [](Device d) { return Args{{T(d, {2, 3, 4})}}; });
    add("sy::mT", [](Device d) { return Args{{T(d, {2, 3, 4})}}; });
    add("sy::detach", [](Device d) { return Args{{TT(d, 3, 4)}}; });
    add("sy::any", [](Device d) { return Args{{T(d, {3, 4})}}; });
    add("sy::any.dim", [i64](Device d) { return Args{{TT(d, 3, 4), i64(1), IValue(true)}}; });
    add("sy::all", [](Device d) { return Args{{T(d, {3, 4}, kUInt8)}}; });
    add("sy::all.dim", [i64](Device d) { return Args{{T(d, {3, 4}, kInt64), i64(0)}}; });
    add("sy::isclose", [](Device d) { return Args{{T(d, {3, 4}), T(d, {4})}}; });
    add_data_dependent("sy::allclose", [](Device d) { return Args{{T(d, {3, 4}), T(d, {4})}}; });
    add("sy::linalg_vector_norm", [](Device d) {
      return Args{{T(d, {3, 4}), IValue(Scalar(3)), ints({1})}};
    });
    add("sy::norm.Scalar", [](Device d) { return Args{{TT(d, 3, 4)}}; });
    add("sy::norm.ScalarOpt_dim", [i64](Device d) {
      return Args{{T(d, {3, 4}), IValue(Scalar(1)), ints({0}), IValue(true)}};
    });
    add("sy::where.ScalarSelf", [](Device d) {
      return Args{{T(d, {3}, kBool), IValue(Scalar(1)), T(d, {2, 3}, kInt32)}};
    });
    add("sy::where.ScalarOther", [](Device d) {
      return Args{{T(d, {3}, kBool), T(d, {2, 3}), IValue(Scalar(2.5))}};
    });
    add("sy::where.Scalar", [](Device d) {
      return Args{{T(d, {2, 3}, kBool), IValue(Scalar(1)), IValue(Scalar(0))}};
    });
    add_data_dependent("sy::where", [](Device d) { return Args{{T(d, {2, 3}, kBool)}}; });
    add("sy::clamp.Tensor", [](Device d) { return Args{{T(d, {3, 4}), T(d, {4}), T(d, {3, 1})}}; });
    add("sy::clamp_.Tensor", [](Device d) { return Args{{TT(d, 3, 4), T(d, {4})}}; });
    add("sy::clamp.Tensor_out", [](Device d) {
      return Args{{T(d, {3, 4}), IValue(), T(d, {4})}, {{"out", IValue(T(d, {3, 4}))}}};
    });
    add("sy::clamp_min", [](Device d) {
      return Args{{T(d, {3, 4}, kInt32), IValue(Scalar(0.5))}};
    });
    add("sy::clamp_max", [](Device d) { return Args{{TT(d, 3, 4), IValue(Scalar(0))}}; });
    for (const char* op :
         {"sy::clamp_min.Tensor", "sy::clamp_max.Tensor", "sy::max.other", "sy::min.other"}) {
      add(op, [](Device d) { return Args{{T(d, {3, 4}), T(d, {4}, kFloat64)}}; });
    }
    add("sy::clip", [](Device d) { return Args{{T(d, {3, 4}), IValue(), IValue(Scalar(1))}}; });
    add("sy::clip.Tensor", [](Device d) { return Args{{TT(d, 3, 4), T(d, {4}), T(d, {3, 1})}}; });
    add("sy::lerp.Scalar", [](Device d) {
      return Args{{TT(d, 3, 4), T(d, {4}), IValue(Scalar(0.7))}};
    });
    add("sy::lerp.Tensor", [](Device d) { return Args{{T(d, {3, 4}), T(d, {4}), T(d, {3, 1})}}; });
    add_data_dependent("sy::equal", [](Device d) { return Args{{T(d, {3, 4}), T(d, {3, 4})}}; });
    add("sy::sign", [](Device d) { return Args{{T(d, {3, 4}, kInt32)}}; });

    // --- layout extras, amax/amin/logsumexp, index_add/copy/fill, take --------------
    add("sy::flip", [](Device d) { return Args{{TT(d, 3, 4), ints({0, -1})}}; });
    add("sy::roll", [](Device d) { return Args{{T(d, {3, 4}), ints({1, -5}), ints({0, 1})}}; });
    add("sy::tril", [](Device d) { return Args{{T(d, {2, 3, 4}), IValue(int64_t{1})}}; });
    add("sy::triu", [](Device d) { return Args{{TT(d, 4, 3)}}; });
    add("sy::repeat_interleave.self_int", [](Device d) {
      return Args{{T(d, {2, 3}), IValue(int64_t{2}), IValue(int64_t{1})}};
    });
    add("sy::amax", [](Device d) { return Args{{T(d, {2, 3, 4}), ints({0, 2})}}; });
    add("sy::amin", [](Device d) { return Args{{TT(d, 3, 4), ints({1}), IValue(true)}}; });
    add("sy::logsumexp", [](Device d) { return Args{{T(d, {3, 4}), ints({1})}}; });
    for (const char* op :
         {"sy::index_add", "sy::index_add_", "sy::index_copy", "sy::index_copy_"}) {
      add(op, [](Device d) {
        return Args{{T(d, {3, 4}), IValue(int64_t{1}), Range(d, 2), T(d, {3, 2})}};
      });
    }
    for (const char* op : {"sy::index_fill.int_Scalar", "sy::index_fill_.int_Scalar"}) {
      add(op, [](Device d) {
        return Args{{TT(d, 3, 4), IValue(int64_t{0}), Z(d, {2}), IValue(Scalar(1.5))}};
      });
    }
    add("sy::take", [](Device d) { return Args{{T(d, {3, 4}), Z(d, {2, 2})}}; });

    // --- other spellings ---------------------------------------------------------
    add("sy::rand_like", [](Device d) { return Args{{T(d, {2, 3})}}; });
    add("sy::randn_like", [](Device d) { return Args{{T(d, {2, 3}, kFloat64)}}; });
    for (const char* op : {"sy::var", "sy::std"}) {
      add(op, [](Device d) { return Args{{T(d, {3, 4}), IValue(false)}}; });
    }
    for (const char* op : {"sy::var.dim", "sy::std.dim"}) {
      add(op, [](Device d) { return Args{{TT(d, 3, 4), ints({1}), IValue(true), IValue(true)}}; });
    }
    add("sy::split.sizes", [](Device d) { return Args{{T(d, {5, 2}), ints({2, 3})}}; });
    return v;
  }();
  return table;
}

bool nondeterministic(const std::string& op) {
  static const std::set<std::string> kOps = {"sy::rand",       "sy::randn",     "sy::empty",
                                             "sy::empty_like", "sy::rand_like", "sy::randn_like"};
  return kOps.count(op.substr(0, op.find('.'))) > 0;
}

Stack random_stack(const Case& c, const FunctionSchema& schema, uint32_t seed) {
  Stack stack = testing_cases::build_stack(schema, c.make(kCPU), nullptr);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(0.5, 1.5);
  auto fill = [&](const Tensor& t) {
    const Storage& s = t.impl()->storage();
    if (t.dtype() == kFloat32) {
      auto* p = static_cast<float*>(s->data());
      for (size_t i = 0; i < s->nbytes() / sizeof(float); ++i) p[i] = static_cast<float>(dist(gen));
    } else if (t.dtype() == kFloat64) {
      auto* p = static_cast<double*>(s->data());
      for (size_t i = 0; i < s->nbytes() / sizeof(double); ++i) p[i] = dist(gen);
    }
  };
  for (IValue& v : stack) {
    if (v.is_tensor()) fill(v.to_tensor());
    if (v.is_tensor_list()) {
      for (const Tensor& t : v.to_tensor_list()) fill(t);
    }
  }
  return stack;
}

std::vector<Tensor> tensors_of(const Stack& stack) {
  std::vector<Tensor> out;
  for (const IValue& v : stack) {
    if (v.is_tensor()) out.push_back(v.to_tensor());
    if (v.is_tensor_list()) {
      for (const Tensor& t : v.to_tensor_list()) out.push_back(t);
    }
  }
  return out;
}

Stack with_tensors(Stack stack, const std::vector<Tensor>& in) {
  size_t k = 0;
  for (IValue& v : stack) {
    if (v.is_tensor()) v = IValue(in[k++]);
    if (v.is_tensor_list()) {
      std::vector<Tensor> ts = v.to_tensor_list();
      for (Tensor& t : ts) t = in[k++];
      v = IValue(std::move(ts));
    }
  }
  return stack;
}

}  // namespace sy::testing_cases
