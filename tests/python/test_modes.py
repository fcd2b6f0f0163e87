"""Grad and inference mode, key guards, ThreadLocalState, sy.threading.Thread."""

import threading

import pytest

import switchyard as sy


def test_no_grad_and_enable_grad_nest_and_restore():
    assert sy.is_grad_enabled()
    with sy.no_grad():
        assert not sy.is_grad_enabled()
        with sy.enable_grad():
            assert sy.is_grad_enabled()
        assert not sy.is_grad_enabled()
    assert sy.is_grad_enabled()


def test_no_grad_restores_when_an_exception_passes():
    with pytest.raises(KeyError):
        with sy.no_grad():
            raise KeyError()
    assert sy.is_grad_enabled()


def test_modes_as_decorators():
    @sy.no_grad()
    def inside():
        return sy.is_grad_enabled()

    @sy.inference_mode()
    def inference():
        return sy.is_inference_mode_enabled(), sy.zeros(1).is_inference()

    assert inside() is False and sy.is_grad_enabled()
    assert inference() == (True, True) and not sy.is_inference_mode_enabled()
    assert inside.__name__ == "inside"


def test_decorated_function_is_reentrant():
    @sy.no_grad()
    def recurse(n):
        return sy.is_grad_enabled() if n == 0 else recurse(n - 1)

    assert recurse(3) is False and sy.is_grad_enabled()


def test_inference_mode_excludes_autograd_keys_and_marks_tensors():
    with sy.inference_mode():
        assert sy._C._is_dispatch_key_excluded("AutogradCPU")
        assert sy.zeros(1).is_inference()
        with sy.inference_mode(False):
            assert not sy.is_inference_mode_enabled()
    assert not sy._C._is_dispatch_key_excluded("AutogradCPU")
    assert not sy.zeros(1).is_inference()


def test_set_grad_enabled_acts_at_once_and_restores_as_a_context():
    with sy.set_grad_enabled(False):
        assert not sy.is_grad_enabled()
    assert sy.is_grad_enabled()
    sy.set_grad_enabled(False)
    assert not sy.is_grad_enabled()
    sy.set_grad_enabled(True)
    assert sy.is_grad_enabled()


def test_include_and_exclude_guards():
    with sy._C._IncludeDispatchKeyGuard("Tracer"):
        assert sy._C._is_dispatch_key_included("Tracer")
        with sy._C._ExcludeDispatchKeyGuard(["Tracer", "Python"]):
            assert sy._C._is_dispatch_key_excluded("Tracer")
            assert sy._C._is_dispatch_key_excluded("Python")
        assert not sy._C._is_dispatch_key_excluded("Tracer")
    assert not sy._C._is_dispatch_key_included("Tracer")
    with pytest.raises(ValueError):
        sy._C._IncludeDispatchKeyGuard("NotAKey")


def _in_thread(fn):
    result = []
    t = threading.Thread(target=lambda: result.append(fn()))
    t.start()
    t.join()
    return result[0]


def test_plain_thread_does_not_inherit_no_grad():
    with sy.no_grad():
        assert _in_thread(sy.is_grad_enabled) is True


def test_thread_local_state_captured_here_and_entered_there():
    with sy.no_grad(), sy._C._ExcludeDispatchKeyGuard("Python"):
        state = sy.ThreadLocalState()
    assert not state.grad_enabled

    def worker():
        with state:
            inside = (sy.is_grad_enabled(), sy._C._is_dispatch_key_excluded("Python"))
        return inside, (sy.is_grad_enabled(), sy._C._is_dispatch_key_excluded("Python"))

    assert _in_thread(worker) == ((False, True), (True, False))


def test_sy_thread_carries_the_creators_state():
    result = []
    with sy.inference_mode():
        t = sy.threading.Thread(
            target=lambda: result.append((sy.is_grad_enabled(), sy.is_inference_mode_enabled())))
    t.start()
    t.join()
    assert result == [(False, True)]


def test_sy_thread_created_outside_a_mode_has_defaults():
    result = []
    t = sy.threading.Thread(target=lambda: result.append(sy.is_grad_enabled()))
    with sy.no_grad():
        t.start()
        t.join()
    assert result == [True]
