"""switchyard.library: define, impl, fallback, fallthrough, lifetime, errors."""

import gc
import itertools
import traceback
import weakref

import pytest

import switchyard as sy
from switchyard.library import Library, fallthrough_kernel, impl


def op(ns, name):
    return getattr(getattr(sy.ops, ns), name)


def test_define_and_impl_with_the_decorator(ns):
    with Library(ns, "DEF") as lib:
        assert lib.define("double(Tensor self) -> Tensor") == "double"

        @impl(lib, "double", "CPU")
        def double_cpu(self):
            return sy.add(self, self)

        assert op(ns, "double")(sy.tensor([2.0])).item() == 4.0
        assert double_cpu(sy.tensor([1.0])).item() == 2.0  # the decorator returns fn


def test_per_device_kernels_run_by_device(ns):
    calls = []
    with Library(ns, "DEF") as lib:
        lib.define("where_am_i(Tensor self) -> ()")
        lib.impl("where_am_i", lambda s: calls.append("cpu"), "CPU")
        lib.impl("where_am_i", lambda s: calls.append("meta"), "Meta")
        op(ns, "where_am_i")(sy.zeros(1))
        op(ns, "where_am_i")(sy.zeros(1, device="meta"))
    assert calls == ["cpu", "meta"]


def test_missing_kernel_names_the_op_and_key(ns):
    with Library(ns, "DEF") as lib:
        lib.define("only_cpu(Tensor self) -> Tensor")
        lib.impl("only_cpu", lambda s: s, "CPU")
        with pytest.raises(sy.DispatchError, match=f"{ns}::only_cpu.*Meta"):
            op(ns, "only_cpu")(sy.zeros(1, device="meta"))


def test_fragment_and_impl_libraries(ns):
    with Library(ns, "DEF") as d, Library(ns, "FRAGMENT") as frag, Library(ns, "IMPL", "CPU") as i:
        d.define("a(Tensor self) -> Tensor")
        frag.define("b(Tensor self) -> Tensor")
        i.impl("a", lambda s: sy.neg(s))
        i.impl("b", lambda s: sy.abs(s))
        x = sy.tensor([-3.0])
        assert op(ns, "a")(x).item() == 3.0 and op(ns, "b")(x).item() == 3.0


def test_second_def_library_for_a_namespace_is_an_error(ns):
    with Library(ns, "DEF"):
        with pytest.raises(sy.DispatchError):
            Library(ns, "DEF")


def test_bad_schema_is_a_schema_error(ns):
    with Library(ns, "DEF") as lib:
        with pytest.raises(sy.SchemaError):
            lib.define("bad(Tensor self, int) -> Tensor)")


def test_bad_kind_and_key_are_value_errors(ns):
    with pytest.raises(ValueError):
        Library(ns, "NOPE")
    with Library(ns, "DEF") as lib:
        lib.define("f(Tensor self) -> Tensor")
        with pytest.raises(ValueError, match="not a dispatch key"):
            lib.impl("f", lambda s: s, "CPUU")


def test_default_key_is_composite_implicit(ns):
    with Library(ns, "DEF") as lib:
        lib.define("f(Tensor self) -> Tensor")
        lib.impl("f", lambda s: sy.neg(s))
        assert op(ns, "f")(sy.tensor([1.0])).item() == -1.0
        assert op(ns, "f")(sy.zeros(1, device="meta")).is_meta


def test_fallthrough_kernel_skips_its_key(ns):
    with Library(ns, "DEF") as lib:
        lib.define("f(Tensor self) -> Tensor")
        lib.impl("f", lambda s: s, "CPU")
        lib.impl("f", fallthrough_kernel, "Tracer")
        x = sy.tensor([1.0])
        with sy._C._IncludeDispatchKeyGuard("Tracer"):
            assert op(ns, "f")(x) is x
        assert "fallthrough" in sy._C._dispatch_dump_table(f"{ns}::f").split("Tracer:")[1].split("\n")[0]


