"""Defining ops and registering kernels from Python.

    from switchyard.library import Library, impl

    lib = Library("my_lib", "DEF")
    lib.define("my_func(Tensor self) -> Tensor")

    @impl(lib, "my_func", "CPU")
    def my_func_cpu(self):
        return self

A ``Library`` owns its registrations and removes them deterministically: on
``destroy()``, when a ``with Library(...) as lib:`` block ends, when the object
is deleted, or when the interpreter exits. A reference cycle through a kernel
(a closure that refers to the library) is found by the garbage collector and
removes them too; it never keeps them for the life of the process. Calling an
op whose library is gone raises ``switchyard.DispatchError`` saying so.
"""

import atexit
import re
import sys
import weakref

from switchyard import _C

__all__ = ["Library", "impl", "fallthrough_kernel"]

_KINDS = ("DEF", "IMPL", "FRAGMENT")
_RETURNS_NONE = re.compile(r"->\s*None\s*$")
# Every live Library, to destroy what is left at interpreter exit.
_live = weakref.WeakSet()


def fallthrough_kernel(*args, **kwargs):
    """Registered with ``impl`` or ``fallback``: the key is skipped, at no cost per call."""
    raise NotImplementedError("fallthrough_kernel is a marker; it is never called")


def _caller(depth):
    frame = sys._getframe(depth)
    return frame.f_code.co_filename, frame.f_lineno


class Library:
    """A group of registrations for namespace ``ns``, made and removed together.

    Args:
      ns: the namespace ("my_lib"); "_" with kind "IMPL" for fallbacks of every op.
      kind: "DEF" (the one library that defines ``ns``'s ops), "FRAGMENT" (more
        definitions), or "IMPL" (kernels only).
      dispatch_key: for IMPL libraries, the key ``impl`` and ``fallback`` use
        when given none.
    """

    def __init__(self, ns, kind, dispatch_key=""):
        if kind not in _KINDS:
            raise ValueError(f'Library kind must be one of {_KINDS}, not {kind!r}')
        file, line = _caller(2)
        self.ns = ns
        self.kind = kind
        self.dispatch_key = dispatch_key
        self._lib = _C._Library(ns, kind, dispatch_key, file, line)
        _live.add(self)

    def define(self, schema, alias_analysis="", *, tags=()):
        """Defines an op from its schema, e.g. ``"my_func(Tensor self) -> Tensor"``.

        Args:
          schema: the schema; a name without "ns::" gets the library's namespace.
          alias_analysis: accepted for PyTorch compatibility and ignored.
          tags: a ``sy.Tag`` or a sequence of them (``sy.Tag.pointwise``), read back
            as ``sy.ops.<ns>.<op>.<overload>.tags``.

        Returns:
          The op's name without namespace, as PyTorch's ``define`` does.
        """
        file, line = _caller(2)
        # PyTorch spells "returns nothing" `-> None` as well as `-> ()`; the C++
        # schema parser knows only the second.
        schema = _RETURNS_NONE.sub("-> ()", schema)
        if isinstance(tags, _C.Tag):
            tags = (tags,)
        self._lib.define(schema, file, line, list(tags))
        return schema.split("(")[0].split("::")[-1]

    def impl(self, op_name, fn, dispatch_key="", *, hermetic=False):
        """Registers ``fn`` as the kernel of ``op_name`` at ``dispatch_key``.

        Args:
          op_name: "my_func" or "my_func.overload" (or an OpOverload object).
          fn: a Python callable taking the op's arguments (keyword-only ones by
            keyword) and returning its results; or ``fallthrough_kernel``.
          dispatch_key: "CPU", "Meta", "PrivateUse1", "Autograd",
            "CompositeImplicitAutograd", ...; "" for the library's key (or
            CompositeImplicitAutograd when it has none).
          hermetic: run the kernel with the hermetic flag set (see docs/python.md).
        """
        if not isinstance(op_name, str):
            op_name = op_name._qualified_op_name
        file, line = _caller(2)
        if fn is fallthrough_kernel:
            self._lib.impl_fallthrough(op_name, dispatch_key, file, line)
        else:
            self._lib.impl(op_name, fn, dispatch_key, hermetic, file, line)

    def fallback(self, fn, dispatch_key=""):
        """Registers ``fn`` for every op at ``dispatch_key`` (IMPL libraries, often ns "_").

        ``fn(op, *args, **kwargs)`` gets the op as an OpOverload; its own key is
        excluded while it runs, so ``op(*args, **kwargs)`` continues below it.
        ``fallthrough_kernel`` makes the key fall through for every op.
        """
        file, line = _caller(2)
        self._lib.fallback(None if fn is fallthrough_kernel else fn, dispatch_key, file, line)

    def destroy(self):
        """Removes every registration of this library now (again: no effect)."""
        self._lib.destroy()

    @property
    def alive(self):
        return self._lib.alive

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.destroy()
        return False

    def __del__(self):
        lib = getattr(self, "_lib", None)
        if lib is not None:
            lib.destroy()

    def __repr__(self):
        state = "" if self.alive else ", destroyed"
        return f"Library(ns={self.ns!r}, kind={self.kind!r}{state})"


def impl(lib, name, dispatch_key="", *, hermetic=False):
    """Decorator form of ``Library.impl``: ``@impl(lib, "my_func", "CPU")``."""

    def register(fn):
        lib.impl(name, fn, dispatch_key, hermetic=hermetic)
        return fn

    return register


@atexit.register
def _destroy_all():
    for lib in list(_live):
        lib.destroy()
