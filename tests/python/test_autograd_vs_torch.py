"""Every differentiable op of the table, differentiated by switchyard and by torch 1.13.

Each case runs one call in both libraries on the same float64 inputs and compares
the vector-Jacobian product (backward), the Jacobian-vector product (forward mode)
and the second-order product (backward of the backward, create_graph=True). The
finite-difference checks (tests/autograd/op_gradcheck_test.cpp) show the formulas
are derivatives; these show they are the derivatives a PyTorch user gets.
"""

import math
import pathlib

import pytest
import torch
import torch.autograd.forward_ad as tfw
import yaml

import switchyard as sy
from switchyard.autograd import forward_ad as sfw

TOL = 1e-9


def _lib_fn(m, sy_name, torch_name=None):
    """The function `name` of switchyard's op namespace or of torch."""
    if m is torch:
        obj = torch
        for part in (torch_name or sy_name).split("."):
            obj = getattr(obj, part)
        return obj
    return getattr(sy.ops.sy, sy_name) if sy_name.startswith("_") else getattr(sy, sy_name)


def _fresh(a):
    """A non-leaf copy of `a`, so that an in-place op may write into it."""
    return a * 1.0


def _inplace_on_view(m, a, b):
    z = _fresh(a)
    z[0].mul_(b[0])
    z[:, 1].exp_()
    return z


def _zeros_at(m, a, where):
    """a with exact zeros where `where` is 1 (a - a: the derivative there is still 1)."""
    return a - a.detach() * m.tensor(where, dtype=m.float64)


def _scatter_multiply(m, a, b):
    """a with b's rows multiplied in at [[0, 0, 2], [1, 2, 2]] along dim 1 (repeats)."""
    index = m.tensor([[0, 0, 2], [1, 2, 2]])
    if m is sy:
        return a.scatter(1, index, b, reduce="multiply")
    return a.scatter_reduce(1, index, b, "prod")


def _gelu(approximate):
    return lambda m, a: _lib_fn(m, "gelu", "nn.functional.gelu")(a, approximate=approximate)


