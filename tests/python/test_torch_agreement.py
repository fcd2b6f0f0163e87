"""What the differential suite (test_differential.py) found, each pinned side by side with torch.

Each test names the behaviour switchyard now shares with PyTorch 1.13; the
differential suite would find a regression too, but only on the examples it
happens to draw.
"""

import pytest

import switchyard as sy

torch = pytest.importorskip("torch")


def both_raise(fn, error=TypeError, fragment=""):
    """fn(lib) raises in torch (any RuntimeError) and raises `error` here."""
    with pytest.raises(RuntimeError):
        fn(torch)
    with pytest.raises(error) as info:
        fn(sy)
    assert fragment in str(info.value)
    return str(info.value)


def same(fn):
    """fn(lib) gives equal values, dtypes and shapes in both libraries."""
    mine, theirs = fn(sy), fn(torch)
    if isinstance(theirs, (tuple, list)):
        assert len(mine) == len(theirs)
        for a, b in zip(mine, theirs):
            assert list(a.shape) == list(b.shape) and a.tolist() == b.tolist()
        return mine
    assert str(mine.dtype).rsplit(".", 1)[-1] == str(theirs.dtype).rsplit(".", 1)[-1]
    assert list(mine.shape) == list(theirs.shape)
    assert mine.tolist() == theirs.tolist()
    return mine


@pytest.mark.parametrize("expr", [
    lambda m: m.tensor([True]) - m.tensor([1]),
    lambda m: m.tensor([1]) - m.tensor([True]),
    lambda m: m.tensor([1.5]) - m.tensor([True]),
    lambda m: m.tensor([1]) - True,
    lambda m: m.sub(m.tensor([1]), m.tensor([True]), alpha=2),
])
def test_subtracting_with_any_bool_tensor_is_refused(expr):
    both_raise(expr, TypeError, "bool")


@pytest.mark.parametrize("expr", [
    lambda m: m.tensor([], dtype=m.int64) // m.tensor([0]),
    lambda m: m.remainder(m.tensor([], dtype=m.int64), m.tensor([0])),
    lambda m: m.div(m.zeros(2, 0, dtype=m.int32), m.tensor([0], dtype=m.int32),
                    rounding_mode="trunc"),
])
def test_integer_division_of_nothing_by_zero_is_empty(expr):
    assert same(expr).numel() == 0


def test_integer_division_of_something_by_zero_still_raises():
    with pytest.raises(ValueError, match="division by zero|divid"):
        sy.tensor([3]) // sy.tensor([0])


def test_clamp_of_bool_with_bool_bounds_is_refused():
    both_raise(lambda m: m.clamp(m.tensor([True, False]), min=False), TypeError, "clamp")
    # An integer bound promotes, in both.
    same(lambda m: m.clamp(m.tensor([True, False]), min=0))


@pytest.mark.parametrize("name", ["abs", "argmax", "argmin"])
def test_abs_and_argmax_refuse_bool_tensors(name):
    both_raise(lambda m: getattr(m, name)(m.tensor([True, False])), TypeError, name)
    # max and min do take bool tensors.
    same(lambda m: m.max(m.tensor([True, False])))


@pytest.mark.parametrize("dtype", ["int64", "uint8", "bool"])
def test_gelu_needs_a_floating_tensor(dtype):
    def gelu(m):
        return m.ops.aten.gelu(m.tensor([1, 0], dtype=getattr(m, dtype))) if m is torch else \
            m.gelu(m.tensor([1, 0], dtype=getattr(m, dtype)))
    both_raise(gelu, TypeError, "floating")


@pytest.mark.parametrize("shape,dim", [((0,), 0), ((2, 0), 1), ((0, 3), 0)])
def test_chunking_a_zero_size_dim_gives_the_asked_number_of_chunks(shape, dim):
    chunks = same(lambda m: m.zeros(shape).chunk(3, dim))
    assert len(chunks) == 3


def test_gather_counts_a_zero_dim_tensor_as_one_dimension():
    same(lambda m: m.gather(m.tensor(5.0), 0, m.tensor(0)))
    same(lambda m: m.gather(m.tensor(5.0), 0, m.tensor([0, 0])))
    same(lambda m: m.gather(m.tensor([4, 6]), 0, m.tensor(1)))
    both_raise(lambda m: m.gather(m.tensor(5.0), 0, m.tensor([[0]])), ValueError)
    both_raise(lambda m: m.gather(m.tensor(5.0), 0, m.tensor(1)), IndexError)


@pytest.mark.parametrize("k", [0, 1])
def test_topk_of_a_zero_dim_tensor_returns_its_element(k):
    values, indices = same(lambda m: m.topk(m.tensor(False), k))
    assert values.item() is False and indices.item() == 0


@pytest.mark.parametrize("value", [-2.5, 256, 1000.0])
def test_masked_fill_refuses_a_value_that_does_not_fit(value):
    both_raise(lambda m: m.masked_fill(m.zeros(2, dtype=m.uint8), m.tensor([True, False]), value),
               ValueError, "overflow")
    both_raise(lambda m: m.zeros(0, dtype=m.uint8).masked_fill_(m.zeros(0, dtype=m.bool), value),
               ValueError, "overflow")


@pytest.mark.parametrize("expr", [
    lambda m: m.where(m.tensor([True, False]), 256, m.zeros(2, dtype=m.uint8)),
    lambda m: m.where(m.tensor([True, False]), m.zeros(2, dtype=m.uint8), 300),
])
def test_where_refuses_a_scalar_branch_that_does_not_fit(expr):
    both_raise(expr, ValueError, "overflow")
    # -1 fits uint8 by PyTorch's rule (it wraps), and 2.5 promotes to float.
    same(lambda m: m.where(m.tensor([True, False]), -1, m.zeros(2, dtype=m.uint8)))
    same(lambda m: m.where(m.tensor([True, False]), 2.5, m.zeros(2, dtype=m.uint8)))


@pytest.mark.parametrize("value", [True, False])
def test_where_of_a_zero_dim_condition_gives_one_index_tensor(value):
    same(lambda m: m.where(m.tensor(value)))
