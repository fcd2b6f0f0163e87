"""Dispatch modes: switchyard.utils.python_dispatch.DispatchMode, side by side with torch 1.13."""

import threading

import pytest

import switchyard as sy
from switchyard.utils.python_dispatch import DispatchMode, active_modes

torch = pytest.importorskip("torch")
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402


class Logging(DispatchMode):
    def __init__(self):
        self.seen = []

    def __sy_dispatch__(self, func, types, args=(), kwargs=None):
        self.seen.append(func.name())
        return func(*args, **(kwargs or {}))


class TorchLogging(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.seen = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.seen.append(func.name())
        return func(*args, **(kwargs or {}))


def _same_ops(torch_names, sy_names):
    assert [n.replace("aten::", "") for n in torch_names] == [n.replace("sy::", "") for n in sy_names]


# ---- what a mode sees -------------------------------------------------------------------------

PROGRAMS = {
    "mlp layer": lambda m, x, w, b: m.relu(m.matmul(x, w) + b).sum(),
    "softmax": lambda m, x, w, b: m.softmax(x, -1),
    "methods and scalars": lambda m, x, w, b: (x * 2).sum(0, keepdim=True),
    # (not x.t(): sy::t is a composite of transpose, where aten::t has kernels of its own)
    "mm and transpose": lambda m, x, w, b: m.mm(x, w).transpose(0, 1),
    "alpha kwarg": lambda m, x, w, b: m.add(x, x, alpha=2),
    "elementwise": lambda m, x, w, b: m.exp(m.tanh(x)) - m.sigmoid(x),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_a_logging_mode_sees_the_ops_torch_s_sees(name):
    program = PROGRAMS[name]
    tx, tw, tb = torch.ones(2, 3), torch.ones(3, 4), torch.ones(4)
    sx, sw, sb = sy.ones(2, 3), sy.ones(3, 4), sy.ones(4)
    with TorchLogging() as tm:
        expected = program(torch, tx, tw, tb)
    with Logging() as sm:
        got = program(sy, sx, sw, sb)
    _same_ops(tm.seen, sm.seen)
    assert (abs(got.numpy() - expected.numpy()) < 1e-5).all()


def test_composites_are_decomposed_before_the_mode_sees_them():
    assert "CompositeImplicitAutograd" in sy._C._dispatch_dump("sy::matmul")
    a, b = sy.ones(2, 3), sy.ones(3, 4)
    with Logging() as m:
        sy.matmul(a, b)
    assert "sy::matmul" not in m.seen and m.seen == ["sy::mm"]


def test_factories_reach_the_mode():
    with Logging() as m:
        sy.ones(2)
        sy.zeros(3, dtype=sy.float64)
    assert m.seen == ["sy::ones", "sy::zeros"]


def test_args_and_kwargs_are_passed_as_torch_passes_them():
    calls = []

    class Record(DispatchMode):
        def __sy_dispatch__(self, func, types, args=(), kwargs=None):
            calls.append((str(func), types, len(args), kwargs))
            return func(*args, **kwargs)

    class TorchRecord(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            calls.append((str(func), types, len(args), kwargs))
            return func(*args, **kwargs)

    def run(m, mode):
        x = m.ones(2, 3)
        with mode:
            m.add(x, x, alpha=2)
            m.add(x, x)
            x.sum()
            x.sum(1, keepdim=True)
            m.softmax(x, 1)

    run(torch, TorchRecord())
    torch_calls, calls[:] = list(calls), []
    run(sy, Record())
    assert [(n.replace("aten.", ""), t, k, kw) for n, t, k, kw in torch_calls] == [
        (n.replace("sy.", ""), t, k, kw) for n, t, k, kw in calls
    ]


def test_func_is_the_op_overload():
    got = {}

    class Inspect(DispatchMode):
        def __sy_dispatch__(self, func, types, args=(), kwargs=None):
            got.update(func=func, name=func.name(), schema=func._schema, packet=func.overloadpacket,
                       tags=func.tags, text=str(func))
            return func(*args, **kwargs)

    x = sy.ones(2)
    with Inspect():
        r = sy.add(x, x)
    assert got["func"] is sy.ops.sy.add.Tensor
    assert got["name"] == "sy::add.Tensor" and got["text"] == "sy.add.Tensor"
    assert got["schema"].startswith("sy::add.Tensor(Tensor self, Tensor other")
    assert got["packet"] is sy.ops.sy.add
    assert isinstance(got["tags"], list)
    assert r.tolist() == [2.0, 2.0]


def test_a_mode_can_change_results():
    class AddIsMul(DispatchMode):
        def __sy_dispatch__(self, func, types, args=(), kwargs=None):
            if func is sy.ops.sy.add.Tensor:
                return sy.mul(args[0], args[1])
            return func(*args, **kwargs)

    x = sy.tensor([3.0])
    with AddIsMul():
        assert (x + x).item() == 9.0
    assert (x + x).item() == 6.0


# ---- the stack ----------------------------------------------------------------------------------

def test_the_mode_is_off_inside_its_own_handler():
    inner_calls = []

    class Reentrant(DispatchMode):
        def __sy_dispatch__(self, func, types, args=(), kwargs=None):
            inner_calls.append(func.name())
            sy.ones(1)  # does not come back here
            assert active_modes() == []
            return func(*args, **kwargs)

    x = sy.tensor([1.0])
    with Reentrant() as m:
        assert active_modes() == [m]
        x.neg()
    assert inner_calls == ["sy::neg"]


def test_modes_nest_inner_first_then_outer():
    order = []

    class Named(DispatchMode):
        def __init__(self, name):
            self.name = name

        def __sy_dispatch__(self, func, types, args=(), kwargs=None):
            order.append((self.name, func.name()))
            return func(*args, **kwargs)

    x = sy.ones(2)
    with Named("outer") as outer, Named("inner") as inner:
        assert active_modes() == [outer, inner]
        x.neg()
    assert order == [("inner", "sy::neg"), ("outer", "sy::neg")]
    assert active_modes() == []


def test_nesting_matches_torch():
    log = []

    def make(base, method):
        class M(base):
            def __init__(self, name):
                super().__init__()
                self.name = name

        def handler(self, func, types, args=(), kwargs=None):
            log.append((self.name, func.name().split("::")[1]))
            return func(*args, **(kwargs or {}))

        setattr(M, method, handler)
        return M

    for m, base, method in ((torch, TorchDispatchMode, "__torch_dispatch__"),
                            (sy, DispatchMode, "__sy_dispatch__")):
        M = make(base, method)
        x = m.ones(2)
        with M("a"), M("b"):
            x.neg()
            with M("c"):
                x.exp()
    half = len(log) // 2
    assert log[:half] == log[half:] and len(log) == 10


def test_exiting_out_of_order_is_an_error_and_changes_nothing():
    a, b = Logging(), Logging()
    a.__enter__()
    b.__enter__()
    with pytest.raises(sy.Error, match="reverse order"):
        a.__exit__(None, None, None)
    assert active_modes() == [a, b]
    b.__exit__(None, None, None)
    a.__exit__(None, None, None)
    assert active_modes() == []
    assert not sy._C._is_dispatch_key_included("Python")


def test_exiting_a_mode_that_is_not_active_is_an_error():
    with pytest.raises(sy.Error, match="not active on this thread"):
        Logging().__exit__(None, None, None)


def test_a_handler_that_raises_restores_the_stack():
    class Raises(DispatchMode):
        def __sy_dispatch__(self, func, types, args=(), kwargs=None):
            raise KeyError("from the handler")

    x = sy.ones(1)
    with Raises() as m:
        with pytest.raises(KeyError, match="from the handler"):
            x.neg()
        assert active_modes() == [m]
        assert sy._C._is_dispatch_key_included("Python")
    assert active_modes() == [] and not sy._C._is_dispatch_key_included("Python")
    assert x.neg().tolist() == [-1.0]


@pytest.mark.parametrize("bad, match", [
    (lambda args: "a string", "returned str where the schema returns Tensor"),
    (lambda args: None, "returned NoneType"),
])
def test_a_handler_returning_the_wrong_type_is_a_type_error(bad, match):
    class Wrong(DispatchMode):
        def __sy_dispatch__(self, func, types, args=(), kwargs=None):
            return bad(args)

    x = sy.ones(1)
    with Wrong():
        with pytest.raises(TypeError, match=match) as info:
            x.neg()
    assert "sy::neg" in str(info.value) and "Wrong" in str(info.value)


def test_a_handler_returning_the_wrong_count_is_a_type_error():
    class Wrong(DispatchMode):
        def __sy_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **kwargs)
            return out[:1] if isinstance(out, tuple) else out

    x = sy.ones(2, 3)
    with Wrong():
        with pytest.raises(TypeError, match="must return a tuple of 2 values, got 1 values"):
            x.max(0)


def test_the_python_key_inclusion_is_restored_as_found():
    with sy._C._IncludeDispatchKeyGuard("Python"):
        with Logging():
            pass
        assert sy._C._is_dispatch_key_included("Python")
    assert not sy._C._is_dispatch_key_included("Python")


def test_an_object_without_a_handler_is_refused():
    with pytest.raises(TypeError, match="__sy_dispatch__"):
        sy._C._push_dispatch_mode(object())
    assert active_modes() == []


# ---- threads and pool work -----------------------------------------------------------------------

def test_sy_threading_thread_inherits_the_modes_and_a_plain_thread_does_not():
    x = sy.ones(2)
    with Logging() as m:
        t = sy.threading.Thread(target=lambda: x.neg())
        t.start()
        t.join()
        plain = threading.Thread(target=lambda: x.exp())
        plain.start()
        plain.join()
    assert m.seen == ["sy::neg"]


def test_a_mode_entered_on_one_thread_cannot_be_exited_on_another():
    m = Logging()
    m.__enter__()
    errors = []

    def other():
        try:
            m.__exit__(None, None, None)
        except sy.Error as e:
            errors.append(str(e))

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert errors and "not active on this thread" in errors[0]
    assert active_modes() == [m]
    m.__exit__(None, None, None)


def test_the_modes_follow_work_into_the_pool():
    x = sy.ones(2)
    with Logging() as m:
        sy._C._parallel_for(0, 4, 1, lambda b, e: [x.neg() for _ in range(b, e)])
        sy._C._launch_and_wait(lambda: x.exp())
    assert sorted(m.seen) == ["sy::exp"] + ["sy::neg"] * 4
    assert active_modes() == []


def test_a_snapshot_carries_the_stack():
    x = sy.ones(2)
    with Logging() as m:
        state = sy.ThreadLocalState()
    x.neg()
    with state:
        x.exp()
    assert m.seen == ["sy::exp"] and active_modes() == []


def test_modes_stay_per_thread():
    seen_elsewhere = []
    with Logging() as m:
        t = threading.Thread(target=lambda: seen_elsewhere.append(active_modes()))
        t.start()
        t.join()
    assert seen_elsewhere == [[]] and m.seen == []


def test_a_mode_entered_and_exited_inside_a_handler():
    x = sy.ones(2)
    inner = Logging()

    class EntersAnother(DispatchMode):
        def __sy_dispatch__(self, func, types, args=(), kwargs=None):
            with inner:
                out = func(*args, **kwargs)
            state = sy.ThreadLocalState()
            with state:
                x.exp()
            return out

    with EntersAnother() as outer:
        x.neg()
        x.neg()
        assert active_modes() == [outer]
    assert inner.seen == ["sy::neg", "sy::neg"] and active_modes() == []
    assert not sy._C._is_dispatch_key_included("Python")


def test_a_user_python_fallback_overrides_the_modes_while_it_lives():
    from switchyard.library import Library

    x = sy.ones(2)
    seen = []
    with Library("_", "IMPL", "Python") as lib:
        with pytest.warns(UserWarning):
            lib.fallback(lambda op, *args, **kwargs: seen.append(op.name()) or op(*args, **kwargs))
        with Logging() as m:
            x.neg()
        assert seen == ["sy::neg"] and m.seen == []
    with Logging() as m:
        x.neg()
    assert m.seen == ["sy::neg"]
