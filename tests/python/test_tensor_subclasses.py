"""Tensor subclasses: plain ones (attributes, methods, result types) and ones with
a classmethod __sy_dispatch__ (the Python key), side by side with torch 1.13."""

import pytest

import switchyard as sy
from switchyard.utils.python_dispatch import DispatchMode

torch = pytest.importorskip("torch")


# ---- plain subclasses ---------------------------------------------------------------------------

class Tagged(sy.Tensor):
    def twice(self):
        return self * 2


class MoreTagged(Tagged):
    pass


class Other(sy.Tensor):
    pass


def test_a_subclass_instance_is_a_tensor_with_attributes_and_methods():
    x = sy.tensor([1.0, 2.0]).as_subclass(Tagged)
    x.label = "mine"
    assert isinstance(x, Tagged) and isinstance(x, sy.Tensor) and type(x) is Tagged
    assert x.label == "mine" and x.twice().tolist() == [2.0, 4.0]
    assert x.shape == (2,) and x.dtype is sy.float32


def test_as_subclass_shares_the_data():
    base = sy.zeros(3)
    x = base.as_subclass(Tagged)
    x[0] = 5.0
    assert base.tolist() == [5.0, 0.0, 0.0] and x is not base


def test_a_subclass_cannot_be_constructed_directly_and_as_subclass_checks_its_argument():
    with pytest.raises(TypeError):
        Tagged()
    with pytest.raises(TypeError, match="subclass of sy.Tensor"):
        sy.ones(1).as_subclass(int)


def _types(m, base, a_cls, b_cls):
    class TA(base):
        pass

    class TB(TA if b_cls == "derived" else base):
        pass

    a = m.ones(2).as_subclass(TA) if a_cls else m.ones(2)
    b = m.ones(2).as_subclass(TB) if b_cls else m.ones(2)
    names = {TA: "TA", TB: "TB", base: "base"}
    return [names.get(type(r), type(r).__name__) for r in
            (a + b, b + a, a * 2, a.sum(), b.neg(), a.view(2), m.add(b, a, alpha=2))]


@pytest.mark.parametrize("a_cls, b_cls", [(True, None), (None, "unrelated"), (True, "derived")])
def test_result_types_follow_torch_s_rules(a_cls, b_cls):
    assert _types(sy, sy.Tensor, a_cls, b_cls) == _types(torch, torch.Tensor, a_cls, b_cls)


def test_unrelated_subclasses_in_one_call_are_a_type_error_as_in_torch():
    for m, base in ((torch, torch.Tensor), (sy, sy.Tensor)):
        A = type("A", (base,), {})
        B = type("B", (base,), {})
        with pytest.raises(TypeError, match="A.*B"):
            m.add(m.ones(1).as_subclass(A), m.ones(1).as_subclass(B))


def test_an_in_place_op_returns_the_same_object():
    x = sy.ones(2).as_subclass(Tagged)
    y = x.add_(1)
    assert y is x and type(y) is Tagged and x.tolist() == [2.0, 2.0]


def test_plain_results_stay_plain():
    assert type(sy.ones(2) + sy.ones(2)) is sy.Tensor


# ---- __sy_dispatch__ subclasses -------------------------------------------------------------------

def _tree_map(fn, value):
    if isinstance(value, (list, tuple)):
        return type(value)(_tree_map(fn, v) for v in value)
    if isinstance(value, dict):
        return {k: _tree_map(fn, v) for k, v in value.items()}
    return fn(value)


def make_logging_tensor(m, base, hook):
    class LoggingTensor(base):
        log = []

        @staticmethod
        def __new__(cls, elem):
            r = base._make_wrapper_subclass(cls, elem.shape, dtype=elem.dtype, device=elem.device)
            r.elem = elem
            return r

        def __repr__(self):
            return f"LoggingTensor({self.elem!r})"

        @classmethod
        def handler(cls, func, types, args=(), kwargs=None):
            cls.log.append(func.name().split("::")[1])
            unwrap = lambda x: x.elem if isinstance(x, cls) else x  # noqa: E731
            wrap = lambda x: cls(x) if isinstance(x, base) else x  # noqa: E731
            out = func(*_tree_map(unwrap, args), **_tree_map(unwrap, kwargs or {}))
            return _tree_map(wrap, out)

    setattr(LoggingTensor, hook, LoggingTensor.handler)
    if base is not sy.Tensor:
        LoggingTensor.__torch_function__ = torch._C._disabled_torch_function_impl
    return LoggingTensor


