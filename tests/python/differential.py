"""The child side of the differential suite (test_differential.py): one case, two libraries.

A case is JSON: the op ("sy::add.Tensor"), its arguments as specs, and where the
inputs live. run_case builds the same inputs for switchyard and for torch 1.13
(the same values, then the same view ops for non-contiguous and broadcast
layouts), calls the op on both (switchyard's sy.ops.sy.<op>, torch's
torch.ops.aten.<op>), and compares whether both raised, and otherwise the
results' dtypes, shapes and values (in-place ops: self afterwards too). It runs
in the prober's child process, so a crash in either library is one example's
failure.

Argument specs: plain JSON (ints, floats, bools, strings, lists of ints), or
  {"t": tensor}        a tensor: {"dtype", "shape", "values" (flat, for the base
                       tensor; "nan", "inf", "-inf" as strings), "layout"}
  {"tl": [tensor...]}  a Tensor[] list
  {"dtype": name}      a ScalarType; {"scalar": value} a Scalar (value as above)
  {"out": dtype|null}  an out= tensor, made with the shape torch's result has
"""

import math
import sys

import torch

import switchyard as sy

_SPECIAL = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]


def _number(v):
    return _SPECIAL.get(v, v) if isinstance(v, str) else v


# ---- building inputs -----------------------------------------------------------------------

def _base_shape(spec):
    """The shape the values fill, before the layout's view ops."""
    shape, layout = list(spec["shape"]), spec.get("layout", "contiguous")
    if layout == "transposed" and len(shape) >= 2:
        return shape[::-1]
    if layout == "strided" and shape:
        return shape[:-1] + [shape[-1] * 2]
    if layout == "expanded":
        return [1 if i in spec.get("expand_dims", []) else s for i, s in enumerate(shape)]
    return shape


def base_numel(spec):
    n = 1
    for s in _base_shape(spec):
        n *= s
    return n


def _make(lib, spec, device):
    dtype_name, shape, layout = spec["dtype"], list(spec["shape"]), spec.get("layout", "contiguous")
    base = _base_shape(spec)
    values = [_number(v) for v in spec.get("values", [])]
    if lib == "sy":
        dtype = getattr(sy, dtype_name)
        t = sy.tensor(values, dtype=dtype).reshape(base) if values or base_numel(spec) == 0 \
            else sy.zeros(base, dtype=dtype)
        if device == "meta":
            t = t.to("meta")
        ops = sy
    else:
        dtype = getattr(torch, dtype_name)
        t = torch.tensor(values, dtype=dtype).reshape(base) if values or base_numel(spec) == 0 \
            else torch.zeros(base, dtype=dtype)
        if device == "meta":
            t = t.to("meta")
        ops = torch
    if layout == "transposed" and len(shape) >= 2:
        t = ops.permute(t, list(range(len(shape)))[::-1])
    elif layout == "strided" and shape:
        t = t[..., ::2] if lib == "torch" else sy.ops.sy.slice(t, -1, None, None, 2)
    elif layout == "expanded":
        t = t.expand(shape)
    return t


def _build(lib, spec, device):
    if isinstance(spec, dict):
        if "t" in spec:
            return _make(lib, spec["t"], device)
        if "tl" in spec:
            return [_make(lib, s, device) for s in spec["tl"]]
        if "dtype" in spec:
            return getattr(sy if lib == "sy" else torch, spec["dtype"])
        if "scalar" in spec:
            return _number(spec["scalar"])
        if "device" in spec:
            return spec["device"]
        raise ValueError(f"unknown spec {spec}")
    if isinstance(spec, list):
        return [_build(lib, s, device) for s in spec]
    return _number(spec)


# ---- calling -----------------------------------------------------------------------------------

# Ops whose switchyard name differs from aten's.
ATEN_NAMES = {"sy::empty": "empty.memory_format", "sy::fill_": "fill_.Scalar"}


