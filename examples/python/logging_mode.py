"""Dispatch modes: see every op a program runs, and count an MLP's matmul FLOPs.

    PYTHONPATH=build/release/python /usr/bin/python3 examples/python/logging_mode.py

A mode's __sy_dispatch__ gets each op as it runs (composites such as matmul and
softmax already decomposed into what actually runs), turns itself off while its
handler runs, and follows work into sy.threading.Thread. See docs/python-dispatch.md.
"""

import switchyard as sy
from switchyard.utils.python_dispatch import DispatchMode


class LoggingMode(DispatchMode):
    """Prints each op with the shapes of its tensor arguments."""

    def __sy_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        shapes = [list(a.shape) if isinstance(a, sy.Tensor) else a for a in args]
        print(f"  {str(func):<22} {shapes} {kwargs if kwargs else ''}-> {list(out.shape)}")
        return out


class FlopCounter(DispatchMode):
    """Counts the multiply-adds of matrix products (2 FLOPs each), per op."""

    def __init__(self):
        self.flops = {}

    def __sy_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func is sy.ops.sy.mm.default:
            (m, k), n = args[0].shape, args[1].shape[1]
            self._add(func, 2 * m * k * n)
        elif func is sy.ops.sy.addmm.default:
            (m, k), n = args[1].shape, args[2].shape[1]
            self._add(func, 2 * m * k * n)
        elif func is sy.ops.sy.bmm.default:
            b, m, k = args[0].shape
            self._add(func, 2 * b * m * k * args[1].shape[2])
        return out

    def _add(self, func, n):
        self.flops[str(func)] = self.flops.get(str(func), 0) + n


def mlp(x, layers):
    for i, (w, b) in enumerate(layers):
        x = x @ w + b
        if i + 1 < len(layers):
            x = sy.relu(x)
    return sy.softmax(x, -1)


def main():
    sizes = [64, 128, 128, 10]
    layers = [(sy.randn(i, o), sy.zeros(o)) for i, o in zip(sizes, sizes[1:])]
    x = sy.randn(32, sizes[0])

    print("every op of a 3-layer MLP on a batch of 32:")
    with LoggingMode():
        mlp(x, layers)

    with FlopCounter() as counter:
        mlp(x, layers)
    expected = sum(2 * 32 * i * o for i, o in zip(sizes, sizes[1:]))
    print(f"\nmatmul FLOPs: {counter.flops} (total {sum(counter.flops.values()):,}; "
          f"2*batch*in*out summed over the layers: {expected:,})")
    assert sum(counter.flops.values()) == expected

    print("\nthe mode follows work into sy.threading.Thread:")
    with LoggingMode():
        t = sy.threading.Thread(target=lambda: x.sum())
        t.start()
        t.join()


if __name__ == "__main__":
    main()
