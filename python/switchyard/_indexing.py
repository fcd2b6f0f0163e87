"""Tensor.__getitem__ and __setitem__: basic and advanced indexing, as PyTorch does them.

Basic indices (ints, slices, None, ``...``) make views, applied left to right:
an int selects (the dim goes away), a slice narrows, None adds a dim. Advanced
indices (tensors, lists and tuples of numbers, numpy arrays, and Python bools)
are collected per dim and applied at the end in one ``sy.ops.sy.index`` call
(``index_put_`` for assignment), which copies. An integer tensor with no dims
acts like an int; a bool one like a Python bool (a new dim of size 1 or 0).

A list index is one advanced index (``t[[0, 2]]``) unless it is short and holds
slices, None, ``...``, tensors or sequences: then it is a tuple of indices, as
NumPy's and PyTorch's compatibility rule has it.
"""

import operator as _operator

from switchyard import _C
from switchyard.ops import ops

Tensor = _C.Tensor

_MASK_DTYPES = (_C.bool, _C.uint8)


def _is_sequence(obj):
    return isinstance(obj, (list, tuple))


def _as_tuple(index):
    """The index as a tuple of per-position indices (NumPy's rule for lists)."""
    if isinstance(index, tuple):
        return index
    if isinstance(index, list) and len(index) < 32:
        for item in index:
            if (isinstance(item, (Tensor, slice, list, tuple)) or item is None
                    or item is Ellipsis):
                return tuple(index)
    return (index,)


def _to_index_tensor(obj, device):
    """A list, tuple or numpy array used as an index, as a tensor (bools stay bool)."""
    if hasattr(obj, "__array__") and not _is_sequence(obj):
        obj = obj.tolist()
    if len(obj) == 0:
        return _C.tensor([], dtype=_C.int64, device=device)
    return _C.tensor(obj, device=device)


def _dims_consumed(item):
    if item is None or item is Ellipsis or isinstance(item, bool):
        return 0
    if isinstance(item, Tensor):
        if item.dtype in _MASK_DTYPES:
            return item.ndim
        return 1
    return 1


def _apply(self, index):
    """Applies the basic indices; returns (view, per-dim advanced indices or None)."""
    items = _as_tuple(index)
    if sum(1 for i in items if i is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    specified = sum(_dims_consumed(i) for i in items)
    if specified > self.ndim:
        raise IndexError(f"too many indices for tensor of dimension {self.ndim}")
    result, dim = self, 0
    tensors = {}  # result dim -> index tensor
    for item in items:
        if item is Ellipsis:
            dim += self.ndim - specified
        elif item is None:
            result = ops.sy.unsqueeze(result, dim)
            dim += 1
        elif isinstance(item, bool):
            result = ops.sy.unsqueeze(result, dim)
            tensors[dim] = _C.tensor([0] if item else [], dtype=_C.int64, device=result.device)
            dim += 1
        elif isinstance(item, slice):
            step = 1 if item.step is None else _operator.index(item.step)
            start = None if item.start is None else _operator.index(item.start)
            stop = None if item.stop is None else _operator.index(item.stop)
            result = ops.sy.slice(result, dim, start, stop, step)
            dim += 1
        elif isinstance(item, Tensor):
            if item.ndim == 0 and item.dtype in _MASK_DTYPES:
                result = ops.sy.unsqueeze(result, dim)
                tensors[dim] = _C.tensor([0] if item.item() else [], dtype=_C.int64,
                                         device=result.device)
                dim += 1
            elif item.ndim == 0 and not item.dtype.is_floating_point:
                result = ops.sy.select(result, dim, item.item())
            else:
                tensors[dim] = item
                dim += item.ndim if item.dtype in _MASK_DTYPES else 1
        elif _is_sequence(item) or hasattr(item, "__array__"):
            tensor = _to_index_tensor(item, result.device)
            tensors[dim] = tensor
            dim += tensor.ndim if tensor.dtype in _MASK_DTYPES else 1
        elif hasattr(item, "__index__"):
            result = ops.sy.select(result, dim, _operator.index(item))
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or bool tensors "
                f"are valid indices (got {type(item).__name__})")
    if not tensors:
        return result, None
    indices = [None] * (max(tensors) + 1)
    for d, t in tensors.items():
        indices[d] = t
    return result, indices


def getitem(self, index):
    """``t[index]``: a view for basic indices, a new tensor when any index is advanced."""
    if type(index) is int:
        return ops.sy.select(self, 0, index)
    result, indices = _apply(self, index)
    if indices is None:
        return result
    return ops.sy.index(result, indices)


def setitem(self, index, value):
    """``t[index] = value``: copies (broadcast, converted) into the view that basic indices
    give, or puts through advanced indices (a number becomes a tensor of t's dtype)."""
    result, indices = _apply(self, index)
    if indices is None:
        if isinstance(value, Tensor):
            ops.sy.copy_(result, value)
        else:
            ops.sy.fill_(result, value)
        return
    if not isinstance(value, Tensor):
        value = ops.sy.full([], value, dtype=self.dtype, device=self.device)
    ops.sy.index_put_(result, indices, value)


def install():
    Tensor.__getitem__ = getitem
    Tensor.__setitem__ = setitem