def _aten(op):
    name = ATEN_NAMES.get(op, op[4:])
    base, _, overload = name.partition(".")
    return getattr(getattr(torch.ops.aten, base), overload or "default")


def _sy_op(op):
    base, _, overload = op[4:].partition(".")
    return getattr(getattr(sy.ops.sy, base), overload or "default")


def _aten_kwargs(aten, kwargs):
    """kwargs for aten: arguments aten lacks are dropped when they hold their default."""
    names = {a.name for a in aten._schema.arguments}
    out = {}
    for k, v in kwargs.items():
        if k in names:
            out[k] = v
        elif v not in (None, False):
            raise NotImplementedError(f"aten has no argument {k!r}")
    return out


# Ops whose torch oracle is the public function: torch.ops.aten passes a Python
# bool Scalar on as an int, so aten::full(size, False) is int64.
PUBLIC = {"sy::full": torch.full}


def _call(lib, case, args, kwargs):
    if lib == "sy":
        return _sy_op(case["op"])(*args, **kwargs)
    if case["op"] in PUBLIC:
        return PUBLIC[case["op"]](*args, **kwargs)
    aten = _aten(case["op"])
    kw = _aten_kwargs(aten, kwargs)
    if case["op"] == "sy::to.device" and kw.get("dtype") is None and len(args) < 3:
        kw["dtype"] = args[0].dtype  # aten's dtype is not optional here
    return aten(*args, **kw)


# ---- comparing -----------------------------------------------------------------------------

def _is_tensor(x):
    return isinstance(x, (sy.Tensor, torch.Tensor))


def summary(x):
    if _is_tensor(x):
        d = {"dtype": str(x.dtype).rsplit(".", 1)[-1], "shape": list(x.shape),
             "device": str(x.device).split(":")[0]}
        if d["device"] == "cpu":
            d["values"] = _flat(x)
        return d
    if isinstance(x, (list, tuple)):
        return [summary(v) for v in x]
    return x


def _flat(t):
    values = t.reshape(-1).tolist() if t.dim() else [t.item()]
    return values


def _same_number(a, b, dtype):
    if isinstance(a, bool) or isinstance(b, bool) or not dtype.startswith("float"):
        return a == b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    if a == 0 and b == 0:
        return math.copysign(1, a) == math.copysign(1, b)
    rel = 1e-4 if dtype == "float32" else 1e-10
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel * 1e-2)


