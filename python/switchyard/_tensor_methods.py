"""Tensor methods and operators, generated from a table of op names.

Each method is the op's ``sy.ops.sy.<name>`` packet itself, stored on the class:
a packet binds like a function, so ``t.add(u)`` calls ``sy.ops.sy.add(t, u)``
with overload resolution and argument parsing in C++. An op in the table that
is not registered gets no method; ``install()`` runs at import.
"""

import operator as _operator

from switchyard import _C
from switchyard.ops import ops, op_exists

Tensor = _C.Tensor

# Ops whose first argument is the tensor: methods of the same name.
METHOD_OPS = [
    # elementwise arithmetic and comparisons
    "add", "add_", "sub", "sub_", "mul", "mul_", "div", "div_", "floor_divide",
    "remainder", "remainder_", "pow", "pow_", "maximum", "minimum", "clamp", "clamp_",
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not",
    "bitwise_and", "bitwise_and_", "bitwise_or", "bitwise_or_", "bitwise_xor", "bitwise_xor_",
    "bitwise_not", "bitwise_not_",
    # unary math
    "neg", "neg_", "abs", "abs_", "exp", "exp_", "log", "log_", "sqrt", "sqrt_",
    "rsqrt", "rsqrt_", "sin", "sin_", "cos", "cos_", "tanh", "tanh_", "sigmoid",
    "sigmoid_", "relu", "relu_", "gelu", "gelu_", "fill_", "zero_",
    # reductions
    "sum", "mean", "prod", "max", "min", "argmax", "argmin", "var", "std", "softmax",
    "log_softmax",
    # linear algebra
    "mm", "bmm", "matmul", "dot", "addmm",
    # views and shape
    "view", "reshape", "flatten", "transpose", "t", "permute", "select", "slice", "narrow",
    "unsqueeze", "squeeze", "expand", "contiguous", "clone", "copy_", "to",
    # joining and indexing
    "split", "chunk", "index_select", "gather",
]

# Python operators: (dunder, op name).
OPERATORS = [
    ("__add__", "add"), ("__radd__", "add"), ("__iadd__", "add_"),
    ("__sub__", "sub"), ("__isub__", "sub_"),
    ("__mul__", "mul"), ("__rmul__", "mul"), ("__imul__", "mul_"),
    ("__truediv__", "div"), ("__itruediv__", "div_"),
    ("__floordiv__", "floor_divide"), ("__mod__", "remainder"), ("__imod__", "remainder_"),
    ("__pow__", "pow"), ("__ipow__", "pow_"), ("__matmul__", "matmul"),
    ("__eq__", "eq"), ("__ne__", "ne"), ("__lt__", "lt"), ("__le__", "le"),
    ("__gt__", "gt"), ("__ge__", "ge"),
    ("__neg__", "neg"), ("__abs__", "abs"),
    # bitwise on integers; on bools also the logical operators (as in PyTorch)
    ("__invert__", "bitwise_not"), ("__and__", "bitwise_and"), ("__rand__", "bitwise_and"),
    ("__iand__", "bitwise_and_"), ("__or__", "bitwise_or"), ("__ror__", "bitwise_or"),
    ("__ior__", "bitwise_or_"), ("__xor__", "bitwise_xor"), ("__rxor__", "bitwise_xor"),
    ("__ixor__", "bitwise_xor_"),
]


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


def _where(self, condition, other):
    return ops.sy.where(condition, self, other)


def _getitem(self, index):
    """Basic indexing: ints, slices, None and Ellipsis (views, no copy)."""
    if not isinstance(index, tuple):
        index = (index,)
    consumed = sum(1 for i in index if i is not None and i is not Ellipsis)
    if sum(1 for i in index if i is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > self.ndim:
        raise IndexError(f"too many indices for a tensor of dimension {self.ndim}")
    result, dim = self, 0
    for item in index:
        if item is Ellipsis:
            dim += self.ndim - consumed
        elif item is None:
            result = ops.sy.unsqueeze(result, dim)
            dim += 1
        elif isinstance(item, slice):
            step = 1 if item.step is None else item.step
            result = ops.sy.slice(result, dim, item.start, item.stop, step)
            dim += 1
        elif isinstance(item, (bool, Tensor)) or not hasattr(item, "__index__"):
            raise IndexError(
                f"only integers, slices, None and ... are valid indices, not {type(item).__name__}")
        else:
            result = ops.sy.select(result, dim, _operator.index(item))
    return result


def _setitem(self, index, value):
    target = _getitem(self, index)
    if isinstance(value, Tensor):
        ops.sy.copy_(target, value)
    else:
        ops.sy.fill_(target, value)


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


def install():
    """Puts the methods of the registered ops on sy.Tensor."""
    for name in METHOD_OPS:
        if op_exists("sy::" + name):
            setattr(Tensor, name, getattr(ops.sy, name))
    for dunder, name in OPERATORS:
        if op_exists("sy::" + name):
            setattr(Tensor, dunder, getattr(ops.sy, name))
    extras = {
        "__rsub__": ("sy::neg", _rsub), "__rtruediv__": ("sy::div", _rtruediv),
        "__rfloordiv__": ("sy::floor_divide", _rfloordiv), "__rmod__": ("sy::remainder", _rmod),
        "__rpow__": ("sy::pow", _rpow), "__rmatmul__": ("sy::matmul", _rmatmul),
        "where": ("sy::where", _where), "__getitem__": ("sy::select", _getitem),
        "__setitem__": ("sy::fill_", _setitem),
    }
    for dunder, (op, fn) in extras.items():
        if op_exists(op):
            setattr(Tensor, dunder, fn)
    Tensor.__iter__ = _iter
    Tensor.cpu = _cpu
    Tensor.numpy = _numpy
    for name, dtype_name in [("float", "float32"), ("double", "float64"), ("long", "int64"),
                             ("int", "int32"), ("bool", "bool")]:
        if op_exists("sy::to"):
            setattr(Tensor, name, _converter(dtype_name))
