"""numpy and DLPack, both ways, sharing memory; torch as a real DLPack peer."""

import gc
import sys
import numpy as np
import pytest

import switchyard as sy

try:
    import torch
except ImportError:  # python3-torch is optional
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="python3-torch is not installed")

DTYPES = [
    (np.bool_, sy.bool), (np.uint8, sy.uint8), (np.int32, sy.int32), (np.int64, sy.int64),
    (np.float32, sy.float32), (np.float64, sy.float64),
]


@pytest.mark.parametrize("np_type,sy_type", DTYPES)
def test_from_numpy_keeps_dtype_and_values(np_type, sy_type):
    a = np.array([[1, 0, 1], [0, 1, 1]], dtype=np_type)
    t = sy.from_numpy(a)
    assert t.dtype is sy_type and t.shape == (2, 3)
    assert t.tolist() == a.tolist()


def test_from_numpy_shares_memory_both_ways():
    a = np.zeros((2, 2), dtype=np.float32)
    t = sy.from_numpy(a)
    a[0, 1] = 5.0
    assert t.tolist() == [[0.0, 5.0], [0.0, 0.0]]
    t.fill_(2.0)
    assert (a == 2.0).all()


def test_from_numpy_views_keep_their_strides():
    a = np.arange(12, dtype=np.int64).reshape(3, 4)[:, ::2]
    t = sy.from_numpy(a)
    assert t.stride() == (4, 2) and t.tolist() == a.tolist()


def test_from_numpy_keeps_the_array_alive_and_releases_it_after():
    a = np.arange(4, dtype=np.float64)
    before = sys.getrefcount(a)
    t = sy.from_numpy(a)
    assert sys.getrefcount(a) > before  # the tensor's storage holds the buffer
    del t
    gc.collect()
    assert sys.getrefcount(a) == before


def test_from_numpy_data_outlives_the_array_name():
    t = sy.from_numpy(np.arange(4, dtype=np.float64))
    gc.collect()
    assert t.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_from_numpy_rejects_negative_strides():
    with pytest.raises(ValueError, match="stride"):
        sy.from_numpy(np.arange(4, dtype=np.float32)[::-1])


def test_numpy_shares_memory_without_copying():
    t = sy.tensor([[1.0, 2.0], [3.0, 4.0]])
    a = t.numpy()
    assert a.dtype == np.float32 and a.shape == (2, 2)
    a[1, 1] = 40.0
    assert t[1, 1].item() == 40.0
    assert a.ctypes.data == t.data_ptr()


def test_numpy_of_a_strided_view():
    t = sy.tensor([[1, 2, 3], [4, 5, 6]])[:, 1]
    assert t.numpy().tolist() == [2, 5]


def test_numpy_of_a_meta_tensor_is_a_type_error():
    with pytest.raises(TypeError, match="meta"):
        sy.zeros(2, device="meta").numpy()


def test_dlpack_to_numpy_and_back_shares_memory():
    t = sy.tensor([1.0, 2.0, 3.0])
    a = np.from_dlpack(t)  # numpy marks arrays it imports read-only
    t[0] = 10.0
    assert a[0] == 10.0
    source = np.array([1.0, 2.0], dtype=np.float32)
    back = sy.from_dlpack(source)
    back[1] = 30.0
    assert source.tolist() == [1.0, 30.0]


def test_dlpack_device_is_cpu():
    assert sy.tensor([1]).__dlpack_device__() == (1, 0)


def test_unconsumed_dlpack_capsule_frees_its_tensor():
    t = sy.tensor([1.0])
    before = sy._C._use_count(t)
    capsule = t.__dlpack__()
    assert sy._C._use_count(t) == before + 1
    del capsule
    assert sy._C._use_count(t) == before


def test_consumed_dlpack_capsule_cannot_be_used_twice():
    capsule = sy.tensor([1.0]).__dlpack__()
    sy.from_dlpack(capsule)
    with pytest.raises(ValueError):
        sy.from_dlpack(capsule)


@needs_torch
@pytest.mark.parametrize("torch_dtype,sy_type", [
    ("float32", sy.float32), ("float64", sy.float64), ("int64", sy.int64),
    ("int32", sy.int32), ("uint8", sy.uint8),  # torch 1.13 cannot export bool
])
def test_dlpack_with_torch_both_ways(torch_dtype, sy_type):
    tt = torch.tensor([[1, 0], [1, 1]], dtype=getattr(torch, torch_dtype))
    t = sy.from_dlpack(tt)
    assert t.dtype is sy_type and t.tolist() == tt.tolist()
    back = torch.from_dlpack(t)
    assert back.dtype == tt.dtype and back.tolist() == tt.tolist()
    assert back.data_ptr() == tt.data_ptr()  # no copy either way


@needs_torch
def test_torch_sees_writes_through_dlpack():
    t = sy.zeros(3)
    tt = torch.from_dlpack(t)
    tt[1] = 7.0
    assert t.tolist() == [0.0, 7.0, 0.0]
