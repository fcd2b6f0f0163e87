"""Ops and spellings a PyTorch user reaches for first, side by side with PyTorch 1.13:
repeat, norm, any/all, where with numbers, clamp with tensors, .T/.mT, detach,
rand_like/randn_like, isclose/allclose, named results, var(unbiased=), split with
sizes, manual_seed."""

import pytest

import switchyard as sy

torch = pytest.importorskip("torch")

from torch_compare import same, to_sy  # noqa: E402


X = torch.tensor([[1.0, -2.0, 3.0], [0.0, 5.0, -6.0]])


@pytest.mark.parametrize("repeats", [(2, 1), (1, 3), (2, 2, 2), (3, 1, 1), (1, 1), (0, 2)])
def test_repeat_matches_torch(repeats):
    same(to_sy(X).repeat(*repeats), X.repeat(*repeats))


def test_repeat_copies_and_checks():
    s = to_sy(X)
    r = s.repeat(1, 1)
    r.fill_(0.0)
    assert s.tolist() == X.tolist()
    with pytest.raises(ValueError, match="repeat: repeats \\[2\\] has 1 entries, fewer than"):
        s.repeat(2)


@pytest.mark.parametrize("p", [1, 2, 3, 0.5, 0, float("inf"), -float("inf"), "fro"])
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_norm_matches_torch(p, dim, keepdim):
    s = to_sy(X)
    if p == "fro" and dim is not None and not isinstance(dim, tuple):
        dim = (dim,)
    same(s.norm(p=p, dim=dim, keepdim=keepdim), X.norm(p=p, dim=dim, keepdim=keepdim),
         approx=True)
    same(sy.norm(s, p, dim, keepdim), torch.norm(X, p, dim, keepdim), approx=True)


def test_vector_norm_op_and_errors():
    s = to_sy(X)
    same(sy.linalg_vector_norm(s, 3.0, [1]), torch.linalg.vector_norm(X, 3.0, [1]), approx=True)
    with pytest.raises(TypeError, match="linalg_vector_norm: expected a floating-point input"):
        sy.tensor([1, 2]).norm()
    with pytest.raises(ValueError, match="inf norm of an empty tensor"):
        sy.zeros(0).norm(p=float("inf"))


@pytest.mark.parametrize("op", ["any", "all"])
def test_any_all_match_torch(op):
    cases = [torch.tensor([[True, False], [True, True]]), torch.tensor([[0, 2], [3, 4]]),
             torch.tensor([[0.0, float("nan")], [1.0, 2.0]]), torch.zeros(0, 3),
             torch.tensor([[1, 0], [2, 3]], dtype=torch.uint8)]
    for t in cases:
        same(getattr(to_sy(t), op)(), getattr(t, op)())
        for dim in [0, 1, -1]:
            for keepdim in [False, True]:
                same(getattr(to_sy(t), op)(dim, keepdim), getattr(t, op)(dim, keepdim))


def test_where_with_number_branches_promotes_like_torch():
    c = torch.tensor([True, False, True])
    cases = [(torch.tensor([1, 2, 3]), 0.5), (torch.tensor([1.0, 2.0, 3.0]), 7),
             (torch.tensor([1, 2, 3], dtype=torch.int32), 9),
             (torch.tensor([1.0, 2.0, 3.0], dtype=torch.float16), 0.5)]
    for tensor, number in cases:
        same(sy.where(to_sy(c), to_sy(tensor), number), torch.where(c, tensor, number))
        same(sy.where(to_sy(c), number, to_sy(tensor)), torch.where(c, number, tensor))
        same(to_sy(tensor).where(to_sy(c), number), torch.where(c, tensor, number))
    same(sy.where(to_sy(c), 1.0, 0.0), torch.where(c, 1.0, 0.0))
    same(sy.where(to_sy(c), 1, 0), torch.where(c, 1, 0))
    got = sy.where(to_sy(c))
    assert isinstance(got, tuple) and len(got) == 1 and got[0].tolist() == [0, 2]


def test_clamp_with_tensor_bounds_matches_torch():
    x = torch.tensor([1.0, float("nan"), 3.0, -4.0])
    lo = torch.tensor([2.0, 2.0, float("nan"), -5.0])
    hi = torch.tensor([2.5, 9.0, 9.0, -4.5])
    same(to_sy(x).clamp(min=to_sy(lo)), x.clamp(min=lo))
    same(to_sy(x).clamp(max=to_sy(hi)), x.clamp(max=hi))
    same(to_sy(x).clamp(to_sy(lo), to_sy(hi)), x.clamp(lo, hi))
    same(sy.clamp(to_sy(x), to_sy(lo), to_sy(hi)), torch.clamp(x, lo, hi))
    i = torch.tensor([1, 2, 3])
    same(to_sy(i).clamp(min=sy.tensor([2.5, 2.0, 2.0])), i.clamp(min=torch.tensor([2.5, 2, 2])))
    s = to_sy(x)
    s.clamp_(to_sy(lo), to_sy(hi))
    same(s, x.clone().clamp_(lo, hi))
    with pytest.raises(ValueError, match="clamp: at least one of min and max"):
        sy.ops.sy.clamp.Tensor(s)


