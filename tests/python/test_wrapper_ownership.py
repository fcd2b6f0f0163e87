"""The wrapper survives a trip through C++ (DESIGN.md, "Python wrappers and their owner").

The impl holds its wrapper strongly while C++ holds more than one reference,
driven by the reference count; so a tensor that only C++ holds for a while comes
back as the same object, subclass and attributes included, and nothing leaks.
"""

import gc
import threading
import weakref

import pytest

import switchyard as sy


class Tagged(sy.Tensor):
    """A plain subclass (no __sy_dispatch__): attributes and methods only."""

    def twice(self):
        return self * 2


def test_an_attribute_survives_a_period_held_only_by_cpp():
    x = sy.ones(3)
    x.note = "kept"
    sy._C._stash(x)
    ident = id(x)
    del x
    gc.collect()
    (back,) = sy._C._unstash()
    assert id(back) == ident and back.note == "kept"


def test_a_subclass_instance_survives_a_period_held_only_by_cpp():
    x = sy.ones(3).as_subclass(Tagged)
    x.label = "mine"
    sy._C._stash(x)
    del x
    gc.collect()
    (back,) = sy._C._unstash()
    assert type(back) is Tagged and back.label == "mine"
    assert back.twice().tolist() == [2.0, 2.0, 2.0]


def test_a_graph_constant_comes_back_as_the_same_object():
    c = sy.tensor([1.0, 2.0])
    c.origin = "closure"
    with pytest.warns(UserWarning, match="constant"):
        graph = sy.trace(lambda x: (x + c, c), (sy.ones(2),))
    del c
    gc.collect()
    _, again = graph(sy.ones(2))
    assert getattr(again, "origin", None) == "closure"


def test_a_weakref_stays_alive_while_cpp_holds_the_tensor_and_dies_after():
    x = sy.ones(2)
    ref = weakref.ref(x)
    sy._C._stash(x)
    del x
    gc.collect()
    assert ref() is not None
    sy._C._unstash()
    gc.collect()
    assert ref() is None


def test_the_wrapper_dies_with_the_last_python_reference_when_cpp_holds_none():
    x = sy.ones(2)
    ref = weakref.ref(x)
    assert sy._C._use_count(x) == 1
    del x
    assert ref() is None


def test_a_cycle_through_the_attribute_dict_is_collected():
    x = sy.ones(2)
    x.me = x
    ref = weakref.ref(x)
    del x
    gc.collect()
    assert ref() is None


def test_a_cycle_is_kept_while_cpp_holds_the_tensor_and_collected_after():
    x = sy.ones(2)
    x.me = x
    ref = weakref.ref(x)
    sy._C._stash(x)
    del x
    gc.collect()
    assert ref() is not None and ref().me is ref()
    sy._C._unstash()
    gc.collect()
    assert ref() is None


def test_the_impl_holds_its_wrapper_only_while_cpp_holds_more_than_one_reference():
    x = sy.ones(2)
    base = sy._C._refcount_of_wrapper(x)
    sy._C._stash(x)
    assert sy._C._refcount_of_wrapper(x) == base + 1
    sy._C._unstash()
    assert sy._C._refcount_of_wrapper(x) == base


def test_views_and_ops_results_keep_working_and_free_their_memory():
    x = sy.ones(1000)
    for _ in range(2000):
        y = x[1:]
        z = y + 1
        z.tag = 1
    assert sy._C._use_count(x) >= 1


def test_a_cpp_reference_dropped_on_another_thread_releases_the_wrapper():
    x = sy.ones(2)
    ref = weakref.ref(x)
    sy._C._stash(x)
    del x
    t = threading.Thread(target=sy._C._unstash)
    t.start()
    t.join()
    gc.collect()
    assert ref() is None


def test_hermetic_wrappers_are_never_kept():
    x = sy.ones(2)
    sy._C._stash(x)
    with sy._C._hermetic_pyobject():
        (y,) = sy._C._unstash()
    assert y is not x and not sy._C._has_kept_wrapper(y)
    assert sy._C._has_kept_wrapper(x)


def test_a_cpp_reference_dropped_on_a_pool_thread_without_the_gil_releases_the_wrapper():
    x = sy.ones(2)
    x.tag = "kept"
    ref = weakref.ref(x)
    sy._C._stash(x)
    del x
    assert ref() is not None and ref().tag == "kept"  # the impl holds it for C++
    sy._C._unstash_on_pool()  # 2 -> 1 on a thread that takes the GIL to let go
    gc.collect()
    assert ref() is None


def test_copies_on_a_pool_thread_take_and_give_back_the_wrappers_hold():
    x = sy.ones(2)
    base = sy._C._refcount_of_wrapper(x)
    sy._C._copy_on_pool(x, 1000)  # each copy crosses one: hold, then let go
    assert sy._C._refcount_of_wrapper(x) == base
    assert sy._C._use_count(x) == 1
    sy._C._stash(x)
    sy._C._copy_on_pool(x, 1000)  # above one already: no crossing
    assert sy._C._refcount_of_wrapper(x) == base + 1
    assert sy._C._unstash()[0] is x


def test_crossings_from_many_threads_at_once_leave_the_counts_as_they_were():
    x = sy.ones(2)
    x.tag = "kept"
    base = sy._C._refcount_of_wrapper(x)
    threads = [threading.Thread(target=sy._C._copy_on_pool, args=(x, 3000)) for _ in range(4)]
    for t in threads:
        t.start()
    for _ in range(3000):
        y = x + 1  # the main thread's own copies, with the GIL
        sy._C._stash(x)
        sy._C._unstash()
    for t in threads:
        t.join()
    assert y.tolist() == [2.0, 2.0]
    assert sy._C._refcount_of_wrapper(x) == base
    assert sy._C._use_count(x) == 1 and x.tag == "kept"
