"""Advanced indexing, masked ops, nonzero and scatter, side by side with PyTorch 1.13."""

import numpy as np
import pytest

import switchyard as sy

torch = pytest.importorskip("torch")


def pair(shape, dtype="float32"):
    """The same values as a switchyard and a torch tensor."""
    values = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    s = sy.tensor(values.tolist(), dtype=getattr(sy, dtype))
    t = torch.tensor(values, dtype=getattr(torch, dtype))
    return s, t


def same(s, t):
    assert tuple(s.shape) == tuple(t.shape), (s.shape, t.shape)
    assert s.tolist() == t.tolist()


def as_sy(index):
    """An index expression with torch tensors replaced by switchyard ones."""
    if isinstance(index, tuple):
        return tuple(as_sy(i) for i in index)
    if isinstance(index, list):
        return [as_sy(i) for i in index]
    if isinstance(index, torch.Tensor):
        return sy.tensor(index.tolist(), dtype=getattr(sy, str(index.dtype).split(".")[1]))
    return index


T = torch.tensor
INDICES = [
    [0, 2],
    (slice(None), [1, 3]),
    ([0, 1], slice(None), [2, 3]),
    (0, slice(None), [0, 1]),  # an int beside a list: PyTorch selects first
    (Ellipsis, [1, 2]),
    (None, [0, 1]),
    ([[0, 1]], [[1], [2]]),  # broadcast index tensors
    ([-1, 0],),
    (slice(1, 3), [0, 2]),
    ([0, 2], slice(1, 4)),
    (slice(None, None, 2), [4, 0], slice(1, None)),
    T([[0, 1], [2, 3]]),
    (T([1, 2]), T([3, 0])),
    True,
    False,
    (slice(None), True, 0),
    T(1),
    (T(1), [0]),
    [],
    [True, False, True, False],
    (slice(None), [False, True, True, False, True]),
    ([[0, 1], [2, 3]], [[1, 0], [0, 1]]),
    (1, [0, 2], slice(None)),
    ([0], 1, [2]),  # non-adjacent advanced indices: broadcast dims go first
]


@pytest.mark.parametrize("index", INDICES, ids=lambda i: repr(i)[:40])
def test_getitem_matches_torch(index):
    s, t = pair((4, 5, 6))
    same(s[as_sy(index)], t[index])


def test_bool_mask_of_the_same_shape():
    s, t = pair((4, 5, 6))
    same(s[s > 50], t[t > 50])
    same(s[(s % 3) == 0], t[(t % 3) == 0])


def test_bool_mask_over_leading_dims():
    s, t = pair((4, 5, 6))
    m = torch.tensor([[True, False, True, False, True]] * 2 + [[False] * 5] * 2)
    same(s[as_sy(m)], t[m])
    same(s[as_sy(m.to(torch.uint8)).bool()], t[m])


def test_bool_mask_in_a_later_dim():
    s, t = pair((4, 5, 6))
    m = torch.tensor([True, False, True, True, False, True])
    same(s[:, :, as_sy(m)], t[:, :, m])
    same(s[1, :, as_sy(m)], t[1, :, m])


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8", "bool",
                                   "float16", "bfloat16"])
def test_mask_select_every_dtype(dtype):
    s, t = pair((7, 33), dtype)
    m = torch.rand(7, 33) > 0.4
    same(s[as_sy(m)], t[m])
    same(s.masked_select(as_sy(m)), t.masked_select(m))


def test_large_random_mask_matches_torch():
    torch.manual_seed(0)
    t = torch.randn(100_003)
    m = t > 0.1
    s = sy.tensor(t.tolist())
    assert s[as_sy(m)].tolist() == t[m].tolist()


def test_basic_indexing_still_gives_views():
    s = sy.zeros(3, 4)
    v = s[1, 1:3]
    v.fill_(7.0)
    assert s.tolist()[1] == [0.0, 7.0, 7.0, 0.0]
    s[..., 0] = 2.0
    assert [row[0] for row in s.tolist()] == [2.0, 2.0, 2.0]


SET_INDICES = [
    [0, 2],
    (slice(None), [1, 3]),
    ([0, 1], slice(None), [2, 3]),
    (0, slice(None), [0, 1]),
    (Ellipsis, [1, 2]),
    (T([1, 2]), T([3, 0])),
    [True, False, True, False],
]


@pytest.mark.parametrize("index", SET_INDICES, ids=lambda i: repr(i)[:40])
@pytest.mark.parametrize("value", [0.5, "tensor"])
def test_setitem_matches_torch(index, value):
    s, t = pair((4, 5, 6))
    if value == "tensor":
        shape = t[index].shape
        tv = torch.arange(float(np.prod(shape[-1:]))) + 100  # broadcast along the last dim
        sv = sy.tensor(tv.tolist())
    else:
        tv = sv = value
    t[index] = tv
    s[as_sy(index)] = sv
    same(s, t)


