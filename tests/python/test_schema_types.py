"""Schemas as native_functions.yaml writes them, tags on define, and overriding kernels."""

import warnings

import pytest

import switchyard as sy
from switchyard.library import Library


def op(ns, name):
    return getattr(getattr(sy.ops, ns), name)


def test_native_functions_yaml_types_define_and_take_their_values(ns):
    with Library(ns, "DEF") as lib:
        lib.define("make(SymInt[] size, *, Generator? generator=None, ScalarType? dtype=None, "
                   "Layout? layout=None, Device? device=None, "
                   "MemoryFormat? memory_format=None) -> Tensor")
        seen = []

        def make(size, *, generator, dtype, layout, device, memory_format):
            seen.append((generator, layout, memory_format))
            return sy.zeros(size, dtype=dtype)

        lib.impl("make", make, "CompositeExplicitAutograd")
        out = op(ns, "make")([2, 3], dtype=sy.int64, layout=sy.strided,
                              memory_format=sy.channels_last)
        assert out.shape == (2, 3) and out.dtype is sy.int64
        # Layout and MemoryFormat travel as ints, as in PyTorch.
        assert seen == [(None, 0, 2)]
        assert "SymInt" not in op(ns, "make").default._schema  # read as int[]
        with pytest.raises(TypeError, match="generator"):
            op(ns, "make")([2], generator=1)
        with pytest.raises(TypeError, match="layout"):
            op(ns, "make")([2], layout="strided")


def test_generator_must_be_optional(ns):
    with Library(ns, "DEF") as lib, pytest.raises(sy.SchemaError, match="Generator"):
        lib.define("f(Generator g) -> Tensor")


def test_layout_and_memory_format_objects():
    assert repr(sy.strided) == "sy.strided"
    assert repr(sy.contiguous_format) == "sy.contiguous_format"
    assert isinstance(sy.channels_last, sy.memory_format)
    assert isinstance(sy.strided, sy.layout)


def test_define_with_tags(ns):
    with Library(ns, "DEF") as lib:
        lib.define("f(Tensor self) -> Tensor", tags=(sy.Tag.pointwise, sy.Tag.nondeterministic))
        lib.define("g(Tensor self) -> Tensor", tags=sy.Tag.view)
        lib.define("h(Tensor self) -> Tensor")
        assert op(ns, "f").default.tags == [sy.Tag.pointwise, sy.Tag.nondeterministic]
        assert op(ns, "g").default.tags == [sy.Tag.view]
        assert op(ns, "h").default.tags == []


def test_built_in_ops_carry_their_tags():
    assert sy.Tag.pointwise in sy.ops.sy.add.Tensor.tags
    assert sy.Tag.inplace in sy.ops.sy.add_.Tensor.tags
    assert sy.Tag.reduction in sy.ops.sy.sum.default.tags


def test_overriding_a_built_in_kernel_warns_and_destroying_restores():
    x = sy.tensor([1.0, 2.0])
    lib = Library("sy", "IMPL")
    with pytest.warns(UserWarning, match="sy::neg already has a kernel for CPU"):
        lib.impl("neg", lambda self: sy.zeros_like(self), "CPU")
    assert sy.neg(x).tolist() == [0.0, 0.0]
    lib.destroy()
    assert sy.neg(x).tolist() == [-1.0, -2.0]


def test_overriding_a_python_kernel_names_both_sites(ns):
    with Library(ns, "DEF") as lib:
        lib.define("f(Tensor self) -> Tensor")
        lib.impl("f", lambda self: self, "CPU")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with Library(ns, "IMPL") as other:
                other.impl("f", lambda self: sy.add(self, 1), "CPU")
                assert op(ns, "f")(sy.tensor([1.0])).item() == 2.0
        assert len(caught) == 1
        text = str(caught[0].message)
        assert "first:  " + __file__ + ":" in text and "second: " + __file__ + ":" in text, text
        assert op(ns, "f")(sy.tensor([1.0])).item() == 1.0
