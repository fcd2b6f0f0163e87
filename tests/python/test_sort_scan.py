"""sort, argsort, topk, cumsum and cumprod, side by side with PyTorch 1.13."""

import math

import numpy as np
import pytest

import switchyard as sy

torch = pytest.importorskip("torch")


def to_sy(t):
    return sy.tensor(t.tolist(), dtype=getattr(sy, str(t.dtype).split(".")[1]))


def same(s, t, approx=False):
    assert tuple(s.shape) == tuple(t.shape)
    if approx:
        np.testing.assert_allclose(np.array(s.tolist(), dtype=float),
                                   np.array(t.tolist(), dtype=float), rtol=1e-6)
    else:
        a, b = s.tolist(), t.tolist()
        assert str(a) == str(b)  # NaN compares equal as text


VALUES = torch.tensor([[3.0, -1.0, 2.0, 2.0, float("nan"), 0.5],
                       [1.0, 1.0, -5.0, float("inf"), 7.0, -float("inf")],
                       [0.0, -0.0, 4.0, 4.0, 4.0, 1.0]])


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_matches_torch_stable_sort(dim, descending):
    s = to_sy(VALUES)
    values, indices = s.sort(dim, descending)
    expected = VALUES.sort(dim=dim, descending=descending, stable=True)
    same(values, expected.values)
    same(indices, expected.indices)
    same(s.argsort(dim, descending), expected.indices)
    same(sy.ops.sy.sort(s, stable=True, dim=dim, descending=descending).indices,
         expected.indices)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float64", "float16",
                                   "bfloat16"])
def test_sort_every_dtype(dtype):
    t = (torch.arange(24) * 7 % 11).reshape(4, 6).to(getattr(torch, dtype))
    expected = t.sort(stable=True)
    got = to_sy(t).sort()
    same(got.values, expected.values)
    same(got.indices, expected.indices)


def test_sort_returns_named_results_like_torch():
    r = to_sy(VALUES).sort()
    assert type(r).__name__ == "sort"
    assert r.values is r[0] and r.indices is r[1]
    values, indices = r
    assert values.shape == (3, 6) and indices.dtype == sy.int64


@pytest.mark.parametrize("k", [0, 1, 3, 6])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_matches_torch(k, largest):
    t = torch.tensor([[5.0, 1.0, 9.0, -2.0, 3.5, 0.0], [8.0, 7.0, 6.0, 5.0, 4.0, 3.0]])
    expected = t.topk(k, dim=1, largest=largest)
    got = to_sy(t).topk(k, 1, largest)
    same(got.values, expected.values)
    same(got.indices, expected.indices)
    assert type(got).__name__ == "topk"


def test_topk_along_dim0_and_unsorted():
    t = torch.tensor([[5.0, 1.0], [9.0, -2.0], [3.5, 0.0]])
    expected = t.topk(2, dim=0)
    got = to_sy(t).topk(2, dim=0)
    same(got.values, expected.values)
    same(got.indices, expected.indices)
    unsorted = to_sy(t).topk(2, dim=0, sorted=False)  # each column's best two, in any order
    same(unsorted.values.sort(0, True).values, expected.values)


def test_topk_k_out_of_range_is_an_error():
    with pytest.raises(IndexError, match=r"topk: k \(4\) is out of range for dim 0 of size 3"):
        sy.zeros(3).topk(4)
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        sy.zeros(3, 2).sort(2)


@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scans_match_torch(op, dim):
    t = torch.tensor([[1.0, 2.0, -3.0, 0.5], [4.0, -1.0, 2.0, 2.0], [0.25, 8.0, 1.0, -2.0]])
    same(getattr(to_sy(t), op)(dim), getattr(t, op)(dim), approx=True)


@pytest.mark.parametrize("dtype", ["int32", "uint8", "bool", "int64"])
def test_integer_scans_accumulate_in_int64(dtype):
    t = (torch.arange(12) % 5).reshape(3, 4).to(getattr(torch, dtype))
    for op in ["cumsum", "cumprod"]:
        got, expected = getattr(to_sy(t), op)(1), getattr(t, op)(1)
        assert got.dtype == sy.int64 and expected.dtype == torch.int64
        same(got, expected)


def test_scan_dtype_argument_and_half():
    t = torch.tensor([1, 2, 3])
    same(to_sy(t).cumsum(0, dtype=sy.float64), t.cumsum(0, dtype=torch.float64))
    h = torch.tensor([0.1, 0.2, 0.3, 1000.0], dtype=torch.float16)
    got = to_sy(h).cumsum(0)
    assert got.dtype == sy.float16
    # PyTorch 1.13 has no float16 cumsum on the cpu: the float32 scan, rounded, is its value.
    same(got, h.float().cumsum(0).half())
    b = torch.tensor([0.1, 0.2, 0.3, 1000.0], dtype=torch.bfloat16)
    same(to_sy(b).cumsum(0), b.cumsum(0))


def test_scans_of_large_inputs_match_torch():
    torch.manual_seed(0)
    t = torch.rand(3, 40_000, dtype=torch.float64)
    got = to_sy(t).cumsum(1).tolist()
    expected = t.cumsum(1).tolist()
    for a, b in zip(got, expected):
        assert a == pytest.approx(b, rel=1e-12)
    assert math.isclose(got[0][-1], float(t[0].sum()), rel_tol=1e-12)


def test_meta_sort_and_scan_shapes():
    m = sy.empty(3, 5, device="meta")
    assert m.sort(1).values.shape == (3, 5)
    assert m.topk(2, 1).indices.shape == (3, 2)
    assert m.cumsum(0).shape == (3, 5)


def test_argsort_takes_stable_like_torch():
    t = torch.tensor([[2, 1, 2, 1, 0], [1, 1, 0, 0, 1]])
    s = sy.tensor(t.tolist())
    for kw in [dict(stable=True), dict(stable=True, descending=True), dict(stable=True, dim=0)]:
        assert s.argsort(**kw).tolist() == t.argsort(**kw).tolist(), kw
        assert sy.argsort(s, **kw).tolist() == torch.argsort(t, **kw).tolist(), kw