# op (the schema name in switchyard/ops/*.yaml) -> (fn(m, *inputs), input shapes).
# `m` is the module (switchyard or torch); fn returns a tensor or a tuple of them.
CASES = {
    # binary, broadcasting
    "add.Tensor": (lambda m, a, b: m.add(a, b, alpha=2), [(2, 3), (3,)]),
    "sub.Tensor": (lambda m, a, b: m.sub(a, b, alpha=0.5), [(2, 3), (2, 1)]),
    "mul.Tensor": (lambda m, a, b: a * b, [(2, 3), (2, 3)]),
    "div.Tensor": (lambda m, a, b: a / b, [(2, 3), (3,)]),
    "div.Tensor_mode": (lambda m, a, b: m.div(a * 4, b, rounding_mode="floor") + a, [(2, 3), (2, 3)]),
    "remainder.Tensor": (lambda m, a, b: m.remainder(a * 3, b), [(2, 3), (2, 3)]),
    "pow.Tensor_Tensor": (lambda m, a, b: m.pow(a, b), [(2, 3), (2, 3)]),
    "maximum": (lambda m, a, b: m.maximum(a, b), [(2, 3), (2, 3)]),
    "minimum": (lambda m, a, b: m.minimum(a, b), [(2, 3), (2, 3)]),
    "where.self": (lambda m, a, b: m.where(a > 1.0, a, b), [(2, 3), (2, 3)]),
    # unary
    "clamp": (lambda m, a: m.clamp(a, min=0.8, max=1.2), [(3, 4)]),
    "neg": (lambda m, a: -a, [(2, 3)]),
    "abs": (lambda m, a: m.abs(a - 1.0), [(2, 3)]),
    "exp": (lambda m, a: m.exp(a), [(2, 3)]),
    "log": (lambda m, a: m.log(a), [(2, 3)]),
    "sqrt": (lambda m, a: m.sqrt(a), [(2, 3)]),
    "rsqrt": (lambda m, a: m.rsqrt(a), [(2, 3)]),
    "sin": (lambda m, a: m.sin(a), [(2, 3)]),
    "cos": (lambda m, a: m.cos(a), [(2, 3)]),
    "tanh": (lambda m, a: m.tanh(a), [(2, 3)]),
    "sigmoid": (lambda m, a: m.sigmoid(a), [(2, 3)]),
    "relu": (lambda m, a: m.relu(a - 1.0), [(2, 3)]),
    "gelu": (_gelu("none"), [(2, 3)]),
    "gelu/tanh": (_gelu("tanh"), [(2, 3)]),
    # reductions
    "sum": (lambda m, a: a.sum(), [(2, 3)]),
    "sum.dim_IntList": (lambda m, a: a.sum([0, 2], keepdim=True), [(2, 3, 2)]),
    "prod": (lambda m, a: a.prod(), [(2, 3)]),
    "prod.dim_int": (lambda m, a: a.prod(1), [(2, 3)]),
    "max": (lambda m, a: a.max(), [(2, 3)]),
    "max.dim": (lambda m, a: a.max(1)[0], [(3, 4)]),
    "min": (lambda m, a: a.min(), [(2, 3)]),
    "min.dim": (lambda m, a: a.min(0, keepdim=True)[0], [(3, 4)]),
    "var.correction": (lambda m, a: m.var(a, [1], correction=0), [(3, 4)]),
    "_softmax": (lambda m, a: _lib_fn(m, "_softmax")(a, 1, False), [(3, 4)]),
    "_log_softmax": (lambda m, a: _lib_fn(m, "_log_softmax")(a, 0, False), [(3, 4)]),
    # products
    "mm": (lambda m, a, b: a.mm(b), [(2, 3), (3, 4)]),
    "bmm": (lambda m, a, b: a.bmm(b), [(2, 2, 3), (2, 3, 2)]),
    "dot": (lambda m, a, b: a.dot(b), [(4,), (4,)]),
    "addmm": (lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=2), [(4,), (2, 3), (3, 4)]),
    # views and copies
    "view": (lambda m, a: a.view([3, 2]) * a.view([3, 2]), [(2, 3)]),
    "transpose.int": (lambda m, a: a.transpose(0, 2), [(2, 3, 2)]),
    "permute": (lambda m, a: a.permute([2, 0, 1]), [(2, 3, 2)]),
    "select.int": (lambda m, a: a.select(1, 2), [(2, 3)]),
    "slice.Tensor": (lambda m, a: a[:, 1:3], [(2, 4)]),
    "unsqueeze": (lambda m, a: a.unsqueeze(1), [(2, 3)]),
    "squeeze": (lambda m, a: a.squeeze(), [(2, 1, 3)]),
    "squeeze.dim": (lambda m, a: a.squeeze(1), [(2, 1, 3)]),
    "expand": (lambda m, a: a.expand([4, 3]) * 2, [(1, 3)]),
    "clone": (lambda m, a: a.clone(), [(2, 3)]),
    "copy_": (lambda m, a, b: _fresh(a).copy_(b), [(2, 3), (3,)]),
    "fill_": (lambda m, a: _fresh(a)[1].fill_(2.0).sum() + a.sum(), [(2, 3)]),
    "cat": (lambda m, a, b: m.cat([a, b], 1), [(2, 3), (2, 2)]),
    "index_select": (lambda m, a: m.index_select(a, 0, m.tensor([2, 0, 2])), [(3, 2)]),
    "gather": (lambda m, a: m.gather(a, 1, m.tensor([[0, 2], [1, 1]])), [(2, 3)]),
    "cumsum": (lambda m, a: m.cumsum(a, 1), [(2, 4)]),
    "cumprod": (lambda m, a: m.cumprod(a, 1), [(2, 4)]),
    # one zero in row 0, two in row 1, none in row 2
    "cumprod/zeros": (lambda m, a: m.cumprod(
        _zeros_at(m, a, [[0., 1., 0., 0.], [0., 0., 1., 1.], [0., 0., 0., 0.]]), 1), [(3, 4)]),
    "cumprod/leading zero": (lambda m, a: m.cumprod(
        _zeros_at(m, a, [[1., 0., 0.], [0., 0., 0.]]), 0), [(2, 3)]),
    "index.Tensor": (lambda m, a: a[m.tensor([2, 0, 2]), m.tensor([1, 1, 0])], [(3, 2)]),
    "index.Tensor/slice and repeats": (lambda m, a: a[:, m.tensor([[0, 2], [2, 2]])], [(2, 3)]),
    "index.Tensor/mask": (lambda m, a: a[a > 1.0], [(3, 4)]),
    "index_put_": (lambda m, a, v: _fresh(a).index_put_((m.tensor([2, 0]),), v),
                   [(3, 4), (4,)]),
    "index_put_/accumulate": (lambda m, a, v: _fresh(a).index_put_(
        (m.tensor([0, 0, 2]), m.tensor([1, 1, 3])), v, accumulate=True), [(3, 4), (3,)]),
    "index_put_/mask": (lambda m, a, v: _fresh(a).index_put_((a > 1.0,), v), [(3, 4), ()]),
    "clamp.Tensor": (lambda m, a, lo, hi: m.clamp(a, lo, hi), [(3, 4), (4,), (3, 1)]),
    "clamp.Tensor/min only": (lambda m, a, lo: m.clamp(a, lo), [(3, 4), (4,)]),
    "clamp.Tensor/max only": (lambda m, a, hi: m.clamp(a, None, hi), [(3, 4), (3, 1)]),
    "clamp_.Tensor": (lambda m, a, lo, hi: _fresh(a).clamp_(lo, hi), [(3, 4), (4,), (3, 1)]),
    "sort": (lambda m, a: a.sort(1, descending=True)[0], [(2, 4)]),
    "topk": (lambda m, a: a.topk(2, 1)[0], [(2, 4)]),
    "masked_fill_.Scalar": (lambda m, a: _fresh(a).masked_fill_(a > 1.0, 2.0), [(2, 3)]),
    "masked_fill_.Tensor": (lambda m, a, v: _fresh(a).masked_fill_(a > 1.0, v), [(2, 3), ()]),
    "scatter_.src": (lambda m, a, b: _fresh(a).scatter_(1, m.tensor([[0, 2], [1, 0]]), b),
                     [(2, 3), (2, 2)]),
    # (A src larger than index is checked against finite differences only, in
    # tests/autograd/op_gradcheck_test.cpp: torch 1.13's backward fails there, giving
    # src a gradient of index's shape.)
    # torch 1.13 has no derivative for scatter's reduce=: its scatter_reduce(prod) and
    # scatter_add are the same functions.
    "scatter_.reduce": (lambda m, a, b: _fresh(a).scatter_(
        1, m.tensor([[0, 0], [1, 2]]), b, reduce="add") if m is sy else
        _fresh(a).scatter_add_(1, m.tensor([[0, 0], [1, 2]]), b), [(2, 3), (2, 2)]),
    "scatter_.reduce/multiply": (lambda m, a, b: _scatter_multiply(m, _fresh(a), b),
                                 [(2, 3), (2, 3)]),
    # (torch differentiates twice only with at most one zero of src per position; two
    # and three are checked against finite differences in op_gradcheck_test.cpp)
    "scatter_.reduce/multiply zeros": (lambda m, a, b: _scatter_multiply(
        m, _zeros_at(m, a, [[0., 1., 0.], [0., 0., 0.]]),
        _zeros_at(m, b, [[1., 0., 0.], [0., 0., 1.]])), [(2, 3), (2, 3)]),
    "scatter_.value_reduce": (lambda m, a: _fresh(a).scatter_(
        1, m.tensor([[0, 0], [1, 2]]), 0.5, reduce="multiply") if m is sy else
        a * torch.ones(2, 3, dtype=torch.float64).scatter_(
            1, torch.tensor([[0, 0], [1, 2]]), 0.5, reduce="multiply"), [(2, 3)]),
    "scatter_.value": (lambda m, a: _fresh(a).scatter_(1, m.tensor([[0, 2], [1, 0]]), 0.5),
                       [(2, 3)]),
    "scatter_add_": (lambda m, a, b: _fresh(a).scatter_add_(1, m.tensor([[0, 0], [1, 2]]), b),
                     [(2, 3), (2, 2)]),
    "masked_select": (lambda m, a, b: m.masked_select(a, b > 1.0), [(2, 3), (3,)]),
    # composite ops (their parts record) and in-place ops
    "mean": (lambda m, a: a.mean(), [(2, 3)]),
    "mean.dim": (lambda m, a: a.mean([1]), [(2, 3)]),
    "std.correction": (lambda m, a: m.std(a, [0], correction=1), [(3, 2)]),
    "softmax.int": (lambda m, a: m.softmax(a, 0), [(3, 2)]),
    "log_softmax.int": (lambda m, a: m.log_softmax(a, 1), [(3, 2)]),
    "matmul": (lambda m, a, b: m.matmul(a, b), [(2, 2, 3), (3, 2)]),
    "reshape": (lambda m, a: a.t().reshape([6]), [(2, 3)]),
    "flatten.using_ints": (lambda m, a: a.flatten(1), [(2, 3, 2)]),
    "narrow": (lambda m, a: a.narrow(1, 1, 2), [(2, 4)]),
    "contiguous": (lambda m, a: a.t().contiguous(), [(2, 3)]),
    "stack": (lambda m, a, b: m.stack([a, b], 1), [(2, 3), (2, 3)]),
    "split.Tensor": (lambda m, a: a.split(2, 1), [(2, 5)]),
    "chunk": (lambda m, a: a.chunk(2, 0), [(4, 3)]),
    "to.dtype": (lambda m, a: a.to(m.float32).to(m.float64) * a, [(2, 3)]),
    "sigmoid_": (lambda m, a: _fresh(a).sigmoid_(), [(2, 3)]),
    "mul_.Tensor": (lambda m, a, b: _fresh(a).mul_(b), [(2, 3), (3,)]),
    "in-place on views": (_inplace_on_view, [(2, 3), (2, 3)]),
}


