"""sy.func transforms next to functorch (torch 1.13), timed in one run (issue 16).

    PYTHONPATH=build/release/python /usr/bin/python3 benchmarks/python/bench_func.py

- PerSample64: per-sample gradients of a 32->10 linear least-squares loss over a
  batch of 64, vmap(grad(f)); also against a Python loop of sy.autograd.grad;
- Grad2: grad((t * t).sum()) on a 2-element tensor;
- Vmap8x4: vmap(lambda t: t * 2 + 1) on an 8x4 tensor;
- Adds20Depth0..3: 20 adds of a 4-float example under 0 to 3 nested vmaps.

switchyard and functorch alternate rounds; each figure is the median time per
call over the rounds; ratio = switchyard / functorch.
"""

import argparse
import json
import statistics
import timeit

import functorch
import numpy as np
import torch

import switchyard as sy


def per_sample_env():
    rng = np.random.default_rng(0)
    w, x, y = rng.standard_normal((32, 10)), rng.standard_normal((64, 32)), rng.standard_normal((64, 10))
    ft = [torch.tensor(a, dtype=torch.float32) for a in (w, x, y)]
    st = [sy.tensor(a.tolist(), dtype=sy.float32) for a in (w, x, y)]
    return ft, st


def loss(w, x, y):
    d = x @ w - y
    return (d * d).sum()


def cases():
    (wt, xt, yt), (ws, xs, ys) = per_sample_env()
    ft_ps = functorch.vmap(functorch.grad(loss), in_dims=(None, 0, 0))
    sy_ps = sy.func.vmap(sy.func.grad(loss), in_dims=(None, 0, 0))

    def sy_loop():
        out = []
        for i in range(64):
            wl = ws.detach().requires_grad_()
            out.append(sy.autograd.grad(loss(wl, xs[i], ys[i]), wl)[0])
        return sy.stack(out)

    t2t, t2s = torch.tensor([1.0, 2.0]), sy.tensor([1.0, 2.0])
    ft_g = functorch.grad(lambda t: (t * t).sum())
    sy_g = sy.func.grad(lambda t: (t * t).sum())
    v8t, v8s = torch.ones(8, 4), sy.ones(8, 4)
    ft_v = functorch.vmap(lambda t: t * 2 + 1)
    sy_v = sy.func.vmap(lambda t: t * 2 + 1)
    return [
        ("PerSample64", lambda: sy_ps(ws, xs, ys), lambda: ft_ps(wt, xt, yt), sy_loop),
        ("Grad2", lambda: sy_g(t2s), lambda: ft_g(t2t), None),
        ("Vmap8x4", lambda: sy_v(v8s), lambda: ft_v(v8t), None),
    ]


def level_cases():
    """20 adds of a 4-float example under 0 to 3 nested vmaps (batch 2 each), both libraries:
    what a level costs a small op from Python, entering the levels included."""
    def adds(t):
        for _ in range(20):
            t = t + t
        return t

    out = []
    for depth in range(4):
        shape = (2,) * depth + (4,)
        xs, xt = sy.ones(*shape), torch.ones(*shape)
        fs, ft = adds, adds
        for _ in range(depth):
            fs, ft = sy.func.vmap(fs), functorch.vmap(ft)
        out.append((f"Adds20Depth{depth}", (lambda f, x: lambda: f(x))(fs, xs),
                    (lambda f, x: lambda: f(x))(ft, xt), None))
    return out


def per_call(fn, number):
    return timeit.timeit(fn, number=number) / number


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = {}
    for name, sy_fn, ft_fn, loop_fn in cases() + level_cases():
        for fn in (sy_fn, ft_fn) + ((loop_fn,) if loop_fn else ()):
            fn()  # warm up
        number = max(1, int(0.02 / max(per_call(sy_fn, 3), 1e-7)))
        s, f, lo = [], [], []
        for _ in range(args.rounds):
            s.append(per_call(sy_fn, number))
            f.append(per_call(ft_fn, number))
            if loop_fn:
                lo.append(per_call(loop_fn, max(1, number // 20)))
        row = {"switchyard": statistics.median(s), "functorch": statistics.median(f)}
        if lo:
            row["sy_python_loop"] = statistics.median(lo)
        results[name] = row
        extra = ""
        if lo:
            extra = f"  python loop {row['sy_python_loop'] * 1e6:8.1f} us ({row['sy_python_loop'] / row['switchyard']:.1f}x slower)"
        print(f"{name:12s} switchyard {row['switchyard'] * 1e6:8.1f} us  functorch "
              f"{row['functorch'] * 1e6:8.1f} us  ratio {row['switchyard'] / row['functorch']:.2f}x{extra}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
