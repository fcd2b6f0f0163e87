"""sy.ops: overload resolution and argument parsing from schemas."""

import pytest

import switchyard as sy
from switchyard.library import Library


@pytest.fixture
def lib(ns):
    with Library(ns, "DEF") as lib:
        yield lib


def test_packet_picks_the_overload_from_argument_types():
    a = sy.tensor([1.0, 2.0])
    assert sy.ops.sy.add(a, a).tolist() == [2.0, 4.0]  # add.Tensor
    assert sy.ops.sy.add(a, 3).tolist() == [4.0, 5.0]  # add.Scalar


def test_named_overloads_and_default(lib, ns):
    lib.define("f(Tensor self) -> Tensor")
    lib.define("f.twice(Tensor self, int n) -> Tensor")
    lib.impl("f", lambda s: s, "CPU")
    lib.impl("f.twice", lambda s, n: sy.mul(s, n), "CPU")
    packet = getattr(sy.ops, ns).f
    x = sy.tensor([1.0])
    assert packet.default(x) is x
    assert packet.twice(x, 3).tolist() == [3.0]
    assert sorted(packet.overloads()) == ["default", "twice"]
    assert packet.twice._schema == f"{ns}::f.twice(Tensor self, int n) -> Tensor"
    with pytest.raises(AttributeError, match="no overload 'nope'"):
        packet.nope


def test_keyword_and_default_arguments(lib, ns):
    lib.define("scale(Tensor self, float factor=2.0, *, int offset=0) -> Tensor")
    lib.impl("scale", lambda s, factor, *, offset: sy.add(sy.mul(s, factor), offset), "CPU")
    op = getattr(sy.ops, ns).scale
    x = sy.tensor([1.0])
    assert op(x).tolist() == [2.0]
    assert op(x, 3.0).tolist() == [3.0]
    assert op(x, factor=4).tolist() == [4.0]
    assert op(self=x, offset=1).tolist() == [3.0]


def test_keyword_only_argument_cannot_be_positional(lib, ns):
    lib.define("g(Tensor self, *, int k) -> Tensor")
    lib.impl("g", lambda s, *, k: s, "CPU")
    with pytest.raises(TypeError, match="positional"):
        getattr(sy.ops, ns).g(sy.tensor([1.0]), 1)
    with pytest.raises(TypeError, match="missing argument 'k'"):
        getattr(sy.ops, ns).g(sy.tensor([1.0]))


def test_type_error_lists_every_schema_and_why():
    with pytest.raises(TypeError) as info:
        sy.ops.sy.add(sy.tensor([1.0]), "x")
    text = str(info.value)
    assert "sy::add.Tensor(Tensor self, Tensor other" in text
    assert "sy::add.Scalar(Tensor self, Scalar other" in text
    assert "argument 'other' must be Tensor, not str" in text


def test_unexpected_and_duplicate_keywords_are_type_errors():
    a = sy.tensor([1.0])
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        sy.ops.sy.add(a, a, bogus=1)
    with pytest.raises(TypeError, match="multiple values"):
        sy.ops.sy.add(a, a, other=a)


def test_out_overload_is_chosen_by_the_out_keyword():
    a, out = sy.tensor([1.0, 2.0]), sy.zeros(2)
    r = sy.ops.sy.add(a, a, out=out)
    assert r is out and out.tolist() == [2.0, 4.0]


def test_in_place_overload_returns_the_same_object():
    a = sy.tensor([1.0])
    assert sy.ops.sy.add_(a, a) is a and a.item() == 2.0


def test_bools_are_not_ints_and_ints_are_floats(lib, ns):
    lib.define("h(Tensor self, int i, float f, bool b) -> Tensor")
    seen = []
    lib.impl("h", lambda s, i, f, b: seen.append((i, f, b)) or s, "CPU")
    op = getattr(sy.ops, ns).h
    op(sy.tensor([1.0]), 1, 2, True)
    assert seen == [(1, 2.0, True)] and isinstance(seen[0][1], float)
    with pytest.raises(TypeError, match="argument 'i' must be int, not bool"):
        op(sy.tensor([1.0]), True, 2.0, True)


def test_list_dtype_device_and_optional_arguments(lib, ns):
    lib.define("k(int[] sizes, ScalarType? dtype=None, Device device=\"cpu\", float[] w=[]) -> int[]")
    seen = []
    lib.impl("k", lambda sizes, dtype, device, w: seen.append((sizes, dtype, device, w)) or sizes,
             "CompositeExplicitAutograd")
    op = getattr(sy.ops, ns).k
    assert op([2, 3], sy.int32, "meta", [1, 2.5]) == [2, 3]
    assert op((4,)) == [4]
    assert seen[0][1] is sy.int32 and seen[0][2] == "meta" and seen[0][3] == [1.0, 2.5]
    assert seen[1][1] is None


def test_int_list_accepts_varargs_like_pytorch():
    t = sy.zeros(6)
    assert sy.ops.sy.view(t, 2, 3).shape == (2, 3)
    assert t.reshape(3, 2).shape == (3, 2)


def test_no_tensor_arguments_use_the_composite_kernel():
    assert sy.ops.sy.zeros([2], dtype=sy.int64).tolist() == [0, 0]


def test_unknown_op_and_namespace_are_attribute_errors():
    with pytest.raises(AttributeError):
        sy.ops.sy.definitely_not_an_op
    with pytest.raises(AttributeError):
        sy.ops.no_such_namespace_xyz.f


def test_packet_binds_as_a_method():
    a = sy.tensor([1.0])
    assert a.add(a).item() == 2.0
    assert sy.Tensor.add is sy.ops.sy.add


def test_tuple_returns_become_python_tuples(lib, ns):
    lib.define("pair(Tensor self) -> (Tensor, Tensor)")
    lib.impl("pair", lambda s: (s, sy.neg(s)), "CPU")
    x = sy.tensor([1.0])
    first, second = getattr(sy.ops, ns).pair(x)
    assert first is x and second.item() == -1.0


def test_op_defined_after_the_packet_was_cached_is_found(lib, ns):
    lib.define("late(Tensor self) -> Tensor")
    lib.impl("late", lambda s: s, "CPU")
    packet = getattr(sy.ops, ns).late
    lib.define("late.extra(Tensor self, int n) -> Tensor")
    lib.impl("late.extra", lambda s, n: sy.mul(s, n), "CPU")
    assert packet(sy.tensor([2.0]), 2).item() == 4.0
