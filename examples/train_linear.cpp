// Autograd in C++: fit y = 3 x0 - 2 x1 + 0.5 by gradient descent. The forward
// pass records a graph, backward() fills w.grad() and b.grad(), and the update
// runs under NoGradGuard, as an optimizer step does.
#include <iostream>

#include <switchyard/switchyard.h>

int main() {
  using sy::Tensor;
  const Tensor x = sy::randn({64, 2});
  const Tensor y = x.mm(sy::tensor({{3.0}, {-2.0}})) + 0.5;

  const auto requires_grad = sy::TensorOptions().requires_grad(true);
  const Tensor w = sy::zeros({2, 1}, requires_grad);
  const Tensor b = sy::zeros({1}, requires_grad);

  for (int step = 0; step <= 200; ++step) {
    const Tensor err = x.mm(w) + b - y;
    const Tensor loss = (err * err).sum() / 64.0;
    w.mutable_grad() = Tensor();
    b.mutable_grad() = Tensor();
    loss.backward();
    {
      sy::NoGradGuard no_grad;
      w.sub_(w.grad() * 0.1);
      b.sub_(b.grad() * 0.1);
    }
    if (step % 50 == 0) std::cout << "step " << step << "  loss " << loss.item<double>() << "\n";
  }
  std::cout << "w = " << w.to_string() << "\nb = " << b.to_string() << "\n";
  std::cout << "loss.grad_fn: " << (x.mm(w) + b - y).sum().grad_fn()->name() << "\n";
}
