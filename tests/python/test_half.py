"""float16 and bfloat16: storage, conversion, printing, interop, and ops that compute in
float32 and round back, side by side with PyTorch 1.13."""

import numpy as np
import pytest

import switchyard as sy

torch = pytest.importorskip("torch")

HALVES = [("float16", torch.float16), ("bfloat16", torch.bfloat16)]
VALUES = [0.1, -2.5, 1e-5, 65504.0, 70000.0, -1e-8, 3.14159, 1.0 / 3, 255.5, 0.0, -0.0,
          float("inf"), float("nan"), 6e-8, 2.0**-24, 3e38]


def to_sy(t):
    return sy.tensor(t.float().tolist(), dtype=getattr(sy, str(t.dtype).split(".")[1]))


def text(values):
    return str(values)


@pytest.mark.parametrize("name,tdtype", HALVES)
def test_conversion_from_float_rounds_like_torch(name, tdtype):
    s = sy.tensor(VALUES, dtype=getattr(sy, name))
    t = torch.tensor(VALUES, dtype=tdtype)
    assert s.dtype == getattr(sy, name) and s.element_size() == 2
    assert text(s.tolist()) == text(t.tolist())
    f = sy.tensor(VALUES, dtype=sy.float64)
    assert text(f.to(getattr(sy, name)).tolist()) == text(t.tolist())
    assert text(s.float().tolist()) == text(t.float().tolist())


@pytest.mark.parametrize("name,tdtype", HALVES)
def test_every_float32_bit_pattern_sample_rounds_like_torch(name, tdtype):
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2**32, size=20000, dtype=np.uint64).astype(np.uint32)
    floats = bits.view(np.float32)
    t = torch.from_numpy(floats.copy()).to(tdtype)
    s = sy.from_numpy(floats.copy()).to(getattr(sy, name))
    assert text(s.tolist()) == text(t.tolist())


@pytest.mark.parametrize("name,tdtype", HALVES)
def test_printing_matches_torch(name, tdtype):
    for values in [[1.0, 2.0], [0.1, 2.5], [1e-5, 70000.0]]:
        s, t = sy.tensor(values, dtype=getattr(sy, name)), torch.tensor(values, dtype=tdtype)
        assert repr(s).replace("sy.", "torch.") == repr(t)


def test_aliases_and_methods():
    assert sy.half is sy.float16
    x = sy.tensor([1.5, 2.25])
    assert x.half().dtype == sy.float16 and x.bfloat16().dtype == sy.bfloat16
    assert x.half()[0].item() == 1.5
    assert sy.float16.is_floating_point and sy.bfloat16.itemsize == 2


@pytest.mark.parametrize("name,tdtype", HALVES)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "pow"])
def test_binary_ops_compute_in_float32_and_round(name, tdtype, op):
    a = torch.tensor([0.1, 2.5, -3.0, 1000.0, 7.0], dtype=tdtype)
    b = torch.tensor([0.2, 0.3, 2.0, 0.001, 3.0], dtype=tdtype)
    got = getattr(sy, op)(to_sy(a), to_sy(b))
    expected = getattr(torch, op)(a, b)
    assert got.dtype == getattr(sy, name)
    assert text(got.tolist()) == text(expected.tolist())


@pytest.mark.parametrize("name,tdtype", HALVES)
@pytest.mark.parametrize("op", ["exp", "log", "sqrt", "tanh", "sigmoid", "neg", "abs", "relu"])
def test_unary_ops_compute_in_float32_and_round(name, tdtype, op):
    a = torch.tensor([0.1, 2.5, 3.0, 10.0, 0.5], dtype=tdtype)
    got = getattr(sy, op)(to_sy(a))
    try:
        expected = getattr(torch, op)(a)
    except RuntimeError:  # PyTorch 1.13 lacks float16 kernels for these on the cpu
        expected = getattr(torch, op)(a.float()).to(tdtype)
    assert got.dtype == getattr(sy, name)
    assert text(got.tolist()) == text(expected.tolist())


