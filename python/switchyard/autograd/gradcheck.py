"""gradcheck: autograd's derivatives against finite differences (float64)."""

from switchyard import _C

GradcheckError = _C.AutogradError


def _as_tuple(x):
    return tuple(x) if isinstance(x, (list, tuple)) else (x,)


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              check_forward_ad=False, check_backward_ad=True):
    """Whether ``func``'s derivatives at ``inputs`` match central differences.

    Args:
        func: a function of the inputs returning a tensor or a tuple of tensors.
        inputs: a tensor or a tuple of tensors; those that require grad are checked.
        eps, atol, rtol: the step and the tolerances.
        raise_exception: raise (a RuntimeError naming the output, the input and both
            Jacobians) instead of returning False.
        check_forward_ad: also check forward mode (Jacobian-vector products).
        check_backward_ad: check reverse mode (vector-Jacobian products).
    """
    return _C._gradcheck(func, _as_tuple(inputs), eps, atol, rtol, raise_exception,
                         check_forward_ad, check_backward_ad)


def gradgradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """gradcheck of ``func``'s gradients: checks that its backward is differentiable."""
    return _C._gradgradcheck(func, _as_tuple(inputs), eps, atol, rtol, raise_exception)
