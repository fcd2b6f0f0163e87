"""Autograd from Python: PyTorch's names and behaviour, side by side with torch."""

import gc
import math
import threading

import pytest
import torch

import switchyard as sy
from switchyard.autograd import forward_ad as fwAD


def f64(data, requires_grad=False):
    return sy.tensor(data, dtype=sy.float64, requires_grad=requires_grad)


def both(data, requires_grad=True):
    """The same float64 leaf in switchyard and in torch."""
    return (f64(data, requires_grad), torch.tensor(data, dtype=torch.float64,
                                                    requires_grad=requires_grad))


def assert_close(s, t, tol=1e-9):
    assert s is not None and t is not None
    assert s.tolist() == pytest.approx(t.tolist(), rel=tol, abs=tol)


# ---- recording ---------------------------------------------------------------------------

def test_grad_fn_names_and_repr_match_torch():
    x, tx = both([1.0, 2.0])
    y, ty = x * x, tx * tx
    assert y.grad_fn.name() == ty.grad_fn.name() == "MulBackward0"
    assert repr(y.grad_fn).startswith("<MulBackward0 object at ")
    assert y.sum().grad_fn.name() == ty.sum().grad_fn.name()
    assert y.grad_fn is y.grad_fn
    assert x.grad_fn is None and x.is_leaf and not y.is_leaf
    assert repr(y) == "tensor([1., 4.], dtype=sy.float64, grad_fn=<MulBackward0>)"


def test_next_functions_walk_the_graph():
    x, _ = both([1.0])
    y = (x * 2.0).sum()
    (mul, nr), = y.grad_fn.next_functions
    assert mul.name() == "MulBackward0" and nr == 0
    (acc, _), (none, _) = mul.next_functions
    assert acc.name() == "AccumulateGrad" and none is None


def test_requires_grad_keyword_on_factories():
    assert sy.ones([2], requires_grad=True).requires_grad
    assert sy.zeros([2], requires_grad=True).requires_grad
    assert sy.tensor([1.0], requires_grad=True).requires_grad


def test_no_grad_records_nothing():
    x, _ = both([1.0])
    with sy.no_grad():
        y = x * 2.0
    assert not y.requires_grad and y.grad_fn is None


# ---- backward and grad ---------------------------------------------------------------------

def test_backward_matches_torch():
    x, tx = both([0.5, 1.5, -2.0])
    w, tw = both([1.0, 2.0, 3.0], requires_grad=False)
    ((x * w + x.sin() * x) * x.exp()).sum().backward()
    ((tx * tw + tx.sin() * tx) * tx.exp()).sum().backward()
    assert_close(x.grad, tx.grad)


def test_grad_accumulates_and_can_be_cleared():
    x, _ = both([1.0, 2.0])
    (x * x).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [4.0, 8.0]
    x.grad = None
    assert x.grad is None


def test_setting_grad_checks_the_shape():
    x, _ = both([1.0, 2.0])
    with pytest.raises(RuntimeError, match="shape"):
        x.grad = f64([1.0])


