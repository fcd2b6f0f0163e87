"""sy._C._dispatch_dump, _dispatch_dump_table, _dispatch_explain."""

import pytest

import switchyard as sy
from switchyard.library import Library


def test_dump_names_schema_and_kernel_sites(ns):
    with Library(ns, "DEF") as lib:
        lib.define("f(Tensor self) -> Tensor")
        lib.impl("f", lambda s: s, "CPU")
        text = sy._C._dispatch_dump(f"{ns}::f")
    assert f"schema: {ns}::f(Tensor self) -> Tensor" in text
    assert "CPU: kernel" in text and "test_introspection.py" in text


def test_dump_table_shows_every_runtime_key(ns):
    with Library(ns, "DEF") as lib:
        lib.define("f(Tensor self) -> Tensor")
        lib.impl("f", lambda s: s, "Meta")
        table = sy._C._dispatch_dump_table(f"{ns}::f")
    assert "Meta: the kernel for Meta" in table
    assert "CPU: missing" in table
    assert "AutogradCPU: fallthrough" in table


def test_explain_picks_the_overload_from_the_arguments():
    a = sy.tensor([1.0])
    text = sy._C._dispatch_explain("sy::add", a, 2)
    assert text.startswith("explain sy::add.Scalar(")
    assert "chosen key:          CPU" in text


def test_explain_shows_thread_keys_and_requires_grad():
    a = sy.tensor([1.0], requires_grad=True)
    with sy._C._ExcludeDispatchKeyGuard("Tracer"):
        text = sy._C._dispatch_explain("sy::neg", a)
    assert "AutogradCPU" in text and "thread excluded:     {Tracer}" in text


def test_explain_unknown_op_is_an_error():
    with pytest.raises(sy.DispatchError):
        sy._C._dispatch_explain("sy::no_such_op", sy.tensor([1.0]))


def test_dump_unknown_op_is_an_error():
    with pytest.raises(sy.Error):
        sy._C._dispatch_dump("sy::no_such_op")
