"""PyTorch habits that work as they do in PyTorch: advanced indexing and assignment,
named results, scans and sorting, 16-bit floats, and pickling tensors."""

import copy
import pickle

import switchyard as sy

sy.manual_seed(0)
x = sy.arange(12.0).reshape(3, 4)
print("x[x > 5] =", x[x > 5])
print("x[[0, 2]] =", x[[0, 2]])
print("x[:, [1, 3]] =", x[:, [1, 3]])
x[x > 8] = 0.0
print("after x[x > 8] = 0:", x)

best = x.max(1)
print("x.max(1).values =", best.values, " .indices =", best.indices)
top = sy.tensor([0.2, 0.9, 0.1, 0.7]).topk(2)
print("topk(2):", top.values, top.indices)
print("cumsum:", sy.arange(5).cumsum(0), " sort:", sy.tensor([3, 1, 2]).sort().values)
print("scatter_add:", sy.zeros(3).scatter_add(0, sy.tensor([0, 2, 0]), sy.ones(3)))
print("scatter(reduce='multiply'):",
      sy.full((3,), 2.0).scatter(0, sy.tensor([0, 0]), 3.0, reduce="multiply"))
print("clip:", sy.arange(5).clip(1, 3), " linalg.norm:", sy.linalg.norm(sy.tensor([3.0, 4.0])))

h = sy.tensor([0.1, 1000.0, 3.14159], dtype=sy.float16)
print("float16:", h, " + bfloat16 ->", (h + h.bfloat16()).dtype)

view = x[1]
a, b = pickle.loads(pickle.dumps((x, view)))
a[1, 0] = -1.0
print("unpickled views share storage again:", b[0].item() == -1.0)
print("deepcopy keeps values:", copy.deepcopy(x).allclose(x))