def test_autograd_grad_with_create_graph():
    x, tx = both([1.0, 2.0, 3.0])
    (g,) = sy.autograd.grad((x * x * x).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad((tx * tx * tx).sum(), tx, create_graph=True)
    assert_close(g, tg)
    v = f64([1.0, -1.0, 0.5])
    (hv,) = sy.autograd.grad((g * v).sum(), x)
    (thv,) = torch.autograd.grad((tg * torch.tensor(v.tolist(), dtype=torch.float64)).sum(), tx)
    assert_close(hv, thv)


def test_grad_allow_unused():
    x, _ = both([1.0])
    z, _ = both([1.0])
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        sy.autograd.grad(y, (x, z), retain_graph=True)
    gx, gz = sy.autograd.grad(y, (x, z), allow_unused=True)
    assert gx.tolist() == [2.0] and gz is None


def test_backward_inputs_accumulates_only_there():
    x, _ = both([1.0])
    z, _ = both([2.0])
    (x * z).sum().backward(inputs=[x])
    assert x.grad.tolist() == [2.0] and z.grad is None


def test_backward_releases_the_gil():
    x, _ = both([1.0])
    entered, release = threading.Event(), threading.Event()
    seen = []

    def hook(g):
        entered.set()
        release.wait(5)
        return None

    y = x * 2.0
    y.register_hook(hook)
    t = threading.Thread(target=lambda: y.sum().backward())
    t.start()
    assert entered.wait(5)
    seen.append(1)  # this thread ran while the other was inside backward
    release.set()
    t.join()
    assert seen == [1] and x.grad.tolist() == [2.0]


# ---- errors: RuntimeError subclasses, as torch raises -------------------------------------

@pytest.mark.parametrize("lib", ["sy", "torch"])
def test_errors_are_runtime_errors(lib):
    m = sy if lib == "sy" else torch
    dtype = m.float64
    x = m.tensor([1.0, 2.0], dtype=dtype, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError):
        y.backward()  # saved tensors freed
    with pytest.raises(RuntimeError):
        (x * 2.0).backward()  # non-scalar without a gradient
    with pytest.raises(RuntimeError):
        m.tensor([1, 2]).requires_grad_()  # integers
    with pytest.raises(RuntimeError):
        x.add_(1.0)  # in place on a leaf that requires grad
    w = m.tensor([3.0, 4.0], dtype=dtype)
    y2 = (x * w).sum()
    w.add_(1.0)
    with pytest.raises(RuntimeError):
        y2.backward()  # a saved tensor was modified


def test_modified_saved_tensor_message_names_op_and_versions():
    x, _ = both([1.0, 2.0])
    w = f64([3.0, 4.0])
    y = (x * w).sum()
    w.add_(f64([1.0, 1.0]))
    with pytest.raises(sy.AutogradError, match=r"MulBackward0.*version 1; expected version 0"):
        y.backward()
    assert x.grad is None


def test_python_hook_exception_reaches_the_caller_unchanged():
    x, _ = both([1.0])
    z, _ = both([1.0])
    y = x * 2.0

    class Boom(Exception):
        pass

    def hook(g):
        raise Boom("from a hook")

    y.register_hook(hook)
    with pytest.raises(Boom, match="from a hook"):
        (y + z).sum().backward()
    assert x.grad is None and z.grad is None


def test_hook_replaces_gradient_and_can_be_removed():
    x, tx = both([1.0, 2.0])
    h = x.register_hook(lambda g: g * 10.0)
    tx.register_hook(lambda g: g * 10.0)
    (x * 3.0).sum().backward()
    (tx * 3.0).sum().backward()
    assert_close(x.grad, tx.grad)
    h.remove()
    x.grad = None
    (x * 3.0).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_retain_grad():
    x, tx = both([1.0, 2.0])
    h, th = x * 3.0, tx * 3.0
    h.retain_grad()
    th.retain_grad()
    assert h.retains_grad
    (h * h).sum().backward()
    (th * th).sum().backward()
    assert_close(h.grad, th.grad)


def test_views_and_in_place_like_torch():
    x, tx = both([1.0, 2.0, 3.0])
    b, tb = x * 1.0, tx * 1.0
    b.select(0, 1).mul_(x.select(0, 2))
    tb.select(0, 1).mul_(tx.select(0, 2))
    # torch names its C++ nodes with their namespace (torch::autograd::CopySlices)
    assert b.grad_fn.name() == "CopySlices" and tb.grad_fn.name().endswith("CopySlices")
    b.sum().backward()
    tb.sum().backward()
    assert_close(x.grad, tx.grad)


def test_version_counter_and_detach():
    x, tx = both([1.0, 2.0])
    y = x * 2.0
    d = y.detach()
    assert not d.requires_grad and d._version == 0
    d.add_(f64([1.0, 1.0]))
    assert y._version == 1
    v = y.select(0, 0)
    assert v._base is y


# ---- custom functions -----------------------------------------------------------------------

class Cube(sy.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3.0 * x * x


class ExpNew(sy.autograd.Function):
    @staticmethod
    def forward(x):
        return x.exp()

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)
        ctx.seen_needs = ctx.needs_input_grad

    @staticmethod
    def backward(ctx, grad):
        (result,) = ctx.saved_tensors
        return grad * result

    @staticmethod
    def jvp(ctx, tangent):
        return tangent * ctx.saved_tensors[0]


def test_function_old_style():
    x, _ = both([1.0, 2.0])
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward"
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]


def test_function_with_setup_context_and_double_backward():
    x, _ = both([0.5])
    (g,) = sy.autograd.grad(ExpNew.apply(x).sum(), x, create_graph=True)
    assert g.tolist() == pytest.approx([math.exp(0.5)])
    (gg,) = sy.autograd.grad(g.sum(), x)
    assert gg.tolist() == pytest.approx([math.exp(0.5)])


def test_function_jvp_in_forward_mode():
    with fwAD.dual_level():
        d = fwAD.make_dual(f64([0.5]), f64([2.0]))
        t = fwAD.unpack_dual(ExpNew.apply(d)).tangent
    assert t.tolist() == pytest.approx([2.0 * math.exp(0.5)])


def test_function_needs_input_grad_and_non_tensor_arguments():
    class Scale(sy.autograd.Function):
        @staticmethod
        def forward(ctx, x, factor, y):
            ctx.factor = factor
            ctx.needs = ctx.needs_input_grad
            return x * factor + y

        @staticmethod
        def backward(ctx, grad):
            assert ctx.needs == (True, False, False)
            return grad * ctx.factor, None, None

    x, _ = both([1.0])
    Scale.apply(x, 4.0, f64([1.0])).sum().backward()
    assert x.grad.tolist() == [4.0]