def test_setitem_through_a_mask():
    s, t = pair((4, 5, 6))
    s[s > 5] = 0
    t[t > 5] = 0
    same(s, t)
    s, t = pair((4, 5, 6))
    m = t % 2 == 0
    t[m] = -t[m]
    s[as_sy(m)] = -s[as_sy(m)]
    same(s, t)


def test_index_put_accumulates_repeated_positions():
    s, t = pair((5,))
    idx = torch.tensor([0, 2, 0, 0, 4])
    vals = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    t.index_put_((idx,), vals, accumulate=True)
    s.index_put_([as_sy(idx)], as_sy(vals), accumulate=True)
    same(s, t)
    same(sy.ops.sy.index_put(s, [as_sy(idx)], as_sy(vals), True),
         torch.index_put(t, (idx,), vals, True))


def test_index_with_none_entries_through_the_op():
    s, t = pair((3, 4))
    idx = torch.tensor([3, 1])
    same(sy.ops.sy.index(s, [None, as_sy(idx)]), torch.ops.aten.index(t, [None, idx]))


def test_nonzero_matches_torch():
    for shape in [(5,), (3, 4), (2, 3, 4), ()]:
        t = (torch.arange(int(np.prod(shape))).reshape(shape) % 3) == 1
        same(as_sy(t).nonzero(), t.nonzero())
    t = torch.tensor([[0.0, 1.5], [float("nan"), 0.0]])
    same(as_sy(t).nonzero(), t.nonzero())
    big = torch.rand(70_001) > 0.5
    same(as_sy(big).nonzero(), big.nonzero())


def test_masked_fill_matches_torch():
    s, t = pair((3, 4))
    m = torch.tensor([True, False, True, False])
    same(s.masked_fill(as_sy(m), -1.0), t.masked_fill(m, -1.0))
    same(s.masked_fill(as_sy(m), sy.tensor(2.5)), t.masked_fill(m, torch.tensor(2.5)))
    # out of place, the mask may broadcast self to a larger shape
    col = torch.tensor([[True], [False]])
    same(s[0].masked_fill(as_sy(col), 9.0), t[0].masked_fill(col, 9.0))
    s.masked_fill_(as_sy(m), 7)
    t.masked_fill_(m, 7)
    same(s, t)


def test_masked_select_broadcasts():
    s, t = pair((3, 4))
    m = torch.tensor([True, False, False, True])
    same(s.masked_select(as_sy(m)), t.masked_select(m))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scatter_and_scatter_add_match_torch(dim):
    torch.manual_seed(1)
    t = torch.zeros(4, 5)
    index = torch.randint(0, 4 if dim == 0 else 5, (3, 4))
    src = torch.arange(12.0).reshape(3, 4)
    s = as_sy(t)
    same(s.scatter(dim, as_sy(index), as_sy(src)), t.scatter(dim, index, src))
    same(s.scatter(dim, as_sy(index), 2.5), t.scatter(dim, index, 2.5))
    same(s.scatter_add(dim, as_sy(index), as_sy(src)), t.scatter_add(dim, index, src))
    s.scatter_add_(dim, as_sy(index), as_sy(src))
    t.scatter_add_(dim, index, src)
    same(s, t)


@pytest.mark.parametrize("reduce", ["add", "multiply"])
@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_with_reduce_matches_torch(dim, reduce):
    torch.manual_seed(2)
    t = torch.arange(1.0, 21.0).reshape(4, 5)
    index = torch.randint(0, 4 if dim == 0 else 5, (3, 4))
    src = torch.arange(1.0, 13.0).reshape(3, 4) / 4
    s = as_sy(t)
    same(s.scatter(dim, as_sy(index), as_sy(src), reduce=reduce),
         t.scatter(dim, index, src, reduce=reduce))
    same(s.scatter(dim, as_sy(index), 1.5, reduce=reduce), t.scatter(dim, index, 1.5, reduce=reduce))
    ti = torch.arange(12).reshape(3, 4)
    small = torch.randint(0, 3 if dim == 0 else 4, (2, 3))
    si = as_sy(ti)
    si.scatter_(dim, as_sy(small), 3, reduce=reduce)
    ti.scatter_(dim, small, 3, reduce=reduce)
    same(si, ti)


def test_scatter_with_an_unknown_reduce_names_it():
    s = sy.zeros(3)
    with pytest.raises(ValueError, match="scatter_: reduce must be 'add' or 'multiply', got 'max'"):
        s.scatter(0, sy.tensor([0]), 1.0, reduce="max")
    assert s.tolist() == [0.0, 0.0, 0.0]


