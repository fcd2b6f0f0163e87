"""The GIL: released around long C++ work, taken by Python kernels, many threads at once."""

import sys
import threading
import time

import numpy as np
import pytest

import switchyard as sy
from switchyard.library import Library


def _run_threads(n, fn):
    errors = []
    barrier = threading.Barrier(n)

    def body(i):
        try:
            barrier.wait()
            fn(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_ops_from_many_threads_give_correct_results():
    def work(i):
        a = sy.full((64,), float(i))
        for _ in range(500):
            assert sy.add(a, a).tolist()[0] == 2.0 * i

    _run_threads(8, work)


def test_python_kernels_from_many_threads(ns):
    calls = []
    with Library(ns, "DEF") as lib:
        lib.define("tag(Tensor self, int i) -> Tensor")
        lib.impl("tag", lambda s, i: calls.append(i) or s, "CPU")
        op = getattr(sy.ops, ns).tag

        def work(i):
            x = sy.tensor([float(i)])
            for _ in range(200):
                assert op(x, i) is x

        _run_threads(6, work)
    assert sorted(set(calls)) == list(range(6)) and len(calls) == 1200


def test_gil_is_released_during_a_large_cpp_call():
    """Another Python thread makes progress while a large add runs in C++."""
    a = sy.ones(1 << 22)
    out = sy.empty(1 << 22)
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0)

    t = threading.Thread(target=ticker)
    t.start()
    try:
        deadline = time.monotonic() + 5.0
        rounds = 0
        while time.monotonic() < deadline and rounds < 40:
            before = len(ticks)
            sy.add(a, a, out=out)
            rounds += 1
            if len(ticks) > before:
                break
    finally:
        stop.set()
        t.join()
    assert out[0].item() == 2.0
    assert len(ticks) > 0


def test_python_kernel_called_while_the_gil_is_released(ns):
    """A Python kernel on a large tensor: the call released the GIL, the kernel retakes it."""
    with Library(ns, "DEF") as lib:
        lib.define("big(Tensor self) -> Tensor")
        lib.impl("big", lambda s: sy.neg(s), "CPU")
        x = sy.ones(1 << 16)
        assert getattr(sy.ops, ns).big(x)[0].item() == -1.0


def test_library_destroyed_while_other_threads_call_its_op(ns):
    lib = Library(ns, "DEF")
    lib.define("f(Tensor self) -> Tensor")
    lib.impl("f", lambda s: s, "CPU")
    op = getattr(sy.ops, ns).f
    outcomes = []

    def work(i):
        x = sy.tensor([1.0])
        for _ in range(300):
            try:
                op(x)
                outcomes.append("ok")
            except sy.DispatchError as e:
                assert "removed" in str(e)
                outcomes.append("removed")
        if i == 0:
            lib.destroy()

    _run_threads(4, work)
    lib.destroy()
    assert len(outcomes) == 1200


def test_a_tensor_made_on_a_sleeping_thread_is_freed_where_it_is_dropped():
    """A worker thread's tensors are not biased to it (it may sleep for good): dropping the
    last reference on the main thread frees the storage there and then."""
    a = np.arange(4.0)
    before = sys.getrefcount(a)
    made = []
    ready, finish = threading.Event(), threading.Event()

    def worker():
        made.append(sy.from_numpy(a)[1:])
        ready.set()
        finish.wait()

    t = threading.Thread(target=worker)
    t.start()
    try:
        ready.wait()
        assert sys.getrefcount(a) > before
        made.clear()
        assert sys.getrefcount(a) == before
    finally:
        finish.set()
        t.join()


def test_a_main_thread_tensor_dropped_on_another_thread_is_freed_by_the_main_thread():
    """The main thread owns its tensors; a reference another thread drops is settled by the
    main thread the next time it makes a tensor (Note [Biased reference counts])."""
    a = np.arange(4.0)
    before = sys.getrefcount(a)
    box = [sy.from_numpy(a)]
    t = threading.Thread(target=box.clear)
    t.start()
    t.join()
    sy.empty(1)
    assert sys.getrefcount(a) == before


def test_thread_counts_can_be_read_and_set_as_in_torch():
    saved, saved_interop = sy.get_num_threads(), sy.get_num_interop_threads()
    assert saved >= 1 and saved_interop >= 1
    try:
        sy.set_num_threads(1)
        assert sy.get_num_threads() == 1
        a = sy.rand([64, 64])
        assert sy.allclose(a @ a, (a @ a).contiguous())
        sy.set_num_interop_threads(2)
        assert sy.get_num_interop_threads() == 2
        with pytest.raises(ValueError, match="at least 1"):
            sy.set_num_threads(0)
        assert sy.get_num_threads() == 1
    finally:
        sy.set_num_threads(saved)
        sy.set_num_interop_threads(saved_interop)
    assert sy.get_num_threads() == saved
