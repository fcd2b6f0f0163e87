"""Probes of bad input (issue 12's list), each run in a child process by test_bad_input.py.

Each function does one hostile thing and returns what came of it (the worker turns
tensors into their dtype, shape and values); an exception is the probe's outcome
too. A crash here fails only the test that ran the probe.
"""

import os
import subprocess
import sys
import textwrap

import switchyard as sy
from switchyard.library import Library


# ---- crashes ---------------------------------------------------------------------------

def tensor_from(data_expr):
    return sy.tensor(eval(data_expr))


def nested_deep(depth):
    data = [1.0]
    for _ in range(depth):
        data = [data]
    return sy.tensor(data).shape


def self_containing_list():
    data = [1.0]
    data.append(data)
    return sy.tensor(data)


def self_containing_first():
    data = []
    data.append(data)
    return sy.tensor(data)


def many_dims(n, what):
    t = sy.ones([1] * n)
    return repr(t) if what == "repr" else t.tolist()


def min_int_division(dtype_name, op):
    dtype = getattr(sy, dtype_name)
    low = -2**63 if dtype_name == "int64" else -2**31
    a = sy.tensor([low, low, 7, -7], dtype=dtype)
    b = sy.tensor([-1, 1, -1, -1], dtype=dtype)
    if op == "floor_divide":
        return (a // b).tolist()
    if op == "remainder":
        return (a % b).tolist()
    if op == "scalar_floor_divide":
        return (a // -1).tolist()
    if op == "scalar_remainder":
        return (a % -1).tolist()
    return sy.div(a, b, rounding_mode=op).tolist()


def inner_calls_skip_user_kernels(bad):
    """A Python-key kernel for contiguous/to/select that returns garbage; sum, mm and
    bmm on non-contiguous inputs must not read it."""
    calls = []

    def garbage(*args, **kwargs):
        calls.append(1)
        return sy.ones(1, device="meta") if bad == "meta" else sy.ones(1)

    x = sy.arange(12.0).reshape([3, 4]).t()  # non-contiguous, [4, 3]
    expected = {"sum": x.clone().sum().item(),
                "mm": sy.mm(x.clone(), x.clone().t()).tolist(),
                "index_select": sy.index_select(x.clone(), 0, sy.tensor([1, 0])).tolist()}
    with Library("sy", "IMPL", "Python") as lib:
        for name in ("contiguous", "clone", "to.dtype", "select.int", "permute", "copy_"):
            lib.impl(name, garbage)
        with Library("_", "IMPL", "Python") as fb:
            fb.fallback(lambda op, *args, **kwargs: op(*args, **kwargs))
            with sy._C._IncludeDispatchKeyGuard("Python"):
                got = {"sum": x.sum().item(),
                       "mm": sy.mm(x, x.t()).tolist(),
                       "index_select": sy.index_select(x, 0, sy.tensor([1, 0])).tolist()}
                x_int = sy.tensor([[1, 2], [3, 4]])
                got["add_promoted"] = (x_int + sy.tensor([0.5, 0.5])).tolist()
    expected["add_promoted"] = [[1.5, 2.5], [3.5, 4.5]]
    return {"same": got == expected, "got": got, "expected": expected}


_EXIT_SCRIPT = """
import threading, time
import switchyard as sy
started = threading.Event()
def work():
    x = sy.ones(1 << 22)
    started.set()
    while True:
        {body}
threading.Thread(target=work, daemon=True).start()
started.wait()
time.sleep(0.05)
"""


def exit_with_daemon_thread(body):
    """The interpreter exits while a daemon thread is inside C++ with the GIL released."""
    script = _EXIT_SCRIPT.format(body=body)
    if body == "kernel":
        script = textwrap.dedent("""
            import threading, time
            import switchyard as sy
            from switchyard.library import Library
            lib = Library("exit_probe", "DEF")
            lib.define("slow(Tensor x) -> Tensor")
            def slow(x):
                time.sleep(0.001)
                return x
            lib.impl("slow", slow, "CPU")
            started = threading.Event()
            def work():
                x = sy.ones(1 << 16)
                started.set()
                while True:
                    sy.ops.exit_probe.slow(x)
            threading.Thread(target=work, daemon=True).start()
            started.wait()
            time.sleep(0.05)
        """)
    results = []
    for _ in range(5):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=60, env=dict(os.environ))
        results.append([done.returncode, done.stderr[-500:]])
    return results


def recursion_through_kernel(limit):
    sys.setrecursionlimit(limit)
    lib = Library("recursion_probe", "DEF")
    lib.define("again(Tensor x) -> Tensor")

    def again(x):
        return sy.ops.recursion_probe.again(x)

    lib.impl("again", again, "CPU")
    try:
        sy.ops.recursion_probe.again(sy.ones(1))
    finally:
        lib.destroy()


# ---- silently wrong ------------------------------------------------------------------------

def zero_size_middle_dims():
    return {
        "zeros": sy.zeros(3, 0).shape,
        "ones": sy.ones(2, 0, 3).shape,
        "clone": sy.zeros(3, 0).clone().shape,
        "cat": sy.cat([sy.zeros(3, 0), sy.zeros(2, 0)]).shape,
        "mm": sy.mm(sy.ones(2, 0), sy.ones(0, 3)).tolist(),
        "matmul": sy.matmul(sy.ones(3), sy.ones(3, 0)).shape,
        "add_out": sy.add(sy.ones(2, 0), sy.ones(2, 0), out=sy.empty(2, 0)).shape,
        "fill": sy.empty(4, 0, 2).fill_(3).shape,
    }


def int_true_division():
    u8 = sy.tensor([10, 200], dtype=sy.uint8)
    i32 = sy.tensor([10, -7], dtype=sy.int32)
    return {"u8/256": (u8 / 256).tolist(), "u8/-3": (u8 / -3).tolist(),
            "i32/2**31": (i32 / 2**31).tolist(), "i32/2**40": (i32 / 2**40).tolist(),
            "256/u8": (256 / u8).tolist()}


def int_power(base_dtype, exponent_expr):
    return (sy.tensor([2, 3], dtype=getattr(sy, base_dtype)) ** eval(exponent_expr)).tolist()


def relu_special_values(in_place):
    t = sy.tensor([float("nan"), -0.0, -1.0, 2.0, float("-inf")])
    r = sy.relu_(t) if in_place else sy.relu(t)
    return [repr(v) for v in r.tolist()]


def keyword_only_binding():
    lib = Library("kwonly_probe", "DEF")
    lib.define("f(Tensor x, int[] s, *, int k=0) -> int[]")
    lib.impl("f", lambda x, s, *, k=0: list(s) + [k], "CPU")
    try:
        return {"varargs": sy.ops.kwonly_probe.f(sy.ones(1), 1, 2, 3),
                "list": sy.ops.kwonly_probe.f(sy.ones(1), [1, 2], k=5),
                "expand": sy.ones(3).expand(4, 3).shape,
                "view": sy.ones(6).view(2, 3).shape}
    finally:
        lib.destroy()


def positional_into_keyword_only():
    lib = Library("kwonly_probe2", "DEF")
    lib.define("g(Tensor x, int s, *, int k=0) -> int")
    lib.impl("g", lambda x, s, *, k=0: s + k, "CPU")
    try:
        return sy.ops.kwonly_probe2.g(sy.ones(1), 1, 2)
    finally:
        lib.destroy()


def cpu_meta_mix(case):
    cpu = sy.ones(3)
    meta = sy.ones(3, device="meta")
    index = sy.zeros(2, dtype=sy.int64, device="meta")
    if case == "copy":
        return cpu.copy_(meta)
    if case == "index_select":
        return sy.index_select(cpu, 0, index)
    if case == "gather":
        return sy.gather(cpu, 0, index)
    if case == "sum_out":
        return sy.sum(cpu, [0], out=sy.empty([], device="meta"))
    if case == "add_out":
        return sy.add(cpu, cpu, out=sy.empty(3, device="meta"))
    if case == "mm":
        return sy.mm(sy.ones(2, 2), sy.ones(2, 2, device="meta"))
    if case == "meta_copy_from_cpu":
        return meta.copy_(cpu)
    raise ValueError(case)


def from_readonly_buffer(kind):
    import numpy as np

    if kind == "bytes":
        data = b"abcd"
        t = sy.from_numpy(data)
        t.fill_(1)
        return {"tensor": t.tolist(), "source": list(data)}
    a = np.arange(4.0)
    a.flags.writeable = False
    t = sy.from_numpy(a)
    t.fill_(7)
    return {"tensor": t.tolist(), "source": a.tolist()}


def no_grad_generator():
    @sy.no_grad()
    def gen():
        for _ in range(2):
            yield sy.is_grad_enabled()

    @sy.enable_grad()
    def gen_enabled():
        yield sy.is_grad_enabled()

    seen = []
    for flag in gen():
        seen.append(flag)
        seen.append(("between", sy.is_grad_enabled()))
    with sy.no_grad():
        seen.extend(gen_enabled())
    return seen


def out_of_range_value(case):
    if case == "tensor_uint8":
        return sy.tensor([300], dtype=sy.uint8)
    if case == "tensor_int32":
        return sy.tensor([2**31], dtype=sy.int32)
    if case == "tensor_nan_int":
        return sy.tensor([float("nan")], dtype=sy.int64)
    if case == "tensor_2_63":
        return sy.tensor([2**63])
    if case == "setitem_nan":
        t = sy.zeros(2, dtype=sy.int64)
        t[0] = float("nan")
        return t
    if case == "setitem_1000":
        t = sy.zeros(2, dtype=sy.uint8)
        t[0] = 1000
        return t
    if case == "full_1000":
        return sy.full([2], 1000, dtype=sy.uint8)
    if case == "fill_inf_int":
        return sy.zeros(2, dtype=sy.int32).fill_(float("inf"))
    raise ValueError(case)


def in_range_values():
    return {"wrap_negative_uint8": sy.tensor([-1], dtype=sy.uint8).tolist(),
            "float_truncates": sy.tensor([1.5, -2.7], dtype=sy.int64).tolist(),
            "bool": sy.tensor([2, 0], dtype=sy.bool).tolist(),
            "big_float32": sy.tensor([1e300], dtype=sy.float32).tolist()[0] == float("inf"),
            "fill_minus_one_uint8": sy.zeros(1, dtype=sy.uint8).fill_(-1).tolist()}


def fixed_size_list(case):
    lib = Library("fixed_probe", "DEF")
    try:
        if case == "schema_default":
            lib.define("f(Tensor x, int[2] s=[1, 2, 3]) -> int[]")
            return "defined"
        lib.define("f(Tensor x, int[2] s, int[2] p=[]) -> int[]")
        lib.impl("f", lambda x, s, p: list(s) + list(p), "CPU")
        args = {"three": [1, 2, 3], "two": [1, 2], "one": 5, "empty": []}[case]
        return sy.ops.fixed_probe.f(sy.ones(1), args)
    finally:
        lib.destroy()


def bitwise_ops():
    a = sy.tensor([1, 2, 12])
    b = sy.tensor([3, 3, 10])
    flags = sy.tensor([True, False, True])
    return {"invert": (~a).tolist(), "and": (a & b).tolist(), "or": (a | b).tolist(),
            "xor": (a ^ b).tolist(), "and_scalar": (a & 2).tolist(),
            "invert_bool": (~flags).tolist(), "and_bool": (flags & sy.tensor([True, True, False])).tolist(),
            "invert_uint8": (~sy.tensor([0, 255], dtype=sy.uint8)).tolist()}


def library_name(ns, kind, key):
    lib = Library(ns, kind, key) if key else Library(ns, kind)
    lib.destroy()
    return "accepted"


def python_fallback_from_namespace(ns):
    lib = Library(ns, "IMPL", "Python")
    try:
        lib.fallback(lambda op, *args, **kwargs: op(*args, **kwargs))
        return "accepted"
    finally:
        lib.destroy()


# ---- unclear errors ------------------------------------------------------------------------

def huge_int_argument(case):
    if case == "index":
        return sy.arange(5)[2**63]
    if case == "add":
        return sy.ones(2) + 2**63
    if case == "empty":
        return sy.empty(2**63)
    if case == "list":
        return sy.ones(2).view([1, 2**64])
    raise ValueError(case)


def kernel_returns(case):
    lib = Library("returns_probe", "DEF")
    try:
        lib.define("t(Tensor x) -> Tensor")
        lib.define("i(Tensor x) -> int")
        lib.define("s(Tensor x) -> str")
        if case == "torch_tensor":
            import torch

            lib.impl("t", lambda x: torch.ones(1), "CPU")
            return sy.ops.returns_probe.t(sy.ones(1))
        if case == "int_overflow":
            lib.impl("i", lambda x: 2**70, "CPU")
            return sy.ops.returns_probe.i(sy.ones(1))
        if case == "surrogate":
            lib.impl("s", lambda x: "a\ud800b", "CPU")
            return sy.ops.returns_probe.s(sy.ones(1))
        raise ValueError(case)
    finally:
        lib.destroy()


def index_raises():
    class Bad:
        def __index__(self):
            raise KeyError("raised in __index__")

    return sy.ones(3).select(0, Bad())


def mean_out_int():
    return sy.mean(sy.ones(3), [0], out=sy.empty([], dtype=sy.int64))


def excluded_backend():
    with sy._C._ExcludeDispatchKeyGuard("CPU"):
        return sy.add(sy.ones(2), sy.ones(2))


# ---- issue 11, item 3 ------------------------------------------------------------------------

def tensor_from_numpy():
    import numpy as np

    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    t = sy.tensor(a)
    a[0, 0] = 99  # a copy: the tensor keeps 0
    f = np.arange(4.0)[::-2]  # negative strides
    return {"t": t, "float64": sy.tensor(f), "as_float": sy.tensor(a, dtype=sy.float32),
            "scalar_f32": sy.tensor(np.float32(1.5)), "scalar_i32": sy.tensor(np.int32(3)),
            "scalar_f64": sy.tensor(np.float64(2.5)), "list_of_scalars":
            sy.tensor([np.float32(1.5), 2.0]), "list_of_arrays": sy.tensor([a[1], a[1]]),
            "int16_as_int64": sy.tensor(np.array([1, 2], dtype=np.int16), dtype=sy.int64)}


def tensor_from_torch():
    import torch

    src = torch.arange(4.0).reshape(2, 2)
    t = sy.tensor(src)
    src[0, 0] = 99.0  # a copy
    return {"t": t, "list": sy.tensor([torch.tensor(1.5), torch.tensor(2.5)]),
            "strided": sy.tensor(torch.arange(6).reshape(2, 3).t())}


def optional_tensor_list():
    lib = Library("optlist_probe", "DEF")
    lib.define("count(Tensor?[] xs) -> int[]")
    lib.impl("count", lambda xs: [0 if x is None else x.numel() for x in xs],
             "CompositeImplicitAutograd")
    try:
        return sy.ops.optlist_probe.count([sy.ones(2), None, sy.ones(3)])
    finally:
        lib.destroy()


def inference_tensor_in_place(case):
    with sy.inference_mode():
        x = sy.ones(2)
    if case == "add_":
        return x.add_(1)
    if case == "setitem":
        x[0] = 3.0
        return x
    if case == "view":
        return x.view(2).mul_(2)
    if case == "out":
        return sy.add(sy.ones(2), sy.ones(2), out=x)
    if case == "copy_":
        return x.copy_(sy.zeros(2))
    if case == "inside_mode":
        with sy.inference_mode():
            x.add_(1)
        return x
    if case == "out_of_place":
        return x + 1
    raise ValueError(case)


def truth_value(n):
    return bool(sy.ones(n))