def test_T_and_mT():
    t = torch.arange(24.0).reshape(2, 3, 4)
    s = to_sy(t)
    same(s.mT, t.mT)
    same(to_sy(X).T, X.T)
    assert s.T.shape == (4, 3, 2)
    assert s.T.tolist() == t.permute(2, 1, 0).tolist()
    with pytest.raises(ValueError, match="mT: the tensor must have at least 2 dimensions"):
        sy.zeros(3).mT


def test_detach_is_a_view_sharing_storage():
    s = sy.ones(3, requires_grad=True)
    d = s.detach()
    assert not d.requires_grad and s.requires_grad
    assert d.data_ptr() == s.data_ptr()
    d[0] = 5.0
    assert s.tolist()[0] == 5.0


def test_rand_like_and_randn_like():
    s = sy.zeros(2, 3, dtype=sy.float64)
    r = sy.rand_like(s)
    assert r.shape == (2, 3) and r.dtype == sy.float64
    assert all(0.0 <= v < 1.0 for row in r.tolist() for v in row)
    n = sy.randn_like(s, dtype=sy.float32)
    assert n.dtype == sy.float32 and n.shape == (2, 3)
    assert sy.rand_like(sy.zeros(4, dtype=sy.float16)).dtype == sy.float16
    with pytest.raises(TypeError, match="rand_like: makes floating-point tensors"):
        sy.rand_like(sy.zeros(2, dtype=sy.int64))


def test_manual_seed_makes_random_ops_repeatable():
    sy.manual_seed(1234)
    a = sy.rand(5).tolist()
    b = sy.randn_like(sy.zeros(3)).tolist()
    assert sy.initial_seed() == 1234
    sy.manual_seed(1234)
    assert sy.rand(5).tolist() == a
    assert sy.randn_like(sy.zeros(3)).tolist() == b
    sy.manual_seed(-1)  # any Python int, as in PyTorch
    assert sy.initial_seed() == 2**64 - 1


def test_isclose_and_allclose_match_torch():
    a = torch.tensor([1.0, 1e10, float("nan"), float("inf"), -float("inf"), 0.0])
    b = torch.tensor([1.0 + 1e-6, 1.00001e10, float("nan"), float("inf"), float("inf"), 1e-9])
    same(to_sy(a).isclose(to_sy(b)), a.isclose(b))
    same(sy.isclose(to_sy(a), to_sy(b), equal_nan=True), torch.isclose(a, b, equal_nan=True))
    same(sy.isclose(to_sy(a), to_sy(b), rtol=0, atol=0), torch.isclose(a, b, rtol=0, atol=0))
    i = torch.tensor([1, 2, 3])
    j = torch.tensor([1, 3, 3])
    same(to_sy(i).isclose(to_sy(j), atol=1.0), i.isclose(j, atol=1.0))
    assert sy.allclose(to_sy(a[:2]), to_sy(b[:2])) is torch.allclose(a[:2], b[:2])
    assert to_sy(a).allclose(to_sy(b), equal_nan=True) is False
    assert sy.allclose(sy.ones(3), sy.ones(3)) is True
    with pytest.raises(TypeError, match="isclose: self is float32 and other is float64"):
        sy.isclose(sy.ones(2), sy.ones(2, dtype=sy.float64))


def test_max_min_dim_return_named_results():
    s = to_sy(X)
    r = s.max(1)
    assert type(r).__name__ == "max"
    assert r.values.tolist() == X.max(1).values.tolist()
    assert r.indices.tolist() == X.max(1).indices.tolist()
    values, indices = s.min(0)
    assert values.tolist() == X.min(0).values.tolist()
    assert indices.tolist() == X.min(0).indices.tolist()
    assert r == (r.values, r.indices)  # still a tuple


def test_var_and_std_take_unbiased_beside_correction():
    s = to_sy(X)
    for op in ["var", "std"]:
        for unbiased in [True, False]:
            same(getattr(s, op)(unbiased=unbiased), getattr(X, op)(unbiased=unbiased),
                 approx=True)
            same(getattr(s, op)(1, unbiased=unbiased), getattr(X, op)(1, unbiased=unbiased),
                 approx=True)
            same(getattr(s, op)(0, unbiased, True), getattr(X, op)(0, unbiased, True),
                 approx=True)
        same(getattr(s, op)(dim=1, correction=0), getattr(X, op)(dim=1, unbiased=False),
             approx=True)
        same(getattr(s, op)(), getattr(X, op)(), approx=True)


