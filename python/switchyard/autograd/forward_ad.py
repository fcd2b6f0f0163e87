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
_C._set_unpacked_dual_type(UnpackedDualTensor)

# The three are C functions and a C type (switchyard/python/autograd.cpp): they run
# on every jvp, and a Python-level wrapper would cost more than the work they do.

#: Context manager entering a new dual level on the calling thread;
#: ``with dual_level() as level`` gives the level's number; levels nest.
dual_level = _C._dual_level

#: ``make_dual(tensor, tangent, *, level=None)``: a view of ``tensor`` carrying
#: ``tangent`` (same shape and dtype) at ``level``.
make_dual = _C._make_dual

#: ``unpack_dual(tensor, *, level=None)``: ``UnpackedDualTensor(primal, tangent)`` of
#: a dual tensor; tangent is None when it has none.
unpack_dual = _C._unpack_dual
