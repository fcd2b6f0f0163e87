"""Tensor methods and operators, from the op table (docs/op-table.md).

Each method is the op's ``sy.ops.sy.<name>`` packet itself, stored on the class:
a packet binds like a function, so ``t.add(u)`` calls ``sy.ops.sy.add(t, u)``
with overload resolution and argument parsing in C++. Which ops are methods and
operators comes from ``_op_table`` (generated from switchyard/ops/*.yaml); what
the table cannot say (reflected operators, conversions) is written here, and
indexing is in _indexing.py. An op that is not registered gets no method; ``install()`` runs at import.
"""

from switchyard import _C, _op_table
from switchyard.ops import ops, op_exists

Tensor = _C.Tensor


def _rsub(self, other):
    return ops.sy.add(ops.sy.neg(self), other)


def _rtruediv(self, other):
    return ops.sy.div(_C.tensor(other), self)


def _rfloordiv(self, other):
    return ops.sy.floor_divide(_C.tensor(other), self)


def _rmod(self, other):
    return ops.sy.remainder(_C.tensor(other), self)


def _rpow(self, other):
    return ops.sy.pow(other, self)


def _rmatmul(self, other):
    return ops.sy.matmul(other, self)


def where(self, condition, other):
    """Elements of self where condition holds, of other elsewhere (sy.where)."""
    return ops.sy.where(condition, self, other)


def _norm(self, p="fro", dim=None, keepdim=False, dtype=None):
    import switchyard

    return switchyard.norm(self, p, dim, keepdim, dtype)


def _H(self):
    if self.ndim not in (0, 2):
        raise ValueError(
            f"Tensor.H: only matrices (2-d tensors) have a conjugate transpose, this one is "
            f"{self.ndim}-d; use .mH for batches of matrices")
    # No complex dtypes: the conjugate transpose is the transpose.
    return self if self.ndim == 0 else ops.sy.t(self)


def _cpu(self):
    return self if self.device.type == "cpu" else ops.sy.to(self, "cpu")


def _numpy(self):
    """A numpy array sharing this tensor's memory (no copy; cpu tensors)."""
    import numpy

    # Through memoryview: numpy.asarray alone would turn a buffer error (a meta
    # tensor) into an array of objects.
    return numpy.asarray(memoryview(self))


def _converter(dtype_name):
    def convert(self):
        return ops.sy.to(self, getattr(_C, dtype_name))

    convert.__name__ = dtype_name
    return convert


def _iter(self):
    if self.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    return (ops.sy.select(self, 0, i) for i in range(self.shape[0]))


def _nonzero(self, *, as_tuple=False):
    """The coordinates of the nonzero elements: one row each (a ``[n, ndim]`` int64
    tensor), or with ``as_tuple=True`` one 1-d tensor per dim (a 0-d input counts as
    1-d), as torch.nonzero."""
    if not as_tuple:
        return ops.sy.nonzero(self)
    return tuple(ops.sy.where(self.reshape(1) if self.ndim == 0 else self))


# Hand-written methods of the op table (python: {method: custom}).
CUSTOM = {"where": where, "nonzero": _nonzero}


def install():
    """Puts the methods of the registered ops on sy.Tensor."""
    _C._set_op_docs(_op_table.DOCS)
    for name, op in _op_table.METHODS:
        if op_exists("sy::" + op):
            setattr(Tensor, name, getattr(ops.sy, op))
    for dunder, op in _op_table.OPERATORS:
        if op_exists("sy::" + op):
            setattr(Tensor, dunder, getattr(ops.sy, op))
    for name, _ in _op_table.CUSTOM_METHODS:
        if op_exists("sy::" + name):
            setattr(Tensor, name, CUSTOM[name])
    extras = {
        "__rsub__": ("sy::neg", _rsub), "__rtruediv__": ("sy::div", _rtruediv),
        "__rfloordiv__": ("sy::floor_divide", _rfloordiv), "__rmod__": ("sy::remainder", _rmod),
        "__rpow__": ("sy::pow", _rpow), "__rmatmul__": ("sy::matmul", _rmatmul),
    }
    for dunder, (op, fn) in extras.items():
        if op_exists(op):
            setattr(Tensor, dunder, fn)
    Tensor.__iter__ = _iter
    Tensor.T = property(lambda self: ops.sy.numpy_T(self), doc="The dims in reverse order.")
    Tensor.mT = property(lambda self: ops.sy.mT(self), doc="The last two dims swapped.")
    Tensor.H = property(_H, doc="The conjugate transpose of a matrix (its transpose).")
    Tensor.mH = property(lambda self: ops.sy.mT(self),
                         doc="The last two dims swapped (conjugated, were there complex dtypes).")
    Tensor.norm = _norm
    Tensor.cpu = _cpu
    Tensor.numpy = _numpy
    for name, dtype_name in [("float", "float32"), ("double", "float64"), ("long", "int64"),
                             ("int", "int32"), ("bool", "bool"), ("half", "float16"),
                             ("bfloat16", "bfloat16")]:
        if op_exists("sy::to"):
            setattr(Tensor, name, _converter(dtype_name))
