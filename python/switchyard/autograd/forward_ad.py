"""Forward-mode AD: dual tensors within dual levels, with PyTorch's names.

    with sy.autograd.forward_ad.dual_level():
        x = fwAD.make_dual(primal, tangent)
        y = (x.sin() * x).sum()
        jvp = fwAD.unpack_dual(y).tangent

Ops compute tangents from their forward formulas; an op without one runs its
decomposition (docs/autograd.md). Leaving the level drops every tangent made in it.
"""

from collections import namedtuple

from switchyard import _C

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])


class dual_level:
    """Context manager entering a new dual level on the calling thread.

    ``with dual_level() as level`` gives the level's number; levels nest.
    """

    def __init__(self):
        self._level = _C._DualLevel()

    def __enter__(self):
        return self._level.__enter__()

    def __exit__(self, *exc):
        self._level.__exit__(*exc)
        return False


def make_dual(tensor, tangent, *, level=None):
    """A view of ``tensor`` carrying ``tangent`` (same shape and dtype) at ``level``."""
    return _C._make_dual(tensor, tangent, level)


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)`` of a dual tensor; tangent is None when it has none."""
    return UnpackedDualTensor(*_C._unpack_dual(tensor, level))
