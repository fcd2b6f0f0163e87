"""Automatic differentiation, with PyTorch's names.

    x = sy.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()                           # x.grad == 2 * x
    (g,) = sy.autograd.grad((x * x).sum(), x)

See docs/autograd.md.
"""

from switchyard import _C
from switchyard.autograd import forward_ad  # noqa: F401
from switchyard.autograd.function import Function, FunctionCtx  # noqa: F401
from switchyard.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401

Node = _C.Node


def _as_tuple(x):
    if x is None:
        return ()
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulates the gradients of ``tensors`` into the .grad of the leaves.

    Args:
        tensors: a tensor or a sequence of tensors to differentiate.
        grad_tensors: their gradients (None entries for one-element tensors).
        retain_graph: keep the saved tensors for another backward (default:
            create_graph).
        create_graph: record the backward, for higher-order derivatives.
        inputs: accumulate only into the .grad of these tensors.

    An error leaves every .grad as it was. Releases the GIL while it runs.
    """
    _C._autograd_backward(
        _as_tuple(tensors), _as_tuple(grad_tensors), retain_graph, create_graph,
        _as_tuple(inputs))


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """The gradients of ``outputs`` with respect to each of ``inputs``, as a tuple.

    Args:
        outputs: a tensor or a sequence of tensors to differentiate.
        inputs: a tensor or a sequence of tensors to differentiate with respect to.
        grad_outputs: the outputs' gradients (None entries for one-element ones).
        retain_graph: keep the saved tensors (default: create_graph).
        create_graph: record the backward, for higher-order derivatives.
        allow_unused: give None for inputs the outputs do not depend on instead of
            raising.

    .grad attributes are left alone. Releases the GIL while it runs.
    """
    return _C._autograd_grad(
        _as_tuple(outputs), _as_tuple(inputs), _as_tuple(grad_outputs), retain_graph,
        create_graph, allow_unused)
