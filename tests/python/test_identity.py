"""One Python object per tensor, the hermetic flag, and no leaks."""

import gc
import resource
import weakref

import pytest

import switchyard as sy
from switchyard.library import Library


@pytest.fixture
def identity_op(ns):
    with Library(ns, "DEF") as lib:
        lib.define("identity(Tensor(a) self) -> Tensor(a)")
        lib.impl("identity", lambda s: s, "CPU")
        yield getattr(sy.ops, ns).identity


def test_round_trip_through_an_op_returns_the_same_object(identity_op):
    x = sy.tensor([1.0])
    assert identity_op(x) is x


def test_attributes_survive_a_round_trip(identity_op):
    x = sy.tensor([1.0])
    x.label = "mine"
    assert identity_op(x).label == "mine"


def test_kernel_sees_the_callers_wrapper(ns):
    seen = []
    with Library(ns, "DEF") as lib:
        lib.define("peek(Tensor self) -> ()")
        lib.impl("peek", lambda s: seen.append(s), "CPU")
        x = sy.tensor([1.0])
        getattr(sy.ops, ns).peek(x)
    assert seen[0] is x


def test_in_place_c_kernel_returns_the_same_object():
    x = sy.tensor([1.0])
    assert x.add_(1.0) is x and x.mul_(2) is x


def test_hermetic_flag_gives_fresh_wrappers_that_are_not_kept(identity_op):
    assert not sy._C._is_hermetic_pyobject()
    with sy._C._hermetic_pyobject():
        assert sy._C._is_hermetic_pyobject()
        y = sy.zeros(1)
        assert not sy._C._has_kept_wrapper(y)
        z = identity_op(y)
        assert z is not y and z.tolist() == y.tolist()
    assert not sy._C._is_hermetic_pyobject()


def test_hermetic_flag_does_not_replace_an_existing_wrapper(identity_op):
    x = sy.tensor([1.0])
    with sy._C._hermetic_pyobject():
        y = identity_op(x)
    assert y is not x and sy._C._has_kept_wrapper(x)
    del y
    assert identity_op(x) is x


def test_hermetic_kernel_gets_fresh_wrappers(ns):
    seen = []
    with Library(ns, "DEF") as lib:
        lib.define("peek(Tensor self) -> ()")
        lib.impl("peek", lambda s: seen.append((s, sy._C._is_hermetic_pyobject())), "CPU",
                 hermetic=True)
        x = sy.tensor([1.0])
        getattr(sy.ops, ns).peek(x)
    assert seen[0][0] is not x and seen[0][1]
    assert not sy._C._is_hermetic_pyobject()


def test_hermetic_flag_is_per_thread():
    import threading

    result = []
    with sy._C._hermetic_pyobject():
        t = threading.Thread(target=lambda: result.append(sy._C._is_hermetic_pyobject()))
        t.start()
        t.join()
    assert result == [False]


def test_wrapper_is_freed_with_its_last_reference():
    x = sy.tensor([1.0])
    ref = weakref.ref(x)
    del x
    assert ref() is None


def test_view_keeps_its_base_data_and_the_base_wrapper_while_it_tracks_the_base():
    x = sy.tensor([1.0, 2.0])
    ref = weakref.ref(x)
    v = x[0]
    del x
    assert v.item() == 1.0
    # With autograd's view tracking the view holds its base (v._base), so C++ holds
    # the base and the base keeps its wrapper, as in torch 1.13 (v._base is x there
    # too); without it, only the storage is shared and the base's wrapper dies.
    tracks_base = getattr(v, "_base", None) is not None
    assert (ref() is not None) == tracks_base
    if tracks_base:
        assert v._base is ref()


def test_self_referencing_wrapper_is_collected():
    x = sy.tensor([1.0])
    x.me = x
    ref = weakref.ref(x)
    del x
    gc.collect()
    assert ref() is None


def test_tensor_made_in_a_kernel_comes_back_as_its_wrapper(ns):
    stash = []
    with Library(ns, "DEF") as lib:
        lib.define("keep(Tensor self) -> Tensor")
        lib.impl("keep", lambda s: stash.append(sy.ops.sy.clone(s)) or stash[-1], "CPU")
        y = getattr(sy.ops, ns).keep(sy.tensor([3.0]))
        assert y is stash[0]


def test_wrapper_refcount_drops_to_one_c_reference():
    x = sy.tensor([1.0])
    assert sy._C._use_count(x) == 1
    y = sy.add(x, x)
    assert sy._C._use_count(x) == 1 and sy._C._use_count(y) == 1


def _rss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def test_memory_stays_flat_over_many_calls(identity_op):
    def loop(n):
        for _ in range(n):
            a = sy.zeros(256)
            b = identity_op(sy.add(a, a))
            b.tag = "x"

    loop(20000)  # warm up allocator pools and caches
    before = _rss_kb()
    loop(100000)
    grown = _rss_kb() - before
    assert grown < 4096, f"resident memory grew by {grown} KiB over 100k iterations"
