"""switchyard: tensors and ops routed through a dispatcher, as in PyTorch's core.

    import switchyard as sy

    x = sy.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = sy.add(x, x)              # sy.ops.sy.add: overloads resolved from the schemas
    with sy.no_grad():
        z = x * 2

See docs/python.md for the Library API, modes, wrappers and the hermetic flag.
"""

import atexit as _atexit
import builtins as _builtins
import functools as _functools
import inspect as _inspect
import warnings as _warnings

from switchyard import _C

# Registered first, so it runs after the other exit hooks: from then on a thread
# still inside switchyard sleeps rather than retake the GIL (docs/python.md).
_atexit.register(_C._mark_interpreter_exiting)

from switchyard._C import (  # noqa: F401,E402
    AutogradError,
    DispatchError,
    Error,
    OpOverload,
    OpOverloadPacket,
    SchemaError,
    Tag,
    Tensor,
    ThreadLocalState,
    device,
    dtype,
    enable_grad,
    from_dlpack,
    from_numpy,
    get_num_interop_threads,
    get_num_threads,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
    set_num_interop_threads,
    set_num_threads,
    tensor,
)
from switchyard.ops import ops, op_exists  # noqa: F401
from switchyard import _autograd_methods, _indexing, _serialization, _tensor_methods  # noqa: F401
from switchyard import aot, autograd, cuda, func, library, linalg, threading  # noqa: F401

float32, float64, int32, int64, uint8 = _C.float32, _C.float64, _C.int32, _C.int64, _C.uint8
float16, bfloat16, half = _C.float16, _C.bfloat16, _C.half
layout, memory_format, strided = _C.layout, _C.memory_format, _C.strided
contiguous_format, preserve_format = _C.contiguous_format, _C.preserve_format
channels_last, channels_last_3d = _C.channels_last, _C.channels_last_3d
# PyTorch's names that shadow builtins; set through globals() so this module's
# own code keeps the builtins.
globals().update(bool=_C.bool, float=_C.float, double=_C.double, long=_C.long, int=_C.int)

__version__ = "0.1.0"


def _decorate_with_mode(mode, fn):
    if _inspect.isgeneratorfunction(fn):
        return _decorate_generator_with_mode(mode, fn)

    @_functools.wraps(fn)
    def run_in_mode(*args, **kwargs):
        with mode.clone():
            return fn(*args, **kwargs)

    return run_in_mode


def _decorate_generator_with_mode(mode, fn):
    # The body of a generator runs at each next()/send()/throw(), after the call
    # returned: each resumption runs in the mode, and the caller's state comes
    # back at each yield, as PyTorch's decorators do.
    @_functools.wraps(fn)
    def generate_in_mode(*args, **kwargs):
        gen = fn(*args, **kwargs)
        try:
            with mode.clone():
                value = next(gen)
            while True:
                try:
                    sent = yield value
                except GeneratorExit:
                    with mode.clone():
                        gen.close()
                    raise
                except BaseException as e:  # noqa: BLE001 - thrown into the generator
                    with mode.clone():
                        value = gen.throw(e)
                else:
                    with mode.clone():
                        value = gen.send(sent)
        except StopIteration as stop:
            return stop.value

    return generate_in_mode


_C._set_mode_decorator(_decorate_with_mode)
_tensor_methods.install()
_autograd_methods.install()
_indexing.install()
_serialization.install()

manual_seed = _C.manual_seed
initial_seed = _C.initial_seed


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """The vector ``p``-norm of ``input`` over ``dim`` (every element when None).

    Args:
        p: a number (``float('inf')`` for the largest magnitude), or ``"fro"`` (the
            2-norm of the elements, which is the Frobenius norm of a matrix).
        dim: an int or a list of ints; None reduces everything.
        keepdim: keep the reduced dims with size 1.
        dtype: convert ``input`` to this dtype first.
    """
    if isinstance(p, str):
        if p != "fro":
            raise ValueError(f"norm: p={p!r} is not supported; use a number or 'fro'")
        p = 2
    if isinstance(dim, _builtins.int):
        dim = [dim]
    return ops.sy.linalg_vector_norm(input, p, dim, keepdim, dtype=dtype)


