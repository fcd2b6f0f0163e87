"""sy.library's custom-op API: custom_op, infer_schema, register_fake, register_kernel,
module-level define / impl / register_fake, and opcheck catching each kind of broken op.

torch 1.13 has Library, impl(lib, ...) and define(lib, ...), compared side by side
below; it has no custom_op, infer_schema or opcheck, so those are tested against the
behaviour PyTorch 2.x documents for torch.library (schema strings, names of the checks).
"""

import inspect
import warnings
from typing import List, Optional, Sequence, Tuple

import numpy as np
import pytest

import switchyard as sy
from switchyard.library import (
    CustomOpError,
    Library,
    OpCheckError,
    custom_op,
    infer_schema,
    opcheck,
)
from switchyard.utils.python_dispatch import DispatchMode

torch = pytest.importorskip("torch")

Tensor = sy.Tensor

try:
    from switchyard import autograd  # noqa: F401

    HAS_AUTOGRAD = True
except ImportError:
    HAS_AUTOGRAD = False
needs_autograd = pytest.mark.skipif(not HAS_AUTOGRAD, reason="this build has no autograd")
ALL_PASS = {"test_schema": "SUCCESS", "test_autograd_registration": "SUCCESS",
            "test_faketensor": "SUCCESS", "test_aot_dispatch_dynamic": "SUCCESS",
            "test_gradcheck": "SUCCESS"}


# ---- infer_schema: PyTorch 2.x's documented strings ------------------------------------------

def test_infer_schema_gives_the_documented_strings():
    def foo_impl(x: Tensor) -> Tensor:
        return x.sin()

    # torch.library.infer_schema's docstring examples.
    assert infer_schema(foo_impl, op_name="foo", mutates_args={}) == "foo(Tensor x) -> Tensor"
    assert infer_schema(foo_impl, mutates_args={}) == "(Tensor x) -> Tensor"

    def inplace(x: Tensor) -> None:
        x.sin_()

    assert infer_schema(inplace, mutates_args={"x"}) == "(Tensor(a0!) x) -> ()"


def test_infer_schema_covers_the_parameter_types_and_defaults():
    def f(a: Tensor, b: Optional[Tensor], c: Sequence[Tensor], d: int, e: float, g: bool,
          h: str, i: List[int], j: Optional[int] = None, *, k: float = 1.5, m: bool = True,
          n: str = "x", o: Sequence[float] = (1.0, 2.0), p: sy.dtype = sy.float32
          ) -> Tuple[Tensor, Tensor]:
        ...

    assert infer_schema(f) == (
        "(Tensor a, Tensor? b, Tensor[] c, SymInt d, float e, bool g, str h, SymInt[] i, "
        "SymInt? j=None, *, float k=1.5, bool m=True, str n=\"x\", float[] o=[1.0, 2.0], "
        "ScalarType p=float32) -> (Tensor, Tensor)")


def test_infer_schema_marks_each_mutated_tensor_with_its_own_alias_set():
    def f(x: Tensor, y: Tensor, z: Optional[Tensor], w: List[Tensor]) -> None:
        ...

    assert infer_schema(f, mutates_args=("x", "z", "w")) == (
        "(Tensor(a0!) x, Tensor y, Tensor(a1!)? z, Tensor(a2!)[] w) -> ()")
    assert infer_schema(f, mutates_args="unknown") == (
        "(Tensor(a0!) x, Tensor(a1!) y, Tensor(a2!)? z, Tensor(a3!)[] w) -> ()")


def test_infer_schema_reads_string_annotations():
    ns = {}
    exec("def f(x: 'Tensor', n: 'Optional[int]' = None) -> 'List[Tensor]': ...", {}, ns)
    assert infer_schema(ns["f"]) == "(Tensor x, SymInt? n=None) -> Tensor[]"