def compare(a, b, where="result"):
    """None when a (switchyard's) and b (torch's) agree, else why not."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in ("dtype", "shape", "device"):
            if a[key] != b[key]:
                return f"{where}: {key} {a[key]} vs torch's {b[key]}"
        if "values" in a and "values" in b:
            for i, (x, y) in enumerate(zip(a["values"], b["values"])):
                if not _same_number(x, y, a["dtype"]):
                    return f"{where}: element {i} is {x!r}, torch's is {y!r}"
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} values vs torch's {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            why = compare(x, y, f"{where}[{i}]")
            if why:
                return why
        return None
    if isinstance(a, float) and isinstance(b, float):
        return None if _same_number(a, b, "float64") else f"{where}: {a!r} vs torch's {b!r}"
    return None if a == b else f"{where}: {a!r} vs torch's {b!r}"


def _strip_values(s):
    if isinstance(s, dict):
        return {k: v for k, v in s.items() if k != "values"}
    if isinstance(s, list):
        return [_strip_values(v) for v in s]
    return s


def _outcome(lib, case, device):
    """(raised: exception name or None, summary of the result, summary of self after)."""
    print(f"differential: building {lib} inputs", file=sys.stderr, flush=True)
    try:
        args = [_build(lib, a, device) for a in case["args"]]
        kwargs = {k: _build(lib, v, device) for k, v in case.get("kwargs", {}).items()
                  if not (isinstance(v, dict) and "out" in v)}
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - an input one library cannot even make
        return ("input: " + type(e).__name__ + ": " + str(e)[:300], None, None)
    for k, v in case.get("kwargs", {}).items():
        if isinstance(v, dict) and "out" in v:
            kwargs[k] = case["_out_tensors"][lib](v["out"])
    print(f"differential: calling {lib} {case['op']}", file=sys.stderr, flush=True)
    try:
        result = _call(lib, case, args, kwargs)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - whether each library raises is compared
        return (type(e).__name__ + ": " + str(e)[:300], None, None)
    after = summary(args[0]) if case.get("inplace") and args and _is_tensor(args[0]) else None
    return (None, summary(result), after)


def _out_makers(case, device):
    """Out tensors: the shape and dtype torch gives the result (torch run with a fresh
    empty out first), or the dtype the spec asks for."""
    probe_kwargs = dict(case.get("kwargs", {}))
    shape, dtype = None, None
    try:
        targs = [_build("torch", a, device) for a in case["args"]]
        tkw = {k: _build("torch", v, device) for k, v in probe_kwargs.items()
               if not (isinstance(v, dict) and "out" in v)}
        for k, v in probe_kwargs.items():
            if isinstance(v, dict) and "out" in v:
                want = v["out"]
                tkw[k] = torch.empty(0, dtype=getattr(torch, want) if want else torch.float32,
                                     device=device)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = _call("torch", case, targs, tkw)
        shape, dtype = list(r.shape), str(r.dtype).rsplit(".", 1)[-1]
    except Exception:  # noqa: BLE001 - then any out will do; both libraries will say why
        shape, dtype = [0], "float32"

    def maker(lib):
        def make(want):
            d = want or dtype
            if lib == "sy":
                return sy.empty(shape, dtype=getattr(sy, d), device=device)
            return torch.empty(shape, dtype=getattr(torch, d), device=device)
        return make

    return {"sy": maker("sy"), "torch": maker("torch")}


def run_case(case):
    """Runs one case on both libraries; returns {"same": bool, "why": str, "sy", "torch"}."""
    device = case.get("device", "cpu")
    case = dict(case)
    if any(isinstance(v, dict) and "out" in v for v in case.get("kwargs", {}).values()):
        case["_out_tensors"] = _out_makers(case, device)
    try:
        mine = _outcome("sy", case, device)
        theirs = _outcome("torch", case, device)
    except NotImplementedError as e:
        return {"same": True, "why": "", "skipped": str(e)}
    verdict = {"sy": mine[0] or _strip_values(mine[1]), "torch": theirs[0] or _strip_values(theirs[1])}
    if device == "meta" and mine[0] and not theirs[0]:
        # torch's meta kernels skip some checks its cpu kernels make: ask the cpu.
        cpu_case = dict(case, device="cpu")
        if "_out_tensors" in case:
            cpu_case["_out_tensors"] = _out_makers(cpu_case, "cpu")
        on_cpu = _outcome("torch", cpu_case, "cpu")[0]
        if on_cpu:
            verdict.update(same=True, why="torch raises on cpu; its meta kernel skips the check")
            return verdict
    if (mine[0] is None) != (theirs[0] is None):
        who = "switchyard" if mine[0] else "torch"
        verdict.update(same=False, why=f"only {who} raised: {mine[0] or theirs[0]}",
                       raised="sy" if mine[0] else "torch")
        return verdict
    if mine[0] is not None:
        verdict.update(same=True, why="both raised")
        return verdict
    values = not case.get("shapes_only", False)
    a, b = mine[1], theirs[1]
    if not values:
        a, b = _strip_values(a), _strip_values(b)
    why = compare(a, b)
    if why is None and mine[2] is not None:
        why = compare(mine[2] if values else _strip_values(mine[2]),
                      theirs[2] if values else _strip_values(theirs[2]), "self afterwards")
    verdict.update(same=why is None, why=why or "")
    return verdict
