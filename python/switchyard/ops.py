"""``sy.ops.<namespace>.<op>``: every op the dispatcher knows, looked up by name.

``sy.ops.my_lib.my_func`` is an ``OpOverloadPacket``: calling it picks the
overload whose schema accepts the arguments. ``.default`` and ``.<overload>``
name one overload. Lookup happens on first use, so ops defined after import
(from Python or C++) appear too; the packet is then cached on its namespace.
"""

from switchyard import _C

# Plain classes rather than module objects: an attribute of a plain instance is
# found in about half the time, and sy.ops.ns.op is on every call's path.


class _OpNamespace:
    """The ops of one namespace: ``sy.ops.my_lib``."""

    def __init__(self, ns):
        self.__name__ = "switchyard.ops." + ns
        self._ns = ns

    def __repr__(self):
        return f"<op namespace sy.ops.{self._ns}>"

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        packet = _C._find_op(self._ns, name)
        # Cached: a packet follows its op through redefinition and removal.
        setattr(self, name, packet)
        return packet

    def __dir__(self):
        prefix = self._ns + "::"
        names = {n[len(prefix):].split(".")[0] for n in _C._op_names() if n.startswith(prefix)}
        return sorted(names)


class _Ops:
    """``sy.ops``: namespaces by attribute, ``sy.ops.sy``, ``sy.ops.my_lib``."""

    __name__ = "switchyard.ops"

    def __repr__(self):
        return "<sy.ops>"

    def __getattr__(self, ns):
        if ns.startswith("__"):
            raise AttributeError(ns)
        namespace = _OpNamespace(ns)
        setattr(self, ns, namespace)
        return namespace

    def __dir__(self):
        return sorted({n.split("::")[0] for n in _C._op_names()})


ops = _Ops()


def op_exists(qualified_name):
    """Whether an op ``"ns::name"`` (any overload) or ``"ns::name.overload"`` is defined now."""
    if "." in qualified_name.split("::")[-1]:
        return _C._op_exists(qualified_name)
    return any(n == qualified_name or n.startswith(qualified_name + ".") for n in _C._op_names())