def test_split_with_a_list_of_sizes():
    t = torch.arange(10.0)
    for arg in [3, [2, 3, 5], (1, 9)]:
        got = to_sy(t).split(arg)
        expected = t.split(arg)
        assert [g.tolist() for g in got] == [e.tolist() for e in expected]
    m = torch.arange(12.0).reshape(3, 4)
    assert [g.tolist() for g in to_sy(m).split([1, 3], dim=1)] == \
        [e.tolist() for e in m.split([1, 3], dim=1)]
    with pytest.raises(ValueError, match="split_with_sizes: sizes \\[2, 2\\] add up to 4"):
        to_sy(t).split([2, 2])


def test_clamp_min_clamp_max_and_clip_match_torch():
    x = torch.tensor([1.0, float("nan"), 3.0, -4.0])
    bound = torch.tensor([2.0, 0.0, float("nan"), -5.0])
    same(to_sy(x).clamp_min(2), x.clamp_min(2))
    same(to_sy(x).clamp_max(0.5), x.clamp_max(0.5))
    same(to_sy(x).clamp_min(to_sy(bound)), x.clamp_min(bound))
    same(to_sy(x).clamp_max(to_sy(bound)), x.clamp_max(bound))
    same(to_sy(x).clip(-1, 2), x.clip(-1, 2))
    same(sy.clip(to_sy(x), max=to_sy(bound)), torch.clip(x, max=bound))
    ints = torch.arange(6)
    same(to_sy(ints).clip(1, 3), ints.clip(1, 3))
    same(to_sy(ints).clamp_min(2.5), ints.clamp_min(2.5))


def test_max_and_min_of_two_tensors_match_torch():
    a = torch.tensor([[1.0, float("nan")], [3.0, -1.0]])
    b = torch.tensor([2.0, 0.0])
    same(sy.max(to_sy(a), to_sy(b)), torch.max(a, b))
    same(to_sy(a).min(to_sy(b)), a.min(b))
    same(sy.max(to_sy(torch.arange(3)), to_sy(b[:1])), torch.max(torch.arange(3), b[:1]))


def test_H_and_mH():
    m = torch.arange(6.0).reshape(2, 3)
    same(to_sy(m).H, m.H)
    same(to_sy(m).mH, m.mH)
    b = torch.arange(12.0).reshape(2, 2, 3)
    same(to_sy(b).mH, b.mH)
    s = to_sy(m)
    assert s.H.data_ptr() == s.data_ptr() and s.H.stride() == (1, 3)
    with pytest.raises(ValueError, match="Tensor.H: only matrices"):
        to_sy(b).H


@pytest.mark.parametrize("case", [
    dict(), dict(ord=1), dict(ord=float("inf")), dict(ord=-float("inf")), dict(ord=0),
    dict(ord=3, dim=1), dict(dim=0, keepdim=True), dict(ord=0.5, dim=(0, 1)),
])
def test_linalg_vector_norm_matches_torch(case):
    x = torch.tensor([[1.0, -2.0, 0.0], [4.0, 0.5, -6.0]])
    same(sy.linalg.vector_norm(to_sy(x), **case), torch.linalg.vector_norm(x, **case),
         approx=True)


@pytest.mark.parametrize("case", [
    dict(), dict(ord="fro"), dict(ord=1), dict(ord=-1), dict(ord=float("inf")),
    dict(ord=-float("inf")), dict(ord=1, keepdim=True), dict(dim=1), dict(ord=3, dim=0),
    dict(ord=float("inf"), dim=(1, 0)),
])
def test_linalg_norm_matches_torch(case):
    x = torch.tensor([[1.0, -2.0, 0.0], [4.0, 0.5, -6.0]])
    same(sy.linalg.norm(to_sy(x), **case), torch.linalg.norm(x, **case), approx=True)
    v = x[1]
    if "dim" not in case and case.get("ord") != "fro" and not case.get("keepdim"):
        same(sy.linalg.norm(to_sy(v), **case), torch.linalg.norm(v, **case), approx=True)


def test_linalg_matrix_norm_matches_torch_and_names_what_it_lacks():
    b = torch.arange(24.0).reshape(2, 3, 4) - 10
    for ord in ["fro", 1, -1, float("inf"), -float("inf")]:
        same(sy.linalg.matrix_norm(to_sy(b), ord), torch.linalg.matrix_norm(b, ord), approx=True)
        same(sy.linalg.matrix_norm(to_sy(b), ord, keepdim=True),
             torch.linalg.matrix_norm(b, ord, keepdim=True), approx=True)
    with pytest.raises(NotImplementedError, match="ord='nuc' needs singular values"):
        sy.linalg.matrix_norm(to_sy(b), "nuc")
    with pytest.raises(ValueError, match="at least 2 dims"):
        sy.linalg.matrix_norm(sy.ones(3))
