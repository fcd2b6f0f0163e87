"""sy.tensor, factories, properties, repr, dtypes and devices, operators, indexing."""

import pytest

import switchyard as sy
from conftest import requires_op


def test_tensor_from_nested_lists_infers_shape_and_dtype():
    assert sy.tensor([[1, 2, 3], [4, 5, 6]]).shape == (2, 3)
    assert sy.tensor([1, 2]).dtype is sy.int64
    assert sy.tensor([0.5, 1]).dtype is sy.float32
    assert sy.tensor([True, False]).dtype is sy.bool
    assert sy.tensor([]).dtype is sy.float32
    assert sy.tensor([]).shape == (0,)


def test_tensor_from_scalar_is_zero_dimensional():
    t = sy.tensor(3.5)
    assert t.shape == () and t.ndim == 0 and t.item() == 3.5


def test_tensor_keeps_values_and_honours_dtype():
    t = sy.tensor([[1, 2], [3, 4]], dtype=sy.float64)
    assert t.dtype is sy.float64
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_tensor_rejects_ragged_lists():
    with pytest.raises(ValueError, match="ragged"):
        sy.tensor([[1, 2], [3]])


def test_tensor_rejects_non_numbers():
    with pytest.raises(TypeError, match="expected numbers"):
        sy.tensor(["a"])


def test_tensor_on_meta_has_shape_and_no_data():
    t = sy.tensor([[1.0, 2.0]], device="meta")
    assert t.device.type == "meta" and t.is_meta and t.shape == (1, 2)
    assert "device='meta'" in repr(t)


def test_requires_grad_property_and_keyword():
    t = sy.tensor([1.0], requires_grad=True)
    assert t.requires_grad
    t.requires_grad = False
    assert not t.requires_grad
    assert t.requires_grad_() is t and t.requires_grad


def test_is_contiguous_reflects_views():
    t = sy.zeros(2, 3)
    assert t.is_contiguous()
    if sy.op_exists("sy::t"):
        assert not t.t().is_contiguous()


def test_factories_take_sizes_as_varargs_or_a_sequence():
    assert sy.zeros(2, 3).shape == (2, 3)
    assert sy.ones((4,)).tolist() == [1.0] * 4
    assert sy.empty([2, 2], dtype=sy.int32).dtype is sy.int32
    assert sy.full((2,), 7).tolist() == [7, 7]
    assert sy.zeros(2, device="meta").is_meta


def test_arange_counts_like_range():
    assert sy.arange(4).tolist() == [0, 1, 2, 3]
    assert sy.arange(1, 7, 2).tolist() == [1, 3, 5]
    assert sy.arange(0.0, 1.0, 0.5).dtype is sy.float32


def test_rand_and_randn_give_the_shape_asked_for():
    r = sy.rand(3, 2)
    assert r.shape == (3, 2) and all(0.0 <= v < 1.0 for row in r.tolist() for v in row)
    assert sy.randn(5).shape == (5,)


def test_dtype_objects_are_unique_and_print_as_sy_names():
    assert sy.tensor([1.0]).dtype is sy.float32
    assert repr(sy.int64) == "sy.int64"
    assert sy.float is sy.float32 and sy.long is sy.int64
    assert sy.float32.is_floating_point and not sy.int32.is_floating_point
    assert sy.float64.itemsize == 8


def test_device_objects_compare_with_strings():
    d = sy.tensor([1]).device
    assert d == "cpu" and d == sy.device("cpu")
    assert repr(sy.device("cuda", 1)) == "device(type='cuda', index=1)"
    with pytest.raises(ValueError):
        sy.device("nonsense")


def test_repr_reads_like_pytorch():
    assert repr(sy.tensor([[1.0, 2.0], [3.0, 4.0]])) == "tensor([[1., 2.],\n        [3., 4.]])"
    assert repr(sy.tensor([1, 2], dtype=sy.int32)) == "tensor([1, 2], dtype=sy.int32)"


def test_item_len_and_number_conversions():
    t = sy.tensor([2.5])
    assert t.item() == 2.5 and float(t) == 2.5 and int(t) == 2 and bool(t)
    assert len(sy.zeros(4, 2)) == 4
    with pytest.raises(TypeError):
        len(sy.tensor(1.0))


def test_direct_construction_is_refused():
    with pytest.raises(TypeError, match="sy.tensor"):
        sy.Tensor()


