"""Autograd from Python: train a tiny model with backward(), write a custom
Function, take a Hessian-vector product and a forward-mode JVP, and gradcheck."""

import switchyard as sy
from switchyard.autograd import forward_ad as fwAD

# A linear model fit by gradient descent: y = 3 x0 - 2 x1 + 0.5.
x = sy.randn([64, 2])
y = x @ sy.tensor([[3.0], [-2.0]]) + 0.5
w = sy.zeros([2, 1], requires_grad=True)
b = sy.zeros([1], requires_grad=True)
for step in range(201):
    err = x @ w + b - y
    loss = (err * err).sum() / 64.0
    w.grad = None
    b.grad = None
    loss.backward()
    with sy.no_grad():
        w -= w.grad * 0.1
        b -= b.grad * 0.1
    if step % 50 == 0:
        print(f"step {step:3d}  loss {loss.item():.6f}")
print("w =", w.tolist(), " b =", b.tolist(), " loss.grad_fn:", loss.grad_fn.name())


# A custom op with its own backward.
class Cube(sy.autograd.Function):
    @staticmethod
    def forward(t):
        return t * t * t

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, grad):
        (t,) = ctx.saved_tensors
        return grad * 3.0 * t * t


t = sy.tensor([1.0, 2.0], dtype=sy.float64, requires_grad=True)
Cube.apply(t).sum().backward()
print("d/dt sum(t^3) =", t.grad.tolist())

# Second order: a Hessian-vector product through create_graph.
(g,) = sy.autograd.grad((t * t * t).sum(), t, create_graph=True)
(hv,) = sy.autograd.grad((g * sy.tensor([1.0, 1.0], dtype=sy.float64)).sum(), t)
print("Hessian-vector product of sum(t^3):", hv.tolist())

# Forward mode: a Jacobian-vector product.
with fwAD.dual_level():
    d = fwAD.make_dual(sy.tensor([0.5, 1.0]), sy.tensor([1.0, 0.0]))
    print("JVP of sum(sin(t) * t):", fwAD.unpack_dual((d.sin() * d).sum()).tangent.item())

print("gradcheck(Cube):", sy.autograd.gradcheck(Cube.apply, (t,), check_forward_ad=False))