def test_python_fallback_sees_every_op_and_continues_below(ns):
    seen = []

    def log_and_continue(op_overload, *args, **kwargs):
        seen.append(op_overload._qualified_op_name)
        return op_overload(*args, **kwargs)  # its own key is excluded here

    with Library("_", "IMPL", "Python") as lib:
        # It overrides the built-in handler of dispatch modes and subclasses while it lives.
        with pytest.warns(UserWarning, match="already has a fallback"):
            lib.fallback(log_and_continue)
        a = sy.tensor([1.0])
        with sy._C._IncludeDispatchKeyGuard("Python"):
            r = sy.add(a, a)
        assert r.item() == 2.0
    assert seen == ["sy::add.Tensor"]
    assert sy.add(a, a).item() == 2.0  # gone with its library


# ---- lifetime ---------------------------------------------------------------------------------

def test_destroy_removes_registrations_and_calls_say_so(ns):
    lib = Library(ns, "DEF")
    lib.define("f(Tensor self) -> Tensor")
    lib.impl("f", lambda s: s, "CPU")
    kept_packet, kept_overload = op(ns, "f"), op(ns, "f").default
    lib.destroy()
    assert not sy.op_exists(f"{ns}::f")
    for handle in (kept_packet, kept_overload):
        with pytest.raises(sy.DispatchError, match="removed"):
            handle(sy.tensor([1.0]))
    lib.destroy()  # twice is harmless


def test_with_block_removes_registrations_even_on_error(ns):
    with pytest.raises(RuntimeError):
        with Library(ns, "DEF") as lib:
            lib.define("f(Tensor self) -> Tensor")
            raise RuntimeError("boom")
    assert not sy.op_exists(f"{ns}::f")


def test_del_removes_registrations_at_once(ns):
    lib = Library(ns, "DEF")
    lib.define("f(Tensor self) -> Tensor")
    del lib
    assert not sy.op_exists(f"{ns}::f")


def test_reference_cycle_through_a_kernel_does_not_keep_registrations(ns):
    def make():
        lib = Library(ns, "DEF")
        lib.define("f(Tensor self) -> Tensor")

        def kernel(s):  # refers to lib: lib -> registration -> kernel -> lib
            assert lib.alive
            return s

        lib.impl("f", kernel, "CPU")
        return weakref.ref(lib), weakref.ref(kernel)

    lib_ref, kernel_ref = make()
    assert sy.op_exists(f"{ns}::f")
    gc.collect()
    assert lib_ref() is None and kernel_ref() is None
    assert not sy.op_exists(f"{ns}::f")


def test_kernel_callable_is_released_with_its_library(ns):
    class Kernel:
        def __call__(self, s):
            return s

    k = Kernel()
    ref = weakref.ref(k)
    lib = Library(ns, "DEF")
    lib.define("f(Tensor self) -> Tensor")
    lib.impl("f", k, "CPU")
    del k
    assert ref() is not None
    lib.destroy()
    assert ref() is None


def test_op_redefined_after_removal_works_through_old_handles(ns):
    with Library(ns, "DEF") as lib:
        lib.define("f(Tensor self) -> Tensor")
        lib.impl("f", lambda s: s, "CPU")
        packet = op(ns, "f")
    with Library(ns, "DEF") as lib:
        lib.define("f(Tensor self) -> Tensor")
        lib.impl("f", lambda s: sy.neg(s), "CPU")
        assert packet(sy.tensor([1.0])).item() == -1.0


def test_library_can_be_destroyed_inside_its_own_kernel(ns):
    lib = Library(ns, "DEF")
    lib.define("f(Tensor self) -> Tensor")

    def kernel(s):
        lib.destroy()
        return s

    lib.impl("f", kernel, "CPU")
    x = sy.tensor([1.0])
    assert op(ns, "f")(x) is x
    assert not sy.op_exists(f"{ns}::f")


