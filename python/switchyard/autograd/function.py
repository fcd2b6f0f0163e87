"""sy.autograd.Function: an op whose forward and backward are written in Python.

    class Exp(sy.autograd.Function):
        @staticmethod
        def forward(x):
            return x.exp()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(output)

        @staticmethod
        def backward(ctx, grad):
            (result,) = ctx.saved_tensors
            return grad * result

    y = Exp.apply(x)

As in PyTorch, forward may instead take ``ctx`` first and save what backward needs
itself (then there is no setup_context). forward runs with grad mode off; backward
returns one gradient per forward argument (None for non-tensors and inputs that
need none); ``jvp(ctx, *tangents)`` adds forward mode.
"""

from switchyard import _C


class FunctionCtx:
    """The ``ctx`` of a Function call: what forward leaves for backward.

    Attributes may be set freely (``ctx.factor = 2``); tensors that backward needs
    should go through save_for_backward, which checks them for in-place changes.
    """

    def __init__(self):
        self._cpp = _C._FunctionCtxState()

    def save_for_backward(self, *tensors):
        """Saves tensors (inputs, outputs or None) for backward."""
        self._cpp.save_for_backward(*tensors)

    @property
    def saved_tensors(self):
        """The saved tensors, as a tuple; raises if a backward freed them."""
        return self._cpp.saved_tensors()

    @property
    def needs_input_grad(self):
        """For each forward argument, whether its gradient is needed."""
        return self._cpp.needs_input_grad

    def mark_dirty(self, *tensors):
        """Declares inputs that forward modified in place (and returns)."""
        self._cpp.mark_dirty(*tensors)

    def mark_non_differentiable(self, *tensors):
        """Declares outputs that have no gradient."""
        self._cpp.mark_non_differentiable(*tensors)

    def set_materialize_grads(self, value):
        """Whether backward gets zeros (True) or None for outputs no gradient reached."""
        self._cpp.set_materialize_grads(bool(value))


class Function:
    """Base of custom autograd functions; call them with ``apply``."""

    @staticmethod
    def forward(*args, **kwargs):
        raise NotImplementedError("a Function must define forward")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not defined")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function must define backward to be differentiated")

    @staticmethod
    def jvp(ctx, *tangents):
        raise NotImplementedError("a Function must define jvp for forward mode")

    @classmethod
    def _has_setup_context(cls):
        return cls.setup_context is not Function.setup_context

    @classmethod
    def _has_jvp(cls):
        return cls.jvp is not Function.jvp

    @classmethod
    def apply(cls, *args, **kwargs):
        """Runs forward, recording the call so backward runs in reverse mode."""
        if kwargs:
            raise TypeError(f"{cls.__name__}.apply takes positional arguments only")
        if not cls._has_setup_context():
            stack = _C._func_transform_stack()
            if stack != "no transform":
                raise ValueError(
                    f"{cls.__name__}.apply inside {stack}: a Function used inside sy.func "
                    f"transforms must define setup_context (forward(*args) without ctx, and "
                    f"setup_context(ctx, inputs, output) to save what backward needs)")
        return _C._function_apply(cls, *args)
