"""Seeing and changing every op from Python: dispatch modes.

    from switchyard.utils.python_dispatch import DispatchMode

    class LoggingMode(DispatchMode):
        def __sy_dispatch__(self, func, types, args=(), kwargs=None):
            print(func)                       # sy.mm.default, sy.add.Tensor, ...
            return func(*args, **(kwargs or {}))

    with LoggingMode():
        y = x @ w + b

Entering a mode pushes it on the calling thread's mode stack; every op called
while it is active reaches its ``__sy_dispatch__`` with ``func`` the op overload
(``func.name()``, ``func._schema``, ``func.overloadpacket``, ``func.tags``; call
it to run the op), ``types`` the argument types that define ``__sy_dispatch__``,
and the op's arguments as PyTorch passes them (defaults left out). Inside the
handler the mode itself is off, so ``func(...)`` goes on to the next mode or to
the kernels; composite ops are decomposed before a mode sees them. The stack is
part of ``sy.ThreadLocalState``: it follows work into ``sy.threading.Thread``
and the thread pool. Modes are exited in the reverse order they were entered,
on the thread that entered them. See docs/python-dispatch.md.
"""

from switchyard import _C

__all__ = ["DispatchMode", "active_modes"]


class DispatchMode:
    """Base class of dispatch modes: override ``__sy_dispatch__``.

    The default handler runs the op unchanged (a pass-through mode).
    """

    def __sy_dispatch__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))

    def __enter__(self):
        _C._push_dispatch_mode(self)
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        _C._pop_dispatch_mode(self)
        return False

    @classmethod
    def push(cls, *args, **kwargs):
        """``with MyMode.push(...)``: makes a mode and enters it (PyTorch's spelling)."""
        return cls(*args, **kwargs)


def active_modes():
    """The calling thread's active dispatch modes, the outermost first."""
    return _C._dispatch_modes()