def test_cuda_raises_a_clear_error_without_cuda():
    assert not sy.cuda.is_available()
    with pytest.raises(RuntimeError, match="without CUDA"):
        sy.tensor([]).cuda()


# ---- operators and methods --------------------------------------------------------------

def test_arithmetic_operators_match_python_numbers():
    a, b = sy.tensor([6.0, -7.0]), sy.tensor([4.0, 2.0])
    assert (a + b).tolist() == [10.0, -5.0]
    assert (a - b).tolist() == [2.0, -9.0]
    assert (a * b).tolist() == [24.0, -14.0]
    assert (a / b).tolist() == [1.5, -3.5]
    assert (a // b).tolist() == [1.0, -4.0]
    assert (a % b).tolist() == [2.0, 1.0]
    assert (b ** 2).tolist() == [16.0, 4.0]
    assert (-a).tolist() == [-6.0, 7.0]


def test_reflected_operators_put_the_number_first():
    a = sy.tensor([1.0, 4.0])
    assert (1 + a).tolist() == [2.0, 5.0]
    assert (10 - a).tolist() == [9.0, 6.0]
    assert (2 * a).tolist() == [2.0, 8.0]
    assert (8 / a).tolist() == [8.0, 2.0]
    assert (2 ** a).tolist() == [2.0, 16.0]


def test_comparisons_give_bool_tensors():
    a, b = sy.tensor([1, 2, 3]), sy.tensor([3, 2, 1])
    assert (a < b).tolist() == [True, False, False]
    assert (a == b).tolist() == [False, True, False]
    assert (a >= 2).tolist() == [False, True, True]
    assert (a != b).dtype is sy.bool


def test_tensors_stay_hashable_despite_elementwise_eq():
    a = sy.tensor([1])
    assert {a: 1}[a] == 1


def test_in_place_operators_keep_the_object():
    a = sy.tensor([1.0, 2.0])
    before = a
    a += 1
    a *= 2
    assert a is before and a.tolist() == [4.0, 6.0]


def test_methods_come_from_the_op_table():
    a = sy.tensor([[1.0, -2.0]])
    assert a.abs().tolist() == [[1.0, 2.0]]
    assert a.add(a, alpha=2).tolist() == [[3.0, -6.0]]
    assert a.reshape(2, 1).shape == (2, 1)
    assert a.view(-1).shape == (2,)
    assert a.fill_(3.0).tolist() == [[3.0, 3.0]]


@requires_op("sy::matmul")
def test_matmul_operator():
    a = sy.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert (a @ a).tolist() == [[7.0, 10.0], [15.0, 22.0]]


@requires_op("sy::sum")
def test_sum_method_reduces():
    assert sy.tensor([[1.0, 2.0], [3.0, 4.0]]).sum().item() == 10.0


def test_every_sy_op_is_a_module_function():
    assert sy.add is sy.ops.sy.add
    with pytest.raises(AttributeError):
        sy.no_such_op_anywhere


# ---- indexing ------------------------------------------------------------------------------

def test_basic_indexing_with_ints_slices_none_and_ellipsis():
    t = sy.tensor([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]])
    assert t[1].tolist() == [4, 5, 6, 7]
    assert t[-1, 2].item() == 10
    assert t[:, 1].tolist() == [1, 5, 9]
    assert t[0:3:2, 1:3].tolist() == [[1, 2], [9, 10]]
    assert t[None].shape == (1, 3, 4)
    assert t[..., 0].tolist() == [0, 4, 8]
    assert t[1, ..., None].shape == (4, 1)


def test_indexing_gives_views_that_share_memory():
    t = sy.zeros(2, 3)
    row = t[1]
    row.fill_(5.0)
    assert t.tolist() == [[0.0, 0.0, 0.0], [5.0, 5.0, 5.0]]


def test_index_assignment_writes_through():
    t = sy.zeros(2, 2)
    t[0, 1] = 3.0
    t[1] = sy.tensor([1.0, 2.0])
    assert t.tolist() == [[0.0, 3.0], [1.0, 2.0]]


def test_index_out_of_range_is_an_index_error():
    with pytest.raises(IndexError):
        sy.zeros(2)[5]
    with pytest.raises(IndexError):
        sy.zeros(2)[0, 0]


def test_iteration_walks_the_first_dimension():
    assert [r.tolist() for r in sy.tensor([[1, 2], [3, 4]])] == [[1, 2], [3, 4]]
