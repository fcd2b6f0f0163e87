// A tour of switchyard: define an op, give it kernels, call it, and ask the
// dispatcher why each call went where it did.
#include <iostream>

#include <switchyard/switchyard.h>

namespace {

// An op defined the way users define theirs: a schema and kernels per key.
sy::Tensor scale_cpu(const sy::Tensor& t, double factor) {
  sy::Tensor out = sy::empty(t.sizes(), sy::TensorOptions().dtype(t.dtype()));
  const float* in = t.data_ptr<float>();
  float* o = out.data_ptr<float>();
  for (int64_t i = 0; i < t.numel(); ++i) o[i] = static_cast<float>(in[i] * factor);
  return out;
}

// Shapes only: what tracing and planning use to reason without data.
sy::Tensor scale_meta(const sy::Tensor& t, double) {
  return sy::empty(t.sizes(), sy::TensorOptions().dtype(t.dtype()).device(t.device()));
}

}  // namespace

SY_LIBRARY(demo, m) { m.def("scale(Tensor self, float factor=1.0) -> Tensor"); }
SY_LIBRARY_IMPL(demo, CPU, m) { m.impl("scale", scale_cpu); }
SY_LIBRARY_IMPL(demo, Meta, m) { m.impl("scale", scale_meta); }

int main() {
  auto& dispatcher = sy::Dispatcher::singleton();
  auto scale = dispatcher.find_op("demo::scale").typed<sy::Tensor(const sy::Tensor&, double)>();

  sy::Tensor x = sy::ones({2, 3});
  sy::Tensor y = scale.call(x, 2.5);
  std::cout << "scale(ones(2, 3), 2.5) = " << y.to_string() << "\n\n";

  sy::Tensor m = sy::ones({2, 3}, sy::TensorOptions().device(sy::Device("meta")));
  sy::Tensor my = scale.call(m, 2.5);
  std::cout << "on meta: " << my.to_string() << "\n\n";

  std::cout << "Why did the call on a tensor that requires grad run the CPU kernel?\n";
  sy::Tensor g = sy::ones({2}).requires_grad_(true);
  std::cout << sy::explain_dispatch(scale, {sy::IValue(g), sy::IValue(2.0)}) << "\n";

  std::cout << "The op's computed table:\n" << dispatcher.dump_table("demo::scale") << "\n";

  std::cout << "Per-thread modes follow work onto the pool:\n";
  {
    sy::NoGradGuard no_grad;
    auto on_pool = sy::launch([] { return sy::GradMode::is_enabled(); });
    std::cout << "  inside no_grad, a launched task sees grad mode "
              << (on_pool.get() ? "on" : "off") << "\n";
  }
  std::cout << "  after the guard, grad mode is " << (sy::GradMode::is_enabled() ? "on" : "off")
            << "\n\n";

  std::cout << "The built-in ops broadcast and promote as in PyTorch:\n";
  sy::Tensor a = sy::tensor({{1.0, 2.0}, {3.0, 4.0}});
  sy::Tensor s = (a.matmul(a.t()) + 1).softmax(-1).sum({0});
  std::cout << "  (a @ a.t() + 1).softmax(-1).sum(0) = " << s.to_string() << "\n";
  std::cout << "  arange(4) * 2.5 = " << (sy::arange(4) * 2.5).to_string() << "\n\n";

  std::cout << "Tracing records each op once; the graph replays on new inputs:\n";
  sy::Graph graph = sy::trace(
      [](const std::vector<sy::Tensor>& in) {
        return std::vector<sy::Tensor>{sy::relu(sy::mm(in[0], in[1])).sum()};
      },
      {sy::rand({2, 3}), sy::rand({3, 4})});
  std::cout << graph.to_string();
  std::cout << "  replayed: " << graph.run({sy::ones({2, 3}), sy::ones({3, 4})})[0].to_string()
            << "\n\n";

  std::cout << "A call whose keys reach no kernel fails and says why:\n";
  try {
    sy::IncludeDispatchKeyGuard wrapper(sy::DispatchKey::GradWrapper);  // no kernel, no fallback
    scale.call(x, 1.0);
  } catch (const sy::Error& e) {
    std::cout << e.what() << "\n";
  }
  return 0;
}
