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
import weakref

from switchyard import _C

__all__ = ["Library", "impl", "fallthrough_kernel", "custom_op", "CustomOpDef", "infer_schema",
           "define", "register_fake", "register_kernel", "opcheck", "OpCheckError",
           "CustomOpError"]

_KINDS = ("DEF", "IMPL", "FRAGMENT")
_RETURNS_NONE = re.compile(r"->\s*None\s*$")
# Every live Library, to destroy what is left at interpreter exit.
_live = weakref.WeakSet()


def fallthrough_kernel(*args, **kwargs):
    """Registered with ``impl`` or ``fallback``: the key is skipped, at no cost per call."""
    raise NotImplementedError("fallthrough_kernel is a marker; it is never called")


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
        self._open(ns, kind, dispatch_key, _custom_ops._user_site())

    @classmethod
    def _at(cls, ns, kind, site, dispatch_key=""):
        """A library whose registrations name ``site`` (file, line): the user's line."""
        self = cls.__new__(cls)
        self._open(ns, kind, dispatch_key, site)
        return self

    def _open(self, ns, kind, dispatch_key, site):
        self.ns = ns
        self.kind = kind
        self.dispatch_key = dispatch_key
        self._lib = _C._Library(ns, kind, dispatch_key, site[0], site[1])
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
        file, line = _custom_ops._user_site()
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
        file, line = _custom_ops._user_site()
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
        file, line = _custom_ops._user_site()
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


def impl(*args, **kwargs):
    """``@impl(lib, "my_func", "CPU", hermetic=False)``: decorator form of ``Library.impl``.

    Also PyTorch 2.x's form ``@impl("ns::op", "cpu", func=None, *, lib=None)``: a
    qualified name, a device type (or a sequence of them, or a dispatch key name),
    for ops defined with ``define``; the registration lasts as long as the
    process, or as ``lib``.
    """
    if args and isinstance(args[0], Library):
        return _impl_in_library(*args, **kwargs)
    return _custom_ops.impl_qualname(*args, **kwargs)


def _impl_in_library(lib, name, dispatch_key="", *, hermetic=False):
    def register(fn):
        lib.impl(name, fn, dispatch_key, hermetic=hermetic)
        return fn

    return register


from switchyard import _custom_ops  # noqa: E402 (it uses Library)
from switchyard._custom_ops import (  # noqa: E402,F401
    CustomOpDef,
    CustomOpError,
    OpCheckError,
    custom_op,
    define,
    infer_schema,
    opcheck,
    register_fake,
    register_kernel,
)


@atexit.register
def _destroy_all():
    for lib in list(_live):
        lib.destroy()