def test_every_op_on_a_wrapper_subclass_reaches_its_handler_as_in_torch():
    logs = []
    for m, base, hook in ((torch, torch.Tensor, "__torch_dispatch__"),
                          (sy, sy.Tensor, "__sy_dispatch__")):
        LT = make_logging_tensor(m, base, hook)
        a, b = LT(m.ones(2, 3)), LT(m.ones(3, 4))
        out = m.relu(m.matmul(a, b) + 1).sum()
        assert type(out) is LT and out.elem.item() == 32.0
        logs.append(LT.log)
    assert logs[0] == logs[1] == ["mm", "add.Tensor", "relu", "sum"]


def test_a_wrapper_subclass_reports_its_metadata_and_holds_no_data():
    LT = make_logging_tensor(sy, sy.Tensor, "__sy_dispatch__")
    t = LT(sy.ones(2, 3, dtype=sy.float64))
    assert t.shape == (2, 3) and t.dtype is sy.float64
    assert t.device == sy.device("cpu") and not t.is_meta
    assert isinstance(t, sy.Tensor) and t.elem.tolist() == [[1.0] * 3] * 2


def test_a_mixed_call_reaches_the_subclass_and_the_result_survives_the_trip():
    LT = make_logging_tensor(sy, sy.Tensor, "__sy_dispatch__")
    out = LT(sy.ones(2)) * sy.full((2,), 3.0)
    assert type(out) is LT and out.elem.tolist() == [3.0, 3.0]
    assert LT.log == ["mul.Tensor"]


def test_a_mode_sees_the_op_before_the_subclass_and_gets_its_type():
    LT = make_logging_tensor(sy, sy.Tensor, "__sy_dispatch__")
    seen = []

    class Spy(DispatchMode):
        def __sy_dispatch__(self, func, types, args=(), kwargs=None):
            seen.append((func.name(), types))
            return func(*args, **(kwargs or {}))

    a = LT(sy.ones(2))
    with Spy():
        out = a.neg()
    assert seen == [("sy::neg", (LT,))] and LT.log == ["neg"] and type(out) is LT


def test_notimplemented_passes_to_the_next_type_and_all_of_them_is_a_type_error():
    class Declines(sy.Tensor):
        @classmethod
        def __sy_dispatch__(cls, func, types, args=(), kwargs=None):
            return NotImplemented

    class Handles(sy.Tensor):
        @classmethod
        def __sy_dispatch__(cls, func, types, args=(), kwargs=None):
            plain = [a.as_subclass(sy.Tensor) if isinstance(a, sy.Tensor) else a for a in args]
            with sy._C._ExcludeDispatchKeyGuard("Python"):
                return func(*plain, **(kwargs or {}))

    d, h = sy.ones(2).as_subclass(Declines), sy.ones(2).as_subclass(Handles)
    assert (d + h).tolist() == [2.0, 2.0]
    with pytest.raises(TypeError, match="returned NotImplemented.*Declines"):
        d + d


def test_a_subclass_handler_that_raises_leaves_the_thread_as_it_was():
    class Raises(sy.Tensor):
        @classmethod
        def __sy_dispatch__(cls, func, types, args=(), kwargs=None):
            raise ValueError("no " + func.name())

    x = sy.ones(2).as_subclass(Raises)
    with pytest.raises(ValueError, match="no sy::neg"):
        x.neg()
    assert not sy._C._is_dispatch_key_included("Python")
    assert not sy._C._is_dispatch_key_excluded("Autograd" if False else "Tracer")
