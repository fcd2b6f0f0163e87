"""Calls of table ops through their unboxed entries (Note [Unboxed Python calls]).

A call whose tensor arguments are all plain sy.Tensor objects, outside any dispatch
mode, takes the op's unboxed entry; the same call with a plain subclass takes the
boxed path. Both must pick the same overload and give the same results and errors.
"""

import gc
import threading
import weakref

import pytest

import switchyard as sy
from switchyard.library import Library


class Plain(sy.Tensor):
    """A subclass without __sy_dispatch__: its calls take the boxed path."""


class Index:
    def __init__(self, value):
        self.value = value

    def __index__(self):
        return self.value


class BadIndex:
    def __index__(self):
        raise ZeroDivisionError("no index here")


def outcome(call, *args, **kwargs):
    try:
        r = call(*args, **kwargs)
    except Exception as e:  # noqa: BLE001: the exception is what is compared
        return ("raised", type(e).__name__, str(e))
    if isinstance(r, sy.Tensor):
        data = r.tolist() if r.device.type == "cpu" else None
        return ("tensor", r.dtype, str(r.device), tuple(r.shape), data)
    return ("value", r)


def boxed(v):
    return v.as_subclass(Plain) if type(v) is sy.Tensor else v


x = sy.tensor([[1.0, -2.0], [3.5, 4.0]])
y = sy.tensor([[0.5, 2.0], [-1.0, 3.0]])
i = sy.tensor([[1, 2], [3, 4]])
mask = sy.tensor([[True, False], [False, True]])

CALLS = [
    ("add", (x, y), {}),
    ("add", (x, 2), {}),
    ("add", (x, 2.5), {}),
    ("add", (x, True), {}),
    ("add", (i, 3), {}),
    ("add", (x, y), {"alpha": 2}),
    ("add", (x, y), {"alpha": 0.5}),
    ("add", (x,), {"other": y}),
    ("add", (), {"input": x, "other": y}),
    ("add", (), {"self": x, "other": y}),
    ("add", (x, y, 3), {}),
    ("add", (x, 1, 3), {}),
    ("add", (x, y), {"other": y}),
    ("add", (x, y), {"beta": 1}),
    ("add", (x,), {}),
    ("add", (x, "a"), {}),
    ("add", (x, y), {"alpha": "a"}),
    ("add", (x, 2**70), {}),
    ("add", (x, None), {}),
    ("sub", (x, 1, 2), {}),
    ("mul", (x, Index(3)), {}),
    ("mul", (x, BadIndex()), {}),
    ("div", (x, y), {"rounding_mode": "floor"}),
    ("div", (x, y), {"rounding_mode": None}),
    ("div", (x, 2), {"rounding_mode": "nope"}),
    ("clamp", (x,), {"min": 0.0}),
    ("clamp", (x, None, 1)),
    ("clamp", (x,), {"min": y}),
    ("clamp", (x, y, None), {}),
    ("where", (mask, x, y), {}),
    ("where", (mask, x, 0.0), {}),
    ("where", (mask, 1.0, 0.0), {}),
    ("masked_fill", (x, mask, 7), {}),
    ("select", (x, 0, 1), {}),
    ("select", (x, Index(1), -1), {}),
    ("select", (x, 0, 5), {}),
    ("select", (x, 0, True), {}),
    ("softmax", (x, 1), {}),
    ("softmax", (x, 1), {"dtype": sy.float64}),
    ("softmax", (x, 1.0), {}),
    ("cumsum", (i, 0), {"dtype": sy.float32}),
    ("sum", (x,), {"dtype": sy.float64}),
    ("sum", (x,), {"dtype": "float"}),
    ("argmax", (x,), {}),
    ("argmax", (x,), {"dim": 1, "keepdim": True}),
    ("argmax", (x,), {"dim": 1, "keepdim": 1}),
    ("full_like", (x, 3), {"dtype": sy.int64}),
    ("full_like", (x, 3), {"device": "meta"}),
    ("full_like", (x, 3), {"device": "nowhere"}),
    ("pow", (2, x), {}),
    ("pow", (x, 2), {}),
    ("lerp", (x, y, 0.25), {}),
    ("neg", (x,), {}),
]


@pytest.mark.parametrize("name, args, kwargs", [c if len(c) == 3 else (*c, {}) for c in CALLS],
                         ids=lambda v: repr(v)[:40] if not isinstance(v, sy.Tensor) else "T")
def test_an_unboxed_call_matches_the_boxed_one(name, args, kwargs):
    op = getattr(sy.ops.sy, name)
    unboxed = outcome(op, *args, **kwargs)
    via_boxed = outcome(op, *[boxed(a) for a in args], **{k: boxed(v) for k, v in kwargs.items()})
    assert unboxed == via_boxed


def test_tensor_methods_and_operators_take_the_same_path():
    assert (x + y).tolist() == sy.add(x, y).tolist()
    assert x.add(y, alpha=2).tolist() == sy.add(x.as_subclass(Plain), y, alpha=2).tolist()
    assert (x * 2).tolist() == (x.as_subclass(Plain) * 2).tolist()


def test_in_place_and_out_calls_return_their_own_tensor():
    a = x.clone()
    assert a.add_(y) is a
    assert a.tolist() == sy.add(x, y).tolist()
    out = sy.empty(2, 2)
    assert sy.add(x, y, out=out) is out
    assert out.tolist() == a.tolist()


def test_a_python_kernel_of_a_built_in_op_is_reached_with_boxed_arguments():
    seen = []

    def kernel(self, other, alpha):
        seen.append((type(self), type(other), alpha))
        return sy.zeros_like(self)

    lib = Library("sy", "IMPL")
    with pytest.warns(UserWarning, match="already has a kernel"):
        lib.impl("add.Tensor", kernel, "CPU")
    try:
        assert sy.add(x, y).tolist() == [[0.0, 0.0], [0.0, 0.0]]
        assert sy.add(x, y, alpha=3).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    finally:
        lib.destroy()
    assert seen == [(sy.Tensor, sy.Tensor, 1), (sy.Tensor, sy.Tensor, 3)]
    assert sy.add(x, y).tolist() == [[1.5, 0.0], [2.5, 7.0]]


def test_a_kernel_returning_a_wrong_type_is_a_type_error():
    lib = Library("sy", "IMPL")
    with pytest.warns(UserWarning):
        lib.impl("neg", lambda self: 3, "CPU")
    try:
        with pytest.raises(TypeError, match="neg"):
            sy.neg(x)
    finally:
        lib.destroy()


def test_results_die_with_their_wrappers():
    r = sy.add(x, y)
    ref = weakref.ref(r)
    del r
    gc.collect()
    assert ref() is None
    # A result C++ also holds keeps its wrapper while it does.
    r = sy.mul(x, 2)
    r.note = "kept"
    sy._C._stash(r)
    del r
    gc.collect()
    (back,) = sy._C._unstash()
    assert back.note == "kept"


def test_large_calls_release_the_gil_with_borrowed_tensors():
    a = sy.ones(1 << 16)
    b = sy.full((1 << 16,), 2.0)
    errors = []

    def work():
        try:
            for _ in range(20):
                r = sy.add(a, b, alpha=2)
                if r[0].item() != 5.0 or r[-1].item() != 5.0:
                    errors.append("wrong value")
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
