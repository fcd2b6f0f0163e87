"""Per-sample gradients with sy.func: vmap(grad(loss)) over a batch, checked
against a loop that differentiates one example at a time.

    PYTHONPATH=build/release/python /usr/bin/python3 examples/python/per_sample_grads.py
"""

import switchyard as sy

sy.manual_seed(0)
w = sy.randn(32, 10) * 0.1          # the weights, shared by the batch
xs, ys = sy.randn(64, 32), sy.randn(64, 10)


def loss(w, x, y):
    d = x @ w - y
    return (d * d).sum()


# One call: each example's gradient of the shared weights, batched.
per_sample = sy.func.vmap(sy.func.grad(loss), in_dims=(None, 0, 0))(w, xs, ys)
print("per-sample gradients:", tuple(per_sample.shape))

# The same, one example at a time with autograd.
for i in (0, 17, 63):
    wl = w.detach().requires_grad_()
    (g,) = sy.autograd.grad(loss(wl, xs[i], ys[i]), wl)
    assert sy.allclose(per_sample[i], g, rtol=1e-5, atol=1e-5), i
print("matches a loop of sy.autograd.grad; gradient norms of the first 4 examples:",
      [round(float((per_sample[i] * per_sample[i]).sum().sqrt()), 3) for i in range(4)])

# The Hessian of a small function, and a Jacobian-vector product.
f = lambda t: (t.sin() * t * t).sum()  # noqa: E731
print("hessian of sum(sin(t) t^2) at [0.5, 1.0]:\n", sy.func.hessian(f)(sy.tensor([0.5, 1.0])))
print("jvp:", sy.func.jvp(lambda t: t.exp(), (sy.tensor([0.0, 1.0]),), (sy.ones(2),)))


# A custom Function inside the transforms: its backward, written for one example,
# runs batched (PyTorch refuses this without a vmap rule).
class Cube(sy.autograd.Function):
    @staticmethod
    def forward(x):
        return x * x * x

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x * x * g


xs3 = sy.randn(4, 3)
g = sy.func.vmap(sy.func.grad(lambda x: Cube.apply(x).sum()))(xs3)
assert sy.allclose(g, 3 * xs3 * xs3)
print("per-example gradients through a custom Function match 3x^2")


# Per-example Jacobians from vjp: vmap over vjp_fn, inside another vmap.
def jacobian(x):
    _, vjp_fn = sy.func.vjp(lambda t: t.sin() * t.sum(), x)
    return sy.func.vmap(vjp_fn)(sy.eye(3))[0]


print("per-example Jacobians:", tuple(sy.func.vmap(jacobian)(xs3).shape))
print("ops that ran once per example:", sy.func.vmap_fallback_counts())