@pytest.mark.parametrize("source, mutates, message", [
    ("def f(x, y: Tensor) -> Tensor: ...", (), "Parameter x must have a type annotation"),
    ("def f(x: Tensor, y: dict) -> Tensor: ...", (), "Parameter y has unsupported type"),
    ("def f(x: Tensor, *rest: Tensor) -> Tensor: ...", (), "Parameter rest: positional-only"),
    ("def f(x: Tensor, n: int) -> Tensor: ...", ("n",), "Parameter n is in mutates_args"),
    ("def f(x: Tensor) -> Tensor: ...", ("y",), "['y'] in mutates_args were not found"),
    ("def f(x: Tensor): ...", (), "No return type annotation"),
    ("def f(x: Tensor) -> dict: ...", (), "Return has unsupported type"),
    ("def f(x: Tensor, o: object = object()) -> Tensor: ...", (), "Parameter o has unsupported"),
])
def test_infer_schema_errors_name_the_parameter(source, mutates, message):
    env = {"Tensor": Tensor}
    exec(source, env)
    with pytest.raises(CustomOpError, match=message.replace("[", r"\[").replace("]", r"\]")) as e:
        infer_schema(env["f"], mutates_args=mutates)
    assert isinstance(e.value, ValueError) and isinstance(e.value, sy.Error)


# ---- custom_op -------------------------------------------------------------------------------