def test_function_mark_dirty_and_non_differentiable():
    class AddOne(sy.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(f64([1.0]))
            ctx.mark_dirty(x)
            idx = sy.tensor([0])
            ctx.mark_non_differentiable(idx)
            return x, idx

        @staticmethod
        def backward(ctx, grad, _):
            return grad

    x, _ = both([1.0])
    h = x * 2.0
    out, idx = AddOne.apply(h)
    assert out is h and not idx.requires_grad
    (h * h).sum().backward()
    assert x.grad.tolist() == [12.0]


def test_function_backward_wrong_count_is_an_error():
    class Bad(sy.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, grad):
            return grad

    x, _ = both([1.0])
    with pytest.raises(RuntimeError, match="BadBackward"):
        Bad.apply(x, x).sum().backward()
    assert x.grad is None


def test_function_backward_exception_passes_through():
    class Fails(sy.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            raise KeyError("nope")

    x, _ = both([1.0])
    with pytest.raises(KeyError):
        Fails.apply(x).sum().backward()


# ---- forward mode ---------------------------------------------------------------------------

def test_forward_ad_matches_torch():
    p = [0.5, 1.0, 2.0]
    v = [1.0, -1.0, 0.5]
    with fwAD.dual_level():
        x = fwAD.make_dual(f64(p), f64(v))
        out = fwAD.unpack_dual((x.sin() * x).sum())
    import torch.autograd.forward_ad as tfw
    with tfw.dual_level():
        tx = tfw.make_dual(torch.tensor(p, dtype=torch.float64), torch.tensor(v, dtype=torch.float64))
        tout = tfw.unpack_dual((tx.sin() * tx).sum())
    assert_close(out.primal, tout.primal)
    assert_close(out.tangent, tout.tangent)


def test_forward_ad_through_a_decomposition():
    # var has no forward formula: forward mode runs its decomposition.
    with fwAD.dual_level():
        x = fwAD.make_dual(f64([1.0, 2.0, 4.0]), f64([1.0, 0.0, 0.0]))
        t = fwAD.unpack_dual(x.var()).tangent
    assert t.item() == pytest.approx(2 * (1.0 - 7.0 / 3.0) / 2)


def test_forward_ad_outside_a_level():
    with pytest.raises(RuntimeError, match="dual level"):
        fwAD.make_dual(f64([1.0]), f64([1.0]))
    assert fwAD.unpack_dual(f64([1.0])).tangent is None



def test_forward_ad_entry_points_take_pytorchs_arguments():
    # dual_level, make_dual and unpack_dual are C entry points: the same arguments,
    # keywords and result types as PyTorch's Python ones.
    with fwAD.dual_level() as outer:
        assert isinstance(outer, int)
        with fwAD.dual_level() as inner:
            assert inner != outer
            d = fwAD.make_dual(tensor=f64([1.0, 2.0]), tangent=f64([3.0, 4.0]), level=outer)
            assert fwAD.unpack_dual(d, level=inner).tangent is None
        out = fwAD.unpack_dual(d * 2)
        assert isinstance(out, fwAD.UnpackedDualTensor) and isinstance(out, tuple)
        primal, tangent = out
        assert out._fields == ("primal", "tangent")
        assert primal.tolist() == [2.0, 4.0] and tangent.tolist() == [6.0, 8.0]
        assert fwAD.unpack_dual(tensor=d).tangent.tolist() == [3.0, 4.0]
        with pytest.raises(TypeError, match="unexpected keyword argument 'lvl'"):
            fwAD.make_dual(f64([1.0]), f64([1.0]), lvl=outer)
        with pytest.raises(TypeError, match="positional"):
            fwAD.make_dual(f64([1.0]), f64([1.0]), outer)
        with pytest.raises(TypeError, match="missing required argument 'tangent'"):
            fwAD.make_dual(f64([1.0]))
        with pytest.raises(TypeError, match="expected a tensor"):
            fwAD.make_dual([1.0], f64([1.0]))
    level = fwAD.dual_level()
    with level:
        with pytest.raises(RuntimeError, match="already entered"):
            with level:
                pass

# ---- gradcheck --------------------------------------------------------------------------------

def test_gradcheck_accepts_and_rejects():
    x = f64([[0.3, -0.7], [1.2, 0.4]], requires_grad=True)
    w = f64([[0.9, 0.2], [-0.5, 1.1]], requires_grad=True)
    assert sy.autograd.gradcheck(lambda a, b: (a.sin() * b).mm(b), (x, w), check_forward_ad=True)

    class Wrong(sy.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * a

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(sy.autograd.GradcheckError, match="Jacobian mismatch"):
        sy.autograd.gradcheck(Wrong.apply, (x,))
    assert not sy.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False)
    assert sy.autograd.gradgradcheck(lambda a: (a * a * a).sum(), (x,))


def test_graph_is_freed_with_its_tensors():
    x, _ = both([1.0])
    y = Cube.apply(x)
    ref = y.grad_fn
    del y
    gc.collect()
    assert ref.name() == "CubeBackward"  # the node object lives while Python holds it


def test_trace_can_record_decompositions():
    x = sy.tensor([0.5, -1.0])
    plain = sy.trace(lambda t: t.sigmoid(), x)
    decomposed = sy.trace(lambda t: t.sigmoid(), x, decompose=True)
    assert "sy::sigmoid" in str(plain)
    assert "sy::sigmoid" not in str(decomposed) and "sy::exp" in str(decomposed)
    assert decomposed(x).tolist() == pytest.approx(x.sigmoid().tolist())
