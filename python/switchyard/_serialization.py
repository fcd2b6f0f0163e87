"""pickle and copy.deepcopy of tensors, as PyTorch does them.

A tensor pickles as its storage (all of its bytes) and its geometry (dtype,
sizes, strides, offset). Storages are objects of their own, one per storage
while any of them lives, so pickle writes a storage that several tensors share
once, and they share it again after loading: views stay views of one another.
deepcopy does the same through its memo: tensors sharing storage in one
deepcopy share the copied storage. copy.copy shares the storage itself, as in
PyTorch. requires_grad and the attributes set on a tensor travel with it.
"""

import copy as _copy
import weakref as _weakref

from switchyard import _C

Tensor = _C.Tensor

# Storage key -> _Storage, while the _Storage lives (it keeps the storage, and so
# its key, alive).
_storages = _weakref.WeakValueDictionary()


class _Storage:
    """A tensor storage, as the bytes every tensor over it is rebuilt from."""

    __slots__ = ("bytes", "__weakref__")

    def __init__(self, byte_tensor):
        self.bytes = byte_tensor

    def __reduce__(self):
        b = self.bytes
        if b.is_meta:
            return (_rebuild_meta_storage, (b.numel(),))
        if b.device.type != "cpu":
            raise TypeError(f"pickle: a tensor on {b.device} cannot be pickled; move it to the "
                            "cpu first (.cpu())")
        return (_rebuild_storage, (memoryview(b).tobytes(),))


def _storage_of(tensor):
    key = _C._storage_key(tensor)
    storage = _storages.get(key)
    if storage is None:
        storage = _Storage(_C._storage_bytes(tensor))
        _storages[key] = storage
    return storage


def _rebuild_storage(data):
    # bytearray: writable memory the new tensors own (through the buffer they hold).
    return _Storage(_C.from_numpy(bytearray(data)) if data else
                    _C.tensor([], dtype=_C.uint8))


def _rebuild_meta_storage(nbytes):
    return _Storage(_C._find_op("sy", "empty")([nbytes], dtype=_C.uint8, device="meta"))


def _rebuild_tensor(storage, dtype, sizes, strides, offset, requires_grad, state):
    t = _C._view_storage(storage.bytes, dtype, list(sizes), list(strides), offset)
    if requires_grad:
        t.requires_grad_(True)
    if state:
        t.__dict__.update(state)
    return t


def _reduce_ex(self, protocol):
    state = dict(self.__dict__) if self.__dict__ else None
    return (_rebuild_tensor, (_storage_of(self), self.dtype, tuple(self.shape), self.stride(),
                              self.storage_offset(), self.requires_grad, state))


def _deepcopy(self, memo):
    key = ("switchyard.storage", _C._storage_key(self))
    copied = memo.get(key)
    if copied is None:
        copied = _C._find_op("sy", "clone")(_C._storage_bytes(self))
        memo[key] = copied
        # Keep the original storage (and so its key) alive as long as the memo.
        memo.setdefault(id(memo), []).append(self)
    t = _C._view_storage(copied, self.dtype, list(self.shape), list(self.stride()),
                         self.storage_offset())
    if self.requires_grad:
        t.requires_grad_(True)
    if self.__dict__:
        t.__dict__.update(_copy.deepcopy(self.__dict__, memo))
    return t


def install():
    Tensor.__reduce_ex__ = _reduce_ex
    Tensor.__deepcopy__ = _deepcopy