def test_custom_op_defines_an_op_with_the_inferred_schema(ns):
    @custom_op(f"{ns}::numpy_sin", mutates_args=())
    def numpy_sin(x: Tensor, scale: float = 1.0) -> Tensor:
        return sy.from_numpy(np.sin(x.numpy()) * scale)

    x = sy.tensor([0.0, 1.0, 2.0])
    expected = np.sin(x.numpy()) * 2
    np.testing.assert_allclose(numpy_sin(x, 2.0).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(numpy_sin(x, scale=2.0).numpy(), expected, rtol=1e-6)
    packet = getattr(getattr(sy.ops, ns), "numpy_sin")
    np.testing.assert_allclose(packet(x, 2.0).numpy(), expected, rtol=1e-6)
    assert numpy_sin._opoverload is packet.default
    assert packet.default._schema == f"{ns}::numpy_sin(Tensor x, float scale=1.) -> Tensor" or \
        packet.default._schema.startswith(f"{ns}::numpy_sin(Tensor x, float scale=1")
    assert numpy_sin.__name__ == "numpy_sin" and numpy_sin.__wrapped__(x).shape == (3,)


def test_custom_op_takes_the_function_without_the_decorator_and_an_explicit_schema(ns):
    def twice(x):
        return x * 2

    op = custom_op(f"{ns}::twice", twice, mutates_args=(), schema="(Tensor x) -> Tensor")
    assert op(sy.tensor([3.0])).item() == 6.0


def test_the_op_runs_through_the_dispatcher_so_modes_and_the_tracer_see_it(ns):
    @custom_op(f"{ns}::plus_one", mutates_args=())
    def plus_one(x: Tensor) -> Tensor:
        return x + 1

    seen = []

    class Log(DispatchMode):
        def __sy_dispatch__(self, func, types, args=(), kwargs=None):
            seen.append(func.name())
            return func(*args, **(kwargs or {}))

    x = sy.zeros(2)
    with Log():
        plus_one(x)
    assert seen == [f"{ns}::plus_one"]  # its kernel's ops run with the mode off
    graph = sy.trace(lambda x: plus_one(x), (sy.zeros(2),))
    assert f"{ns}::plus_one" in str(graph)
    assert graph(sy.ones(2)).tolist() == [2.0, 2.0]


def test_device_types_limit_where_the_function_runs(ns):
    @custom_op(f"{ns}::cpu_only", mutates_args=(), device_types="cpu")
    def cpu_only(x: Tensor) -> Tensor:
        return x.clone()

    assert cpu_only(sy.ones(2)).tolist() == [1.0, 1.0]
    dump = sy._C._dispatch_dump(f"{ns}::cpu_only")
    assert "CPU: kernel" in dump and "CompositeExplicitAutograd" not in dump


def test_register_kernel_replaces_the_function_for_one_device_without_a_warning(ns):
    @custom_op(f"{ns}::which", mutates_args=())
    def which(x: Tensor) -> Tensor:
        return x * 0

    with warnings.catch_warnings():
        warnings.simplefilter("error")

        @which.register_kernel("cpu")
        def _(x):
            return x * 0 + 1

        assert which(sy.ones(1)).item() == 1.0
        which.register_kernel("cpu", lambda x: x * 0 + 2)  # again: replaced, not overridden
    assert which(sy.ones(1)).item() == 2.0


def test_register_fake_runs_on_meta_tensors_and_without_one_the_error_says_how(ns):
    @custom_op(f"{ns}::nonzero_count", mutates_args=())
    def rowsum(x: Tensor) -> Tensor:
        return sy.from_numpy(x.numpy().sum(axis=1))

    meta = sy.empty(4, 3, device="meta")
    with pytest.raises(sy.DispatchError, match=r"has no fake kernel.*register_fake"):
        rowsum(meta)

    @rowsum.register_fake
    def _(x):
        return sy.empty(x.shape[0], dtype=x.dtype, device=x.device)

    out = rowsum(meta)
    assert out.shape == (4,) and out.device.type == "meta"
    assert rowsum(sy.ones(4, 3)).tolist() == [3.0] * 4


def test_mutates_args_writes_in_place(ns):
    @custom_op(f"{ns}::fill_ones", mutates_args=("out",))
    def fill_ones(out: Tensor) -> None:
        out.fill_(1.0)

    assert "Tensor(a0!) out" in fill_ones._opoverload._schema
    t = sy.zeros(3)
    assert fill_ones(t) is None
    assert t.tolist() == [1.0, 1.0, 1.0]


def test_registration_sites_name_the_users_lines(ns):
    first = inspect.currentframe().f_lineno + 2

    @custom_op(f"{ns}::sited", mutates_args=())
    def sited(x: Tensor) -> Tensor:
        return x.clone()

    fake_line = inspect.currentframe().f_lineno + 2

    @sited.register_fake
    def _(x):
        return sy.empty_like(x)

    dump = sy._C._dispatch_dump(f"{ns}::sited")
    assert f"defined at {__file__}:{first}" in dump
    assert f"Meta: kernel (boxed) [{__file__}:{fake_line}" in dump
    assert "switchyard/library.py" not in dump and "switchyard/_custom_ops.py" not in dump
    # Defining it again: the error names the first definition's line.
    with pytest.raises(sy.Error, match=f"{__file__}:{first}"):
        custom_op(f"{ns}::sited", lambda x: x, mutates_args=(), schema="(Tensor x) -> Tensor")


@pytest.mark.parametrize("name", ["no_namespace", "a::b::c", "ns::op.overload", "1ns::op", 3])
def test_custom_op_names_must_be_namespace_and_name(name):
    with pytest.raises(CustomOpError, match="namespace::name"):
        custom_op(name, mutates_args=())(lambda x: x)


def test_a_custom_op_whose_hints_make_no_schema_names_the_parameter(ns):
    with pytest.raises(CustomOpError, match="Parameter k must have a type annotation"):
        @custom_op(f"{ns}::untyped", mutates_args=())
        def untyped(x: Tensor, k) -> Tensor:
            return x
    assert not sy.op_exists(f"{ns}::untyped")


def test_a_kernel_that_raises_propagates_and_the_op_still_works(ns):
    @custom_op(f"{ns}::picky", mutates_args=())
    def picky(x: Tensor) -> Tensor:
        if x.numel() == 0:
            raise KeyError("empty")
        return x.clone()

    with pytest.raises(KeyError, match="empty"):
        picky(sy.zeros(0))
    assert picky(sy.ones(1)).item() == 1.0


def test_a_kernel_returning_the_wrong_type_is_a_type_error(ns):
    @custom_op(f"{ns}::liar", mutates_args=())
    def liar(x: Tensor) -> Tensor:
        return "not a tensor"

    with pytest.raises(TypeError, match="liar"):
        liar(sy.ones(1))


# ---- module-level define / impl / register_fake ----------------------------------------------

def test_string_forms_define_impl_and_register_fake(ns):
    sy.library.define(f"{ns}::cube(Tensor x) -> Tensor")
    sy.library.define(f"{ns}::square", "(Tensor x) -> Tensor")  # PyTorch 2.x's two-part form

    @sy.library.impl(f"{ns}::cube", "cpu")
    def cube(x):
        return x * x * x

    sy.library.impl(f"{ns}::square", ("cpu",), lambda x: x * x)
    sy.library.register_fake(f"{ns}::cube", lambda x: sy.empty_like(x))
    cube_op = getattr(getattr(sy.ops, ns), "cube")
    assert cube_op(sy.tensor([2.0])).item() == 8.0
    assert getattr(getattr(sy.ops, ns), "square")(sy.tensor([3.0])).item() == 9.0
    assert cube_op(sy.empty(5, device="meta")).shape == (5,)
    assert opcheck(cube_op.default, (sy.tensor([1.0, 2.0]),)) == ALL_PASS


def test_string_forms_tie_to_a_library_when_given_one(ns):
    with Library(ns, "FRAGMENT") as lib:
        sy.library.define(f"{ns}::tied(Tensor x) -> Tensor", lib=lib)
        sy.library.impl(f"{ns}::tied", "cpu", lambda x: x.clone(), lib=lib)
        assert getattr(getattr(sy.ops, ns), "tied")(sy.ones(1)).item() == 1.0
    with pytest.raises(sy.DispatchError, match="removed|no operator"):
        getattr(getattr(sy.ops, ns), "tied")(sy.ones(1))


def test_define_and_impl_with_a_library_match_torch_1_13(ns):
    """torch.library.define(lib, schema) and impl(lib, name, key), side by side."""
    results = {}
    for mod, lib_mod, tensor in ((sy, sy.library, sy.tensor), (torch, torch.library, torch.tensor)):
        lib = lib_mod.Library(ns, "DEF")
        calls = []

        @lib_mod.define(lib, "axpy(Tensor x, Tensor y, float a=2.0) -> Tensor")
        def axpy(x, y, a=2.0):
            calls.append(a)
            return x * a + y

        lib.define("neg_it(Tensor x) -> Tensor")

        @lib_mod.impl(lib, "neg_it", "CPU")
        def neg_it(x):
            return -x

        ops = getattr(mod.ops, ns)
        results[mod.__name__] = (ops.axpy(tensor([1.0]), tensor([3.0])).tolist(),
                                 ops.axpy(tensor([1.0]), tensor([3.0]), a=3.0).tolist(),
                                 ops.neg_it(tensor([1.5])).tolist(), calls)
        del lib
    assert results["switchyard"] == results["torch"]


# ---- opcheck ---------------------------------------------------------------------------------

def make_good(ns):
    @custom_op(f"{ns}::good", mutates_args=())
    def good(x: Tensor, k: float) -> Tensor:
        return x * k

    @good.register_fake
    def _(x, k):
        return sy.empty_like(x)

    return good


def test_opcheck_passes_a_correct_op_with_every_check_named(ns):
    good = make_good(ns)
    assert opcheck(good, (sy.randn(3), 2.0)) == ALL_PASS
    assert opcheck(good._opoverload, (sy.randn(3),), {"k": 2.0},
                   test_utils="test_schema") == {"test_schema": "SUCCESS"}


def test_opcheck_passes_a_correctly_declared_mutation(ns):
    @custom_op(f"{ns}::scale_", mutates_args=("x",))
    def scale_(x: Tensor, k: float) -> None:
        x.mul_(k)

    @scale_.register_fake
    def _(x, k):
        return None

    assert all(v == "SUCCESS" for v in opcheck(scale_, (sy.randn(3), 2.0)).values())


def broken_ops(ns):
    """(name, op, the check that must fail, words its message must hold)."""
    cases = []

    @custom_op(f"{ns}::writes_input", mutates_args=())
    def writes_input(x: Tensor) -> Tensor:
        x.add_(1)
        return x.clone()

    writes_input.register_fake(lambda x: sy.empty_like(x))
    cases.append((writes_input, "test_schema", "argument 'x' was written"))

    @custom_op(f"{ns}::returns_input", mutates_args=())
    def returns_input(x: Tensor) -> Tensor:
        return x

    returns_input.register_fake(lambda x: sy.empty_like(x))
    cases.append((returns_input, "test_schema", "output 0 shares memory with argument 'x'"))

    @custom_op(f"{ns}::returns_view", mutates_args=())
    def returns_view(x: Tensor) -> Tensor:
        return x[1:]

    returns_view.register_fake(lambda x: sy.empty(x.shape[0] - 1, device="meta"))
    cases.append((returns_view, "test_schema", "shares memory"))

    @custom_op(f"{ns}::two_same", mutates_args=())
    def two_same(x: Tensor) -> Tuple[Tensor, Tensor]:
        y = x.clone()
        return y, y

    two_same.register_fake(lambda x: (sy.empty_like(x), sy.empty_like(x)))
    cases.append((two_same, "test_schema", "outputs 0 and 1 share memory"))

    @custom_op(f"{ns}::wrong_fake_shape", mutates_args=())
    def wrong_fake_shape(x: Tensor) -> Tensor:
        return x.clone()

    wrong_fake_shape.register_fake(lambda x: sy.empty(7, device="meta"))
    cases.append((wrong_fake_shape, "test_faketensor", "fake kernel says shape (7,)"))

    @custom_op(f"{ns}::wrong_fake_dtype", mutates_args=())
    def wrong_fake_dtype(x: Tensor) -> Tensor:
        return x.clone()

    wrong_fake_dtype.register_fake(lambda x: sy.empty(x.shape, dtype=sy.int64, device="meta"))
    cases.append((wrong_fake_dtype, "test_faketensor", "dtype"))

    @custom_op(f"{ns}::no_fake", mutates_args=())
    def no_fake(x: Tensor) -> Tensor:
        return x.clone()

    cases.append((no_fake, "test_faketensor", "has no fake kernel"))

    @custom_op(f"{ns}::fake_reads_data", mutates_args=())
    def fake_reads_data(x: Tensor) -> Tensor:
        return x.clone()

    fake_reads_data.register_fake(lambda x: sy.full((int(x.sum().item()),), 0.0, device="meta"))
    cases.append((fake_reads_data, "test_faketensor", "failed on meta tensors"))

    counter = iter(range(1000))

    @custom_op(f"{ns}::not_replayable", mutates_args=())
    def not_replayable(x: Tensor) -> Tensor:
        return x + next(counter)

    not_replayable.register_fake(lambda x: sy.empty_like(x))
    cases.append((not_replayable, "test_aot_dispatch_dynamic", "the replayed trace differs"))
    return cases


def test_opcheck_catches_each_kind_of_broken_op_by_name(ns):
    for op, check, words in broken_ops(ns):
        results = opcheck(op, (sy.tensor([1.0, 2.0, 3.0]),), raise_exception=False)
        failed = {k for k, v in results.items() if v != "SUCCESS"}
        assert failed == {check}, (op, results)
        assert isinstance(results[check], OpCheckError)
        assert words in str(results[check]), (op, str(results[check]))
        with pytest.raises(OpCheckError, match=f"{check}: OpCheckError: .*{words[:12]}"):
            opcheck(op, (sy.tensor([1.0, 2.0, 3.0]),))


def test_opcheck_leaves_the_callers_arguments_alone(ns):
    op, _, _ = broken_ops(ns)[0]  # writes into its argument
    x = sy.tensor([1.0, 2.0])
    opcheck(op, (x,), raise_exception=False)
    assert x.tolist() == [1.0, 2.0]


def test_opcheck_refuses_what_it_cannot_check(ns):
    good = make_good(ns)
    with pytest.raises(CustomOpError, match="unknown test_utils"):
        opcheck(good, (sy.ones(1), 1.0), test_utils=("test_everything",))
    with pytest.raises(CustomOpError, match="expected a custom op or an OpOverload"):
        opcheck(lambda x: x, (sy.ones(1),))


# ---- the examples ----------------------------------------------------------------------------

def test_the_fake_tensor_and_flop_counter_examples_run():
    import os
    import pathlib
    import subprocess
    import sys

    examples = pathlib.Path(__file__).resolve().parents[2] / "examples" / "python"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    for script, expect in (("fake_tensor.py", "matmul FLOPs of one forward pass: 214,547,038,208"),
                           ("logging_mode.py", "sy.mm.default")):
        done = subprocess.run([sys.executable, str(examples / script)], capture_output=True,
                              text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        assert expect in done.stdout


# ---- autograd: register_autograd, opcheck's autograd checks ---------------------------------

def make_numpy_mul(ns, backward=None):
    @custom_op(f"{ns}::numpy_mul", mutates_args=())
    def numpy_mul(x: Tensor, y: Tensor, *, scale: float = 1.0) -> Tensor:
        return sy.from_numpy(x.detach().numpy() * y.detach().numpy() * scale)

    numpy_mul.register_fake(lambda x, y, *, scale=1.0: sy.empty_like(x))

    def setup_context(ctx, inputs, keyword_only_inputs, output):
        ctx.save_for_backward(*inputs)
        ctx.scale = keyword_only_inputs.get("scale", 1.0)

    def correct(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * y * ctx.scale, grad * x * ctx.scale

    numpy_mul.register_autograd(backward or correct, setup_context=setup_context)
    return numpy_mul


@needs_autograd
def test_register_autograd_gives_the_gradients_of_its_backward(ns):
    numpy_mul = make_numpy_mul(ns)
    x = sy.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = sy.tensor([4.0, 5.0, 6.0], requires_grad=True)
    out = numpy_mul(x, y, scale=2.0)
    assert out.requires_grad and out.tolist() == [8.0, 20.0, 36.0]
    out.sum().backward()
    assert x.grad.tolist() == [8.0, 10.0, 12.0] and y.grad.tolist() == [2.0, 4.0, 6.0]
    with sy.no_grad():
        assert not numpy_mul(x, y).requires_grad
    assert opcheck(numpy_mul, (x, y), {"scale": 2.0}) == ALL_PASS


@needs_autograd
def test_opcheck_catches_a_wrong_backward_and_a_missing_one(ns):
    wrong = make_numpy_mul(ns, backward=lambda ctx, grad: (grad, grad))
    x = sy.tensor([1.0, 2.0], requires_grad=True)
    y = sy.tensor([3.0, 5.0], requires_grad=True)
    results = opcheck(wrong, (x, y), raise_exception=False)
    assert {k for k, v in results.items() if v != "SUCCESS"} == {"test_gradcheck"}
    assert "finite differences" in str(results["test_gradcheck"])

    @custom_op(f"{ns}::no_formula", mutates_args=())
    def no_formula(x: Tensor) -> Tensor:
        return sy.from_numpy(x.detach().numpy() * 2)

    no_formula.register_fake(lambda x: sy.empty_like(x))
    results = opcheck(no_formula, (x,), raise_exception=False)
    assert isinstance(results["test_autograd_registration"], OpCheckError)
    assert "register_autograd" in str(results["test_autograd_registration"])


@needs_autograd
def test_register_autograd_refuses_mutating_ops_and_wrong_gradient_counts(ns):
    @custom_op(f"{ns}::writes", mutates_args=("x",))
    def writes(x: Tensor) -> None:
        x.add_(1)

    with pytest.raises(CustomOpError, match="writes into an argument"):
        writes.register_autograd(lambda ctx, g: g)
    miscounted = make_numpy_mul(ns, backward=lambda ctx, grad: grad)
    x = sy.tensor([1.0], requires_grad=True)
    with pytest.raises(CustomOpError, match="returned 1 gradients; it must return one per "
                                            "positional input \\(2\\)"):
        miscounted(x, x).sum().backward()