def _values(shape, salt):
    """Distinct float64 values in [0.5, 1.5], the same on every run."""
    n = math.prod(shape)
    flat = torch.tensor([math.sin(i * 0.7371 + 0.913 * salt) * 0.5 + 1.0 for i in range(n)],
                        dtype=torch.float64)
    return flat.reshape(shape)


def _to_sy(t, requires_grad=False):
    return sy.tensor(t.tolist(), dtype=sy.float64, requires_grad=requires_grad)


def _from(m, t, requires_grad=False):
    if m is torch:
        return t.clone().requires_grad_(requires_grad)
    return _to_sy(t, requires_grad)


def _outputs(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _zeros_if_none(g, like):
    return g if g is not None else (like * 0).detach()


def _flat(t):
    if isinstance(t, torch.Tensor) and t._is_zerotensor():
        t = torch.zeros(t.shape, dtype=t.dtype)  # torch's lazily-zero gradients have no data
    values = t.tolist()
    while isinstance(values, list) and values and isinstance(values[0], list):
        values = [v for row in values for v in row]
    return values


def _assert_same(mine, theirs, what, case):
    assert len(mine) == len(theirs), (case, what)
    for k, (s, t) in enumerate(zip(mine, theirs)):
        assert list(s.shape) == list(t.shape), (case, what, k)
        assert _flat(s) == pytest.approx(_flat(t), rel=TOL, abs=TOL), (case, what, k)


def _vjp_and_second_order(m, fn, shapes):
    """(vjp, second-order products) of fn at the case's inputs, in library m."""
    xs = [_from(m, _values(s, k + 1), requires_grad=True) for k, s in enumerate(shapes)]
    outs = _outputs(fn(m, *xs))
    cots = [_from(m, _values(list(o.shape), 100 + k)) for k, o in enumerate(outs)]
    grads = m.autograd.grad(outs, xs, grad_outputs=cots, create_graph=True, allow_unused=True)
    grads = [_zeros_if_none(g, x) for g, x in zip(grads, xs)]
    # v . (d/dx of the vjp), over the gradients that are differentiable further.
    terms = [(g * _from(m, _values(list(g.shape), 200 + k))).sum()
             for k, g in enumerate(grads) if g.requires_grad]
    if terms:
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        second = m.autograd.grad([total], xs, allow_unused=True)
        second = [_zeros_if_none(g, x) for g, x in zip(second, xs)]
    else:
        second = [(x * 0).detach() for x in xs]
    return [g.detach() for g in grads], second


def _jvp(m, fn, shapes):
    fw = tfw if m is torch else sfw
    with fw.dual_level():
        duals = [fw.make_dual(_from(m, _values(s, k + 1)), _from(m, _values(s, 50 + k)))
                 for k, s in enumerate(shapes)]
        outs = _outputs(fn(m, *duals))
        pairs = [fw.unpack_dual(o) for o in outs]
        return [_zeros_if_none(p[1], p[0]) for p in pairs]


@pytest.mark.parametrize("case", sorted(CASES))
def test_backward_and_double_backward_match_torch(case):
    fn, shapes = CASES[case]
    mine, mine2 = _vjp_and_second_order(sy, fn, shapes)
    theirs, theirs2 = _vjp_and_second_order(torch, fn, shapes)
    _assert_same(mine, theirs, "vjp", case)
    _assert_same(mine2, theirs2, "second order", case)


# Cases whose torch side has no forward-mode formula in torch 1.13 (scatter_reduce):
# their JVPs are checked against finite differences in tests/autograd/op_gradcheck_test.cpp.
NO_TORCH_JVP = {"scatter_.reduce/multiply", "scatter_.reduce/multiply zeros"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_forward_mode_matches_torch(case):
    if case in NO_TORCH_JVP:
        pytest.skip("torch 1.13 has no forward AD for scatter_reduce")
    fn, shapes = CASES[case]
    _assert_same(_jvp(sy, fn, shapes), _jvp(torch, fn, shapes), "jvp", case)


def _ops_with_a_backward_formula():
    root = pathlib.Path(__file__).resolve().parents[2] / "switchyard" / "ops"
    names = []
    for path in sorted(root.glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text())["ops"]:
            if "backward" in entry:
                names.append(entry["schema"].split("(")[0])
    return names


def test_every_op_with_a_backward_formula_has_a_case():
    names = _ops_with_a_backward_formula()
    assert len(names) > 40
    assert [n for n in names if n not in CASES] == []
