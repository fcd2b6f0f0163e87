"""pickle, copy.copy and copy.deepcopy of tensors, as PyTorch 1.13 does them."""

import copy
import pickle

import pytest

import switchyard as sy

torch = pytest.importorskip("torch")


def roundtrip(obj):
    return pickle.loads(pickle.dumps(obj))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8", "bool",
                                   "float16", "bfloat16"])
def test_pickle_keeps_values_dtype_and_shape(dtype):
    t = sy.tensor([[1, 0, 3], [4, 5, 0]], dtype=getattr(sy, dtype))
    back = roundtrip(t)
    assert back.dtype == t.dtype and back.shape == t.shape and back.tolist() == t.tolist()
    assert back.data_ptr() != t.data_ptr()


def test_pickle_keeps_geometry_requires_grad_and_attributes():
    base = sy.arange(12.0).reshape(3, 4)
    view = base.t()[1:, ::2]
    view.note = "kept"
    back = roundtrip(view)
    assert back.tolist() == view.tolist()
    assert back.stride() == view.stride() and back.storage_offset() == view.storage_offset()
    assert back.note == "kept"
    r = roundtrip(sy.ones(2, requires_grad=True))
    assert r.requires_grad


def test_views_pickled_together_stay_views_of_one_storage():
    # What torch.save/torch.load do (PyTorch 1.13's plain pickle would copy each view).
    base = sy.zeros(4)
    first, second = base[:2], base[1:]
    a, b, c = roundtrip((base, first, second))
    a[1] = 9.0
    assert b.tolist() == [0.0, 9.0] and c.tolist()[0] == 9.0
    import io

    buffer = io.BytesIO()
    tb = torch.zeros(4)
    torch.save((tb, tb[1:]), buffer)
    buffer.seek(0)
    ta, tc = torch.load(buffer)
    ta[1] = 9.0
    assert tc.tolist()[0] == 9.0


def test_deepcopy_copies_storage_and_keeps_sharing_inside_one_copy():
    base = sy.arange(6.0)
    view = base[2:]
    base.tag = [1, 2]
    d_base, d_view = copy.deepcopy([base, view])
    assert d_base.data_ptr() != base.data_ptr()
    d_base[3] = -1.0
    assert d_view.tolist()[1] == -1.0  # shares with the copied base
    assert base.tolist()[3] == 3.0  # the original is untouched
    assert d_base.tag == [1, 2] and d_base.tag is not base.tag
    assert copy.deepcopy(view).tolist() == view.tolist()
    m = sy.empty(2, 3, device="meta")
    assert copy.deepcopy(m).shape == (2, 3) and copy.deepcopy(m).is_meta


def test_copy_copy_shares_storage_as_torch():
    s = sy.zeros(3)
    c = copy.copy(s)
    c[0] = 1.0
    assert s.tolist()[0] == 1.0
    t = torch.zeros(3)
    tc = copy.copy(t)
    tc[0] = 1.0
    assert t.tolist()[0] == 1.0


def test_module_state_round_trips():
    state = {"weight": sy.randn(3, 2), "bias": sy.zeros(2, dtype=sy.float16), "step": 3}
    back = roundtrip(state)
    assert back["weight"].tolist() == state["weight"].tolist()
    assert back["bias"].dtype == sy.float16 and back["step"] == 3
