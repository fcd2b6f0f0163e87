"""Fake tensors: run a model on shapes alone, through the Meta kernels.

    PYTHONPATH=build/release/python /usr/bin/python3 examples/python/fake_tensor.py

A FakeTensor is a wrapper subclass (sy.Tensor._make_wrapper_subclass) that
reports a device and a shape but holds only a meta tensor; FakeTensorMode is a
dispatch mode that makes factories fake and runs every op on the meta tensors.
A custom op takes part through its fake kernel (register_fake). Nested with a
FLOP-counting mode, it counts a model's FLOPs without allocating its weights.
See docs/python-dispatch.md and docs/python.md ("Custom ops").
"""

import os
import sys

import numpy as np

import switchyard as sy
from switchyard.utils.python_dispatch import DispatchMode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from logging_mode import FlopCounter  # noqa: E402


class FakeTensor(sy.Tensor):
    """A tensor that has a shape, a dtype and a device, and no data."""

    @staticmethod
    def __new__(cls, meta, device):
        r = sy.Tensor._make_wrapper_subclass(cls, meta.shape, dtype=meta.dtype, device=device)
        r.meta = meta
        return r

    def __repr__(self):
        return f"FakeTensor(shape={tuple(self.shape)}, dtype={self.dtype}, device={self.device})"


def _map(value, fn):
    if isinstance(value, (list, tuple)):
        return type(value)(_map(v, fn) for v in value)
    return fn(value)


class FakeTensorMode(DispatchMode):
    """Every op runs on meta tensors; results come back as FakeTensors on `device`."""

    def __init__(self, device="cpu"):
        self.device = sy.device(device)

    def __sy_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        device = self.device

        def to_meta(v):
            nonlocal device
            if isinstance(v, FakeTensor):
                device = v.device
                return v.meta
            if isinstance(v, sy.Tensor):  # a real tensor that came in from outside
                return sy.empty(*v.shape, dtype=v.dtype, device="meta")
            return v

        args = _map(args, to_meta)
        kwargs = {k: _map(v, to_meta) for k, v in kwargs.items()}
        if "device" in func._schema:  # a factory: make it on meta
            kwargs["device"] = sy.device("meta")
        out = func(*args, **kwargs)
        return _map(out, lambda v: FakeTensor(v, device) if isinstance(v, sy.Tensor) else v)


# A custom op whose real kernel needs data (numpy); its fake kernel needs shapes only.
@sy.library.custom_op("fake_example::numpy_gelu", mutates_args=())
def numpy_gelu(x: sy.Tensor) -> sy.Tensor:
    a = x.numpy()
    return sy.from_numpy(0.5 * a * (1 + np.tanh(0.7978845608 * (a + 0.044715 * a ** 3))))


@numpy_gelu.register_fake
def _(x):
    return sy.empty_like(x)


def mlp(x, layers):
    for i, (w, b) in enumerate(layers):
        x = x @ w + b
        if i + 1 < len(layers):
            x = numpy_gelu(x)
    return sy.softmax(x, -1)


def main():
    # 4 layers of 8192 wide: 768 MiB of float32 weights if they were real.
    sizes = [8192, 8192, 8192, 8192, 1000]
    batch = 512
    with FakeTensorMode(), FlopCounter() as flops:
        layers = [(sy.randn(i, o), sy.zeros(o)) for i, o in zip(sizes, sizes[1:])]
        x = sy.randn(batch, sizes[0])
        y = mlp(x, layers)
    print("the output:", y)
    w = layers[0][0]
    print("the first weight:", w, "- on", w.meta.device, "with data pointer", w.meta.data_ptr())
    expected = sum(2 * batch * i * o for i, o in zip(sizes, sizes[1:]))
    total = sum(flops.flops.values())
    print(f"matmul FLOPs of one forward pass: {total:,} (2*batch*in*out summed: {expected:,})")
    assert isinstance(y, FakeTensor) and tuple(y.shape) == (batch, sizes[-1])
    assert total == expected

    # The same model on small real tensors gives the shapes the fake run promised.
    small = [16, 32, 8]
    real_layers = [(sy.randn(i, o), sy.zeros(o)) for i, o in zip(small, small[1:])]
    real = mlp(sy.randn(4, small[0]), real_layers)
    with FakeTensorMode():
        fake = mlp(sy.randn(4, small[0]), real_layers)  # real weights come in as fakes
    print("real:", tuple(real.shape), real.dtype, "fake:", fake)
    assert tuple(real.shape) == tuple(fake.shape) and real.dtype == fake.dtype


if __name__ == "__main__":
    main()
