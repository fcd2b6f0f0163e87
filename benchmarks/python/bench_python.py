"""switchyard's Python entry points next to PyTorch's, timed in one run.

    PYTHONPATH=build/release/python /usr/bin/python3 benchmarks/python/bench_python.py

Each case is timed for switchyard and for torch (Debian's python3-torch) in
alternating rounds, so that both see the same machine load; the figure is the
median over rounds of the time per call. ratio = switchyard / torch (lower is
better). Without torch, switchyard's figures are printed alone. The targets
are issue 7's.
"""

import argparse
import json
import statistics
import sys
import timeit

import switchyard as sy
from switchyard.library import Library

try:
    import torch
except ImportError:
    torch = None


def per_call_ns(stmt, env, number, in_mode=False):
    if in_mode:
        with env["mode"]:
            return timeit.timeit(stmt, globals=env, number=number) / number * 1e9
    return timeit.timeit(stmt, globals=env, number=number) / number * 1e9


def setup_switchyard():
    from switchyard.utils.python_dispatch import DispatchMode

    class PassThrough(DispatchMode):
        def __sy_dispatch__(self, func, types, args=(), kwargs=None):
            return func(*args, **kwargs)

    lib = Library("bench_lib", "DEF")
    lib.define("my_func(Tensor self) -> Tensor")
    lib.impl("my_func", lambda self: self, "CPU")

    identity = None
    if hasattr(sy.library, "custom_op"):  # absent from builds before issue 15 part 4
        @sy.library.custom_op("bench_custom::identity", mutates_args=())
        def identity(x: sy.Tensor) -> sy.Tensor:
            return x

    return {"sy": sy, "a": sy.tensor([1.0]), "b": sy.tensor([2.0]), "_keep": lib,
            "mode": PassThrough(), "custom": identity}


def setup_torch():
    from torch.utils._python_dispatch import TorchDispatchMode

    class PassThrough(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            return func(*args, **kwargs)

    lib = torch.library.Library("bench_lib", "DEF")
    lib.define("my_func(Tensor self) -> Tensor")
    lib.impl("my_func", lambda self: self, "CPU")
    return {"torch": torch, "a": torch.tensor([1.0]), "b": torch.tensor([2.0]), "_keep": lib,
            "mode": PassThrough()}


# (name, what, switchyard statement, torch statement, target ratio)
CASES = [
    ("PythonKernelOp", "custom op with a Python kernel, called through ops.ns.op",
     "sy.ops.bench_lib.my_func(a)", "torch.ops.bench_lib.my_func(a)", 0.3),
    # Issue 15: a custom_op-defined op with a Python kernel, called as the object
    # custom_op returns, next to torch 1.13's Library-defined op (1.13 has no custom_op).
    ("CustomOpCall", "sy.library.custom_op op with a Python kernel vs a torch Library op",
     "custom(a)", "torch.ops.bench_lib.my_func(a)", 0.3),
    ("AddOneElement", "add on 1-element tensors",
     "sy.add(a, b)", "torch.add(a, b)", 0.25),
    ("NoGradBlock", "with no_grad(): pass",
     "with sy.no_grad(): pass", "with torch.no_grad(): pass", 0.2),
    ("PythonCall", "a plain Python function call (the floor)",
     "f()", "f()", None),
    # Timed with the env's pass-through dispatch mode entered around the round.
    ("AddInMode", "add on 1-element tensors inside a pass-through dispatch mode",
     "sy.add(a, b)", "torch.add(a, b)", None),
]
# Cases timed inside the env's "mode"; the added cost is the case minus the one named.
IN_MODE = {"AddInMode": "AddOneElement"}
# Issue 15: a pass-through mode adds at most 0.2x what torch's adds.
MODE_COST_TARGET = 0.2


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--number", type=int, default=20000, help="calls per round")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--cases", nargs="+", metavar="CASE",
                        help="time only these cases (default: all)")
    args = parser.parse_args()

    sy_env = setup_switchyard()
    torch_env = setup_torch() if torch is not None else None
    for env in (sy_env, torch_env):
        if env is not None:
            env["f"] = lambda: None

    print(f"switchyard {sy.__version__}; torch {torch.__version__ if torch else 'absent'}; "
          f"python {sys.version.split()[0]}; median of {args.rounds} rounds x {args.number} calls")
    print(f"{'case':<16} {'switchyard':>12} {'torch':>12} {'ratio':>8} {'target':>8}  met?")
    results = []
    for name, what, sy_stmt, torch_stmt, target in CASES:
        if args.cases and name not in args.cases:
            continue
        sy_times, torch_times = [], []
        in_mode = name in IN_MODE
        per_call_ns(sy_stmt, sy_env, args.number // 10, in_mode)  # warm up
        if torch_env is not None:
            per_call_ns(torch_stmt, torch_env, args.number // 10, in_mode)
        for _ in range(args.rounds):
            sy_times.append(per_call_ns(sy_stmt, sy_env, args.number, in_mode))
            if torch_env is not None:
                torch_times.append(per_call_ns(torch_stmt, torch_env, args.number, in_mode))
        sy_ns = statistics.median(sy_times)
        torch_ns = statistics.median(torch_times) if torch_times else None
        ratio = sy_ns / torch_ns if torch_ns else None
        met = "" if target is None or ratio is None else ("yes" if ratio <= target else "NO")
        print(f"{name:<16} {sy_ns:>10.0f}ns "
              f"{(f'{torch_ns:.0f}ns' if torch_ns else 'n/a'):>12} "
              f"{(f'{ratio:.2f}x' if ratio else 'n/a'):>8} "
              f"{(f'<={target}x' if target else ''):>8}  {met}")
        results.append({"case": name, "what": what, "switchyard_ns": sy_ns, "torch_ns": torch_ns,
                        "ratio": ratio, "target": target})
    by_name = {r["case"]: r for r in results}
    for name, base in IN_MODE.items():
        if name not in by_name or base not in by_name:
            continue
        sy_added = by_name[name]["switchyard_ns"] - by_name[base]["switchyard_ns"]
        line = f"{name}: the mode adds {sy_added:.0f} ns to {base}"
        entry = {"case": name + "Added", "what": f"cost a pass-through mode adds to {base}",
                 "switchyard_ns": sy_added, "torch_ns": None, "ratio": None,
                 "target": MODE_COST_TARGET}
        if by_name[name]["torch_ns"] is not None:
            torch_added = by_name[name]["torch_ns"] - by_name[base]["torch_ns"]
            ratio = sy_added / torch_added
            entry.update(torch_ns=torch_added, ratio=ratio)
            line += (f" (torch's adds {torch_added:.0f} ns: {ratio:.2f}x, target "
                     f"<= {MODE_COST_TARGET}x and <= 1000 ns: "
                     f"{'yes' if ratio <= MODE_COST_TARGET and sy_added <= 1000 else 'NO'})")
        print(line)
        results.append(entry)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