def test_nonzero_and_where_as_tuples_like_torch():
    t = torch.tensor([[0, 1, 2], [3, 0, 0]])
    s = as_sy(t)
    got, want = s.nonzero(as_tuple=True), t.nonzero(as_tuple=True)
    assert isinstance(got, tuple) and len(got) == len(want) == 2
    for g, w in zip(got, want):
        same(g, w)
    got = sy.where(s > 0)
    assert isinstance(got, tuple)
    for g, w in zip(got, torch.where(t > 0)):
        same(g, w)
    same(sy.nonzero(s), torch.nonzero(t))
    zero_d = sy.nonzero(sy.tensor(5), as_tuple=True)
    assert len(zero_d) == 1 and zero_d[0].tolist() == [0]


# ---- errors ------------------------------------------------------------------------------


def test_mask_of_the_wrong_shape_is_an_index_error():
    s = sy.zeros(3)
    with pytest.raises(IndexError, match=r"index: the shape of the mask \[2\] at index 0 does "
                                         r"not match the shape of the indexed tensor \[3\]"):
        s[sy.tensor([True, False])]
    with pytest.raises(IndexError, match=r"index_put_: the shape of the mask \[2\]"):
        s[sy.tensor([True, False])] = 1.0
    with torch_raises(IndexError):
        torch.zeros(3)[torch.tensor([True, False])]


def test_index_out_of_range_is_an_index_error():
    s = sy.zeros(3, 4)
    with pytest.raises(IndexError, match="index: index 5 is out of bounds for dimension 0 "
                                         "with size 3"):
        s[[0, 5]]
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 1 with size 4"):
        s[:, [4]]
    with pytest.raises(IndexError, match="index_put_: index -4 is out of bounds for dimension 0"):
        s[[-4]] = 1.0
    assert s.tolist() == [[0.0] * 4] * 3  # nothing was written


def test_scatter_index_out_of_range_is_an_index_error():
    s = sy.zeros(3)
    with pytest.raises(IndexError, match="scatter_: index 5 is out of bounds for dimension 0 "
                                         "with size 3"):
        s.scatter_(0, sy.tensor([1, 5]), sy.tensor([1.0, 2.0]))
    with pytest.raises(IndexError, match="scatter_add_: index -1 is out of bounds"):
        s.scatter_add(0, sy.tensor([-1]), sy.tensor([1.0]))
    assert s.tolist() == [0.0, 0.0, 0.0]


def test_other_bad_indices_name_the_op_and_the_value():
    s = sy.zeros(3, 4)
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 2"):
        s[0, 0, 0]
    with pytest.raises(IndexError, match="must be int64, int32, bool or uint8, but index 0 is "
                                         "float32"):
        s[sy.tensor([0.0])]
    with pytest.raises(IndexError, match="cannot be broadcast together"):
        s[[0, 1], [0, 1, 2]]
    with pytest.raises(TypeError, match="index_put_: values are float64, but self is float32"):
        s[[0]] = sy.tensor([1.0], dtype=sy.float64)
    with pytest.raises(ValueError, match="masked_fill_: shapes \\[5\\] and \\[3, 4\\] do not "
                                         "broadcast"):
        s.masked_fill_(sy.zeros(5, dtype=sy.bool), 1.0)
    with pytest.raises(ValueError, match="masked_fill_: the mask of shape \\[2, 1, 1\\] does "
                                         "not broadcast to self's shape \\[3, 4\\]"):
        s.masked_fill_(sy.zeros(2, 1, 1, dtype=sy.bool), 1.0)
    with pytest.raises(TypeError, match="masked_fill_: the mask must be a bool tensor, got "
                                        "float32"):
        s.masked_fill_(sy.zeros(4), 1.0)
    with pytest.raises(ValueError, match="index_put_: shape mismatch: values of shape \\[3\\]"):
        s[[0, 1]] = sy.tensor([1.0, 2.0, 3.0])


def test_meta_tensors_index_with_integers_but_not_masks():
    m = sy.empty(3, 4, device="meta")
    assert m[[0, 2]].shape == (2, 4)
    assert m[:, [[0], [1]]].shape == (3, 2, 1)
    with pytest.raises(ValueError, match="depends on the mask's values"):
        m[sy.empty(3, dtype=sy.bool, device="meta")]
    with pytest.raises(ValueError, match="nonzero: the result's shape depends on the values"):
        m.nonzero()


class torch_raises:
    """Checks that torch raises too (the error kinds match PyTorch's)."""

    def __init__(self, kind):
        self.kind = kind

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        assert kind is not None and issubclass(kind, self.kind), kind
        return True