def where(condition, *args, **kwargs):
    """``where(condition, input, other)``: input where condition holds, other elsewhere
    (either may be a number); ``where(condition)``: the coordinates of condition's true
    elements as a tuple of 1-d tensors, as ``nonzero(condition, as_tuple=True)``."""
    out = ops.sy.where(condition, *args, **kwargs)
    return tuple(out) if isinstance(out, list) else out


def nonzero(input, *, as_tuple=False):
    """The coordinates of input's nonzero elements: an ``[n, ndim]`` int64 tensor, or
    with ``as_tuple=True`` one 1-d tensor per dim."""
    return Tensor.nonzero(input, as_tuple=as_tuple)


# ---- tracing ------------------------------------------------------------------------------

Graph = _C.Graph


def trace(fn, example_inputs, *, decompose=False):
    """Runs ``fn(*example_inputs)`` once and returns the Graph of the ops it called.

    Args:
        fn: a function of tensors returning a tensor or a tuple/list of tensors.
        example_inputs: a tensor or a tuple/list of tensors, the traced inputs.
        decompose: record each op that has a decomposition (the registry forward-mode
            AD and vmap use) as the ops it decomposes into.

    The graph prints with ``str()`` and replays when called: ``graph(x, y)``. Tensors
    that ``fn`` uses without receiving them become constants; each is reported with a
    ``UserWarning``.
    """
    graph = _C._trace(fn, example_inputs, decompose)
    for note in graph.warnings:
        _warnings.warn("sy.trace: " + note, stacklevel=2)
    return graph


# ---- factories ----------------------------------------------------------------------------

def _sizes(size):
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        return list(size[0])
    return list(size)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` with uninitialised data: ``sy.empty(2, 3)`` or ``sy.empty((2, 3))``."""
    return ops.sy.empty(_sizes(size), dtype=dtype, device=device, requires_grad=requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` filled with 0 (float32 unless ``dtype`` says otherwise)."""
    return ops.sy.zeros(_sizes(size), dtype=dtype, device=device, requires_grad=requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` filled with 1 (float32 unless ``dtype`` says otherwise)."""
    return ops.sy.ones(_sizes(size), dtype=dtype, device=device, requires_grad=requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` filled with ``fill_value`` (its type gives the dtype unless set)."""
    return ops.sy.full(_sizes((size,)), fill_value, dtype=dtype, device=device,
                       requires_grad=requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """``[start, end)`` in steps of ``step``; ``sy.arange(n)`` counts from 0."""
    if end is None:
        start, end = 0, start
    if op_exists("sy::arange"):
        return ops.sy.arange(start, end, step, dtype=dtype, device=device,
                             requires_grad=requires_grad)
    # Until the op is registered: computed here, as PyTorch would.
    count = max(0, -(-(end - start) // step)) if step > 0 else max(0, -((start - end) // step))
    values = [start + i * step for i in _builtins.range(_builtins.int(count))]
    if dtype is None:
        any_float = any(isinstance(v, _builtins.float) for v in (start, end, step))
        dtype = _C.float32 if any_float else _C.int64
    return tensor(values, dtype=dtype, device=device, requires_grad=requires_grad)


def _random(op, size, dtype, device, requires_grad, draw):
    if op_exists("sy::" + op):
        return getattr(ops.sy, op)(_sizes(size), dtype=dtype, device=device,
                                   requires_grad=requires_grad)
    import random

    shape = _sizes(size)
    count = 1
    for s in shape:
        count *= s
    flat = tensor([draw(random) for _ in _builtins.range(count)],
                  dtype=dtype or _C.float32, device=device)
    return ops.sy.reshape(flat, shape).requires_grad_(requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1)."""
    return _random("rand", size, dtype, device, requires_grad, lambda r: r.random())


def randn(*size, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    return _random("randn", size, dtype, device, requires_grad, lambda r: r.gauss(0.0, 1.0))


# ---- every op of namespace sy as a function -------------------------------------------------

def __getattr__(name):
    """``sy.add``, ``sy.matmul``, ...: the packet of op ``sy::<name>``, when it exists."""
    if not name.startswith("_") and op_exists("sy::" + name):
        packet = getattr(ops.sy, name)
        globals()[name] = packet
        return packet
    raise AttributeError(f"module 'switchyard' has no attribute '{name}'")
