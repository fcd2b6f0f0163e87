"""The autograd methods of sy.Tensor written in Python (the attributes are C++).

``backward`` and ``register_hook`` take PyTorch's arguments; ``install()`` runs at
import. ``.grad``, ``.grad_fn``, ``.is_leaf``, ``.retain_grad()``, ``.detach()`` and
the rest are defined by the extension module (switchyard/python/autograd.cpp).
"""

from switchyard import _C


class RemovableHandle:
    """What register_hook returns: ``handle.remove()`` removes the hook."""

    __slots__ = ("_tensor", "_id")

    def __init__(self, tensor, hook_id):
        self._tensor = tensor
        self._id = hook_id

    def remove(self):
        if self._tensor is not None:
            _C._remove_hook(self._tensor, self._id)
            self._tensor = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Computes the gradient of this tensor with respect to the leaves of its graph.

    Args:
        gradient: the gradient of some scalar with respect to this tensor; may be
            left out for a one-element tensor.
        retain_graph: keep the saved tensors for another backward (default:
            create_graph).
        create_graph: record the backward itself, for higher-order derivatives.
        inputs: accumulate only into the .grad of these tensors.

    Releases the GIL while the engine runs.
    """
    _C._autograd_backward((self,), (gradient,), retain_graph, create_graph, inputs)


def _register_hook(self, hook):
    """Calls ``hook(grad)`` whenever this tensor's gradient is computed.

    The hook may return a tensor to replace the gradient, or None. Returns a handle
    whose ``remove()`` removes the hook.
    """
    return RemovableHandle(self, _C._register_hook(self, hook))



def install():
    _C.Tensor.backward = _backward
    _C.Tensor.register_hook = _register_hook