# ---- exceptions across the boundary ----------------------------------------------------------

class CustomError(Exception):
    pass


def _raising_lib(ns):
    lib = Library(ns, "DEF")
    lib.define("fails(Tensor self) -> Tensor")

    def fails_cpu(self):
        raise CustomError("kernel says no")

    lib.impl("fails", fails_cpu, "CPU")
    return lib


def test_exception_keeps_type_message_and_traceback(ns):
    with _raising_lib(ns):
        with pytest.raises(CustomError, match="kernel says no") as info:
            op(ns, "fails")(sy.tensor([1.0]))
    frames = [f.name for f in traceback.extract_tb(info.value.__traceback__)]
    assert "fails_cpu" in frames


def test_exception_passes_through_a_cpp_kernel_in_between(ns):
    # The Tracer key's fallback is C++: it runs first and redispatches to the Python kernel.
    with _raising_lib(ns):
        with sy._C._IncludeDispatchKeyGuard("Tracer"):
            assert "Tracer" in sy._C._dispatch_explain(f"{ns}::fails", sy.tensor([1.0]))
            with pytest.raises(CustomError, match="kernel says no") as info:
                op(ns, "fails")(sy.tensor([1.0]))
    assert "fails_cpu" in [f.name for f in traceback.extract_tb(info.value.__traceback__)]


def test_exception_from_a_nested_op_call_in_a_kernel(ns):
    with Library(ns, "DEF") as lib:
        lib.define("outer(Tensor self) -> Tensor")
        lib.impl("outer", lambda s: sy.add(s, "not a tensor"), "CPU")
        with pytest.raises(TypeError, match="no overload"):
            op(ns, "outer")(sy.tensor([1.0]))


def test_wrong_return_type_from_a_kernel_is_a_type_error(ns):
    with Library(ns, "DEF") as lib:
        lib.define("f(Tensor self) -> Tensor")
        lib.impl("f", lambda s: 3, "CPU")
        with pytest.raises(TypeError, match="returned int where the schema returns Tensor"):
            op(ns, "f")(sy.tensor([1.0]))


# ---- registration order --------------------------------------------------------------------

REGISTRATIONS = ["def", "cpu", "meta", "composite"]


def _table_rows(ns, order):
    """Registers f in `order` (one library each), returns its table's rows, removes them."""
    libs = []
    for what in order:
        if what == "def":
            lib = Library(ns, "DEF")
            lib.define("f(Tensor self) -> Tensor")
        elif what == "cpu":
            lib = Library(ns, "IMPL", "CPU")
            lib.impl("f", cpu_kernel)
        elif what == "meta":
            lib = Library(ns, "IMPL", "Meta")
            lib.impl("f", meta_kernel)
        else:
            lib = Library(ns, "IMPL", "CompositeExplicitAutograd")
            lib.impl("f", composite_kernel)
        libs.append(lib)
    try:
        assert op(ns, "f")(sy.tensor([1.0])).item() == 10.0
        table = sy._C._dispatch_dump_table(f"{ns}::f")
        # Each row without its registration site (which names the library's namespace).
        return [line.split("[")[0].rstrip() for line in table.splitlines()[1:]]
    finally:
        for lib in reversed(libs):
            lib.destroy()


@pytest.mark.parametrize("order", list(itertools.permutations(REGISTRATIONS)))
def test_computed_table_does_not_depend_on_registration_order(order, ns):
    reference = _table_rows(ns + "_ref", REGISTRATIONS)
    assert "  CPU: the kernel for CPU" in reference
    assert "  Meta: the kernel for Meta" in reference
    assert any(r.startswith("  PrivateUse1: CompositeExplicitAutograd") for r in reference)
    assert _table_rows(ns, order) == reference


def cpu_kernel(s):
    return sy.mul(s, 10)


def meta_kernel(s):
    return s


def composite_kernel(s):
    return s
