"""Autograd from Python next to PyTorch's, timed in one run (issue 13).

    PYTHONPATH=build/release/python /usr/bin/python3 benchmarks/python/bench_autograd.py

- MLP32 / MLP1024: one training step of a 64-128-10 MLP (matmul, relu,
  log_softmax, nll loss, backward, SGD update) at batch 32 and 1024;
- ForwardAD16: forward-mode AD of (sin(x) * x).sum() on 16 floats (enter a dual
  level, make_dual, the ops, unpack_dual).

As in bench_python.py: switchyard and torch alternate rounds, the figure is the
median per call over rounds, ratio = switchyard / torch.
"""

import argparse
import json
import statistics
import sys
import timeit

import switchyard as sy
from switchyard.autograd import forward_ad as sy_fwad

import torch
import torch.autograd.forward_ad as torch_fwad
import torch.nn.functional as F


def mlp_env(lib, batch):
    gen = torch.Generator().manual_seed(0)
    data = {
        "x": torch.randn(batch, 64, generator=gen),
        "y": torch.randint(0, 10, (batch,), generator=gen),
        "w1": torch.randn(64, 128, generator=gen) * 0.1,
        "b1": torch.zeros(128),
        "w2": torch.randn(128, 10, generator=gen) * 0.1,
        "b2": torch.zeros(10),
    }
    if lib == "torch":
        env = {k: v.clone() for k, v in data.items()}
        for k in ("w1", "b1", "w2", "b2"):
            env[k].requires_grad_()
        env["F"] = F
        env["torch"] = torch
        return env
    env = {k: sy.tensor(v.tolist(), dtype=sy.int64 if k == "y" else sy.float32)
           for k, v in data.items()}
    for k in ("w1", "b1", "w2", "b2"):
        env[k].requires_grad_()
    env["yi"] = env["y"].unsqueeze(1)
    env["sy"] = sy
    return env


MLP_TORCH = """
h = (x @ w1 + b1).relu()
loss = F.nll_loss(F.log_softmax(h @ w2 + b2, 1), y)
for p in (w1, b1, w2, b2):
    p.grad = None
loss.backward()
with torch.no_grad():
    for p in (w1, b1, w2, b2):
        p -= p.grad * 0.01
"""

MLP_SY = """
h = (x @ w1 + b1).relu()
loss = -(h @ w2 + b2).log_softmax(1).gather(1, yi).mean()
for p in (w1, b1, w2, b2):
    p.grad = None
loss.backward()
with sy.no_grad():
    for p in (w1, b1, w2, b2):
        p -= p.grad * 0.01
"""

FWAD = """
with fw.dual_level():
    d = fw.make_dual(p, t)
    r = fw.unpack_dual((d.sin() * d).sum()).tangent
"""


def fwad_env(lib):
    if lib == "torch":
        return {"fw": torch_fwad, "p": torch.rand(16), "t": torch.rand(16)}
    return {"fw": sy_fwad, "p": sy.rand([16]), "t": sy.rand([16])}


# (name, what, switchyard (stmt, env), torch (stmt, env), target ratio, calls per round)
def cases():
    return [
        ("MLP32", "64-128-10 MLP training step, batch 32",
         (MLP_SY, mlp_env("sy", 32)), (MLP_TORCH, mlp_env("torch", 32)), 0.5, 200),
        ("MLP1024", "64-128-10 MLP training step, batch 1024",
         (MLP_SY, mlp_env("sy", 1024)), (MLP_TORCH, mlp_env("torch", 1024)), 1.0, 20),
        ("ForwardAD16", "forward AD of (sin(x) * x).sum() on 16 floats",
         (FWAD, fwad_env("sy")), (FWAD, fwad_env("torch")), 0.2, 2000),
    ]


def per_call_ns(stmt, env, number):
    return timeit.timeit(stmt, globals=env, number=number) / number * 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--threads", type=int,
                        help="intra-op threads on both sides (default: torch's count)")
    args = parser.parse_args()
    # Both sides run on the same number of threads (matrix products included):
    # switchyard defaults to every hardware thread, while torch may start with fewer.
    threads = args.threads or torch.get_num_threads()
    torch.set_num_threads(threads)
    sy.set_num_threads(threads)
    print(f"switchyard {sy.__version__}; torch {torch.__version__}; python "
          f"{sys.version.split()[0]}; threads: switchyard {sy.get_num_threads()}, "
          f"torch {torch.get_num_threads()}; median of {args.rounds} rounds")
    print(f"{'case':<12} {'switchyard':>12} {'torch':>12} {'ratio':>8} {'target':>8}  met?")
    results = []
    for name, what, (sy_stmt, sy_env), (t_stmt, t_env), target, number in cases():
        per_call_ns(sy_stmt, sy_env, max(1, number // 10))
        per_call_ns(t_stmt, t_env, max(1, number // 10))
        sy_times, t_times = [], []
        for _ in range(args.rounds):
            sy_times.append(per_call_ns(sy_stmt, sy_env, number))
            t_times.append(per_call_ns(t_stmt, t_env, number))
        sy_ns, t_ns = statistics.median(sy_times), statistics.median(t_times)
        ratio = sy_ns / t_ns
        met = "yes" if ratio <= target else "NO"
        print(f"{name:<12} {sy_ns / 1000:>10.1f}us {t_ns / 1000:>10.1f}us {ratio:>7.2f}x "
              f"{'<=' + str(target) + 'x':>8}  {met}")
        results.append({"case": name, "what": what, "switchyard_ns": sy_ns, "torch_ns": t_ns,
                        "ratio": ratio, "target": target})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
