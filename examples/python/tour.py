"""A short tour of switchyard from Python: tensors and ops, a custom op with a
Python kernel, modes that follow work onto threads, and tracing."""

import switchyard as sy
from switchyard.library import Library, impl

# Tensors and the built-in ops, with broadcasting and type promotion.
x = sy.tensor([[1.0, 2.0], [3.0, 4.0]])
print("x @ x.t() + 1 =", x @ x.t() + 1)
print("arange(4) * 2.5 =", sy.arange(4) * 2.5)
print("sum over dim 0 of softmax:", sy.ops.sy.softmax(x, -1).sum([0]))

# A custom op defined from Python, with a kernel per device.
lib = Library("tour", "DEF")
lib.define("double_it(Tensor x) -> Tensor")


@impl(lib, "double_it", "CPU")
def double_it_cpu(x):
    return x + x


print("tour::double_it(ones(3)) =", sy.ops.tour.double_it(sy.ones(3)))
table = sy._C._dispatch_dump_table("tour::double_it")
print("its table at CPU:", next(l for l in table.splitlines() if l.strip().startswith("CPU:")).strip())

# Per-thread modes: sy.threading.Thread carries the creator's no_grad.
seen = []
with sy.no_grad():
    t = sy.threading.Thread(target=lambda: seen.append(sy.is_grad_enabled()))
    t.start()
    t.join()
print("grad enabled on a thread started inside no_grad:", seen[0])

# Tracing: the graph prints and replays.
g = sy.trace(lambda a, b: sy.relu(a @ b).sum(), (sy.rand(2, 3), sy.rand(3, 4)))
print(g)
print("replayed on ones:", g(sy.ones(2, 3), sy.ones(3, 4)))

lib.destroy()
try:
    sy.ops.tour.double_it(sy.ones(1))
except Exception as e:  # the op is gone, and the call says so
    print(type(e).__name__ + ":", str(e).splitlines()[0])
