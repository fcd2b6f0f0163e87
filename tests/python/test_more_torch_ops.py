"""More ops a PyTorch user reaches for, side by side with PyTorch 1.13: flip, roll,
tril/triu, repeat_interleave, amax/amin, logsumexp, index_add/index_copy/index_fill,
take, lerp, equal, sign."""

import numpy as np
import pytest

import switchyard as sy

torch = pytest.importorskip("torch")

from torch_compare import same, to_sy  # noqa: E402


G = torch.arange(24.0).reshape(2, 3, 4)


@pytest.mark.parametrize("dims", [[0], [2], [-1, 0], [0, 1, 2], []])
def test_flip_matches_torch(dims):
    same(to_sy(G).flip(dims), G.flip(dims))
    s = to_sy(G)
    assert s.flip(dims).data_ptr() != s.data_ptr()


def test_flip_names_a_repeated_dim():
    with pytest.raises(ValueError, match="flip: dim 0 appears more than once"):
        sy.arange(4).flip([0, -1])


@pytest.mark.parametrize("shifts, dims", [(1, None), (-3, None), (25, None), ((1, 2), (0, 2)),
                                          (5, 1), ((-1,), (-1,))])
def test_roll_matches_torch(shifts, dims):
    kw = {} if dims is None else {"dims": dims}
    same(to_sy(G).roll(shifts, **kw), G.roll(shifts, **kw))


def test_roll_checks_its_lengths():
    with pytest.raises(ValueError, match="roll: shifts"):
        sy.arange(6.0).reshape(2, 3).roll([1, 2], [0])


@pytest.mark.parametrize("diagonal", [0, 1, -1, 5, -5])
def test_tril_triu_match_torch(diagonal):
    same(to_sy(G).tril(diagonal), G.tril(diagonal))
    same(to_sy(G).triu(diagonal), G.triu(diagonal))
    b = torch.ones(3, 3, dtype=torch.bool)
    same(to_sy(b).tril(diagonal), b.tril(diagonal))
    with pytest.raises(ValueError, match="tril: the tensor must have at least 2 dimensions"):
        sy.arange(3).tril()


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_repeat_interleave_matches_torch(dim):
    x = torch.arange(6).reshape(2, 3)
    same(to_sy(x).repeat_interleave(3, dim=dim), x.repeat_interleave(3, dim=dim))
    same(to_sy(x).repeat_interleave(1, dim=dim), x.repeat_interleave(1, dim=dim))


@pytest.mark.parametrize("kw", [dict(), dict(dim=1), dict(dim=(0, 2)), dict(dim=-1, keepdim=True),
                                dict(dim=(2, 0, 1), keepdim=True)])
def test_amax_amin_match_torch(kw):
    x = G.clone()
    x[1, 2, 3] = float("nan")
    same(to_sy(G).amax(**kw), G.amax(**kw))
    same(to_sy(G).amin(**kw), G.amin(**kw))
    same(sy.amax(to_sy(x), **kw), torch.amax(x, **kw))
    i = torch.tensor([[3, -1], [7, 2]])
    if "dim" not in kw or kw["dim"] in (-1,):
        same(to_sy(i).amin(**kw), i.amin(**kw))


@pytest.mark.parametrize("kw", [dict(dim=1), dict(dim=(0, 2)), dict(dim=-1, keepdim=True)])
def test_logsumexp_matches_torch(kw):
    same(to_sy(G).logsumexp(**kw), G.logsumexp(**kw), approx=True)
    big = G * 100
    same(to_sy(big).logsumexp(**kw), big.logsumexp(**kw), approx=True)


def test_logsumexp_of_infinities_and_integers():
    x = torch.tensor([[-float("inf"), -float("inf")], [float("inf"), 1.0]])
    same(to_sy(x).logsumexp(1), x.logsumexp(1))
    i = torch.arange(4)
    same(to_sy(i).logsumexp(0), i.logsumexp(0), approx=True)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_add_copy_fill_match_torch(dim):
    t = torch.arange(12.0).reshape(3, 4)
    n = t.shape[dim]
    index = torch.tensor([0, n - 1, 0])
    src_shape = list(t.shape)
    src_shape[dim] = 3
    src = torch.arange(1.0, 1.0 + np.prod(src_shape)).reshape(src_shape)
    same(to_sy(t).index_add(dim, to_sy(index), to_sy(src)), t.index_add(dim, index, src))
    same(to_sy(t).index_add(dim, to_sy(index), to_sy(src), alpha=2),
         t.index_add(dim, index, src, alpha=2))
    one = torch.tensor([n - 1, 0])
    src2 = src.narrow(dim, 0, 2)
    same(to_sy(t).index_copy(dim, to_sy(one), to_sy(src2)), t.index_copy(dim, one, src2))
    same(to_sy(t).index_fill(dim, to_sy(index), -1.5), t.index_fill(dim, index, -1.5))
    s, u = to_sy(t), t.clone()
    s.index_add_(dim, to_sy(index), to_sy(src))
    u.index_add_(dim, index, src)
    same(s, u)
    s.index_fill_(dim, to_sy(one), 7)
    u.index_fill_(dim, one, 7)
    same(s, u)
    s.index_copy_(dim, to_sy(one), to_sy(src2))
    u.index_copy_(dim, one, src2)
    same(s, u)


def test_index_add_errors_name_the_op():
    t = sy.zeros(3, 4)
    with pytest.raises(ValueError, match=r"index_add_: source must have shape \[3, 2\]"):
        t.index_add(1, sy.tensor([0, 1]), sy.ones(3, 3))
    with pytest.raises(ValueError, match="index_fill_: index must be 1-d"):
        t.index_fill(0, sy.tensor([[0]]), 1.0)
    with pytest.raises(IndexError, match="out of bounds"):
        t.index_add(0, sy.tensor([3]), sy.ones(1, 4))
    assert t.tolist() == [[0.0] * 4] * 3


def test_take_matches_torch():
    same(to_sy(G).take(sy.tensor([[0, 23], [5, -1]])), G.take(torch.tensor([[0, 23], [5, -1]])))
    with pytest.raises(IndexError):
        to_sy(G).take(sy.tensor([24]))


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.5, 0.75, 1.0, 1.5])
def test_lerp_matches_torch(weight):
    a = torch.tensor([1.0, -2.0, 3.5])
    b = torch.tensor([[4.0, 0.25, -3.0]])
    same(to_sy(a).lerp(to_sy(b), weight), a.lerp(b, weight), approx=True)
    w = torch.tensor([weight, 1 - weight, 0.5])
    same(sy.lerp(to_sy(a), to_sy(b), to_sy(w)), torch.lerp(a, b, w), approx=True)
    assert sy.lerp(to_sy(a), to_sy(b), 1.0).tolist() == [[4.0, 0.25, -3.0]]


def test_equal_matches_torch():
    a = torch.tensor([1.0, 2.0])
    for b in [torch.tensor([1.0, 2.0]), torch.tensor([1.0, 3.0]), torch.tensor([[1.0, 2.0]]),
              torch.tensor([float("nan"), 2.0])]:
        assert sy.equal(to_sy(a), to_sy(b)) == torch.equal(a, b)
    assert to_sy(a).equal(to_sy(a)) is True


def test_sign_matches_torch():
    for x in [torch.tensor([-2.5, 0.0, -0.0, 3.0, float("nan"), -float("inf")]),
              torch.tensor([-3, 0, 4]), torch.tensor([0, 7], dtype=torch.uint8),
              torch.tensor([True, False])]:
        same(to_sy(x).sign(), x.sign())