@pytest.mark.parametrize("name,tdtype", HALVES)
def test_reductions_accumulate_in_float32(name, tdtype):
    # Small values: PyTorch's float16 mean overflows when the sum does (ours does not).
    t = (torch.arange(1000, dtype=torch.float32) / 70).to(tdtype).reshape(10, 100)
    s = to_sy(t)
    for got, expected in [(s.sum(), t.sum()), (s.sum([1]), t.sum(1)), (s.mean(), t.mean()),
                          (s.max(), t.max()), (s.min(1).values, t.min(1).values),
                          (s.softmax(1), t.float().softmax(1).to(tdtype)),
                          (s.var(1), t.float().var(1).to(tdtype))]:
        assert got.dtype == getattr(sy, name)
        np.testing.assert_allclose(np.array(got.float().tolist()),
                                   np.array(expected.float().tolist()), rtol=1e-2)
    assert s.argmax().item() == t.float().argmax().item()


def test_promotion_as_torch():
    h = sy.tensor([1.0, 2.0], dtype=sy.float16)
    b = sy.tensor([1.0, 2.0], dtype=sy.bfloat16)
    assert (h + b).dtype == sy.float32
    assert (h + b).tolist() == [2.0, 4.0]
    assert (h + 2.5).dtype == sy.float16
    assert (h * sy.tensor(2.0)).dtype == sy.float16  # a zero-dim float32 does not promote
    assert (h + sy.tensor([1.0])).dtype == sy.float32
    assert (sy.tensor([1, 2]) + h).dtype == sy.float16
    assert (h + sy.tensor([1.0], dtype=sy.float64)).dtype == sy.float64
    assert (b > 1.5).tolist() == [False, True]


@pytest.mark.parametrize("name,tdtype", HALVES)
def test_factories_and_movement(name, tdtype):
    dt = getattr(sy, name)
    assert sy.zeros(2, 3, dtype=dt).tolist() == [[0.0] * 3] * 2
    assert sy.full([2], 0.1, dtype=dt).tolist() == torch.full([2], 0.1, dtype=tdtype).tolist()
    assert sy.arange(0, 3, dtype=dt).tolist() == [0.0, 1.0, 2.0]
    r = sy.rand(100, dtype=dt)
    assert r.dtype == dt and all(0.0 <= v <= 1.0 for v in r.tolist())
    s = sy.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=dt)
    assert s.t().contiguous().tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert sy.cat([s, s]).shape == (4, 2)
    assert s.clone().dtype == dt
    assert s[1].tolist() == [3.0, 4.0]


@pytest.mark.parametrize("name,tdtype", HALVES)
def test_matmul_in_float32(name, tdtype):
    a = torch.tensor([[0.1, 0.2], [0.3, 0.4]], dtype=tdtype)
    got = sy.matmul(to_sy(a), to_sy(a))
    assert got.dtype == getattr(sy, name)
    expected = (a.float() @ a.float()).to(tdtype)
    assert text(got.tolist()) == text(expected.tolist())


def test_numpy_and_dlpack_interop():
    h = sy.tensor([1.5, -2.0, 0.1], dtype=sy.float16)
    arr = h.numpy()
    assert arr.dtype == np.float16 and arr.tolist() == h.tolist()
    back = sy.from_numpy(np.array([0.5, 1.0], dtype=np.float16))
    assert back.dtype == sy.float16 and back.tolist() == [0.5, 1.0]
    t = torch.from_dlpack(h)
    assert t.dtype == torch.float16 and t.tolist() == h.tolist()
    b = sy.tensor([1.5, -2.0], dtype=sy.bfloat16)
    tb = torch.from_dlpack(b)
    assert tb.dtype == torch.bfloat16 and tb.tolist() == [1.5, -2.0]
    from_torch = sy.from_dlpack(torch.tensor([0.25, 3.0], dtype=torch.bfloat16))
    assert from_torch.dtype == sy.bfloat16 and from_torch.tolist() == [0.25, 3.0]
    with pytest.raises(TypeError, match="numpy has no bfloat16 dtype"):
        b.numpy()
