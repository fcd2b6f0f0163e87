"""Writes the TorchScript models bench_aot.cpp times switchyard's AOT runtime against.

usage: make_torchscript_models.py OUT_DIR

For each model, OUT_DIR gets <name>.pt (torch.jit.trace, saved) and one raw little-endian
float32 file per weight, <name>_<weight>.bin, from which the benchmark builds the same
model in switchyard. Run with Debian's /usr/bin/python3 (torch 1.13); nothing is committed.
"""
import sys
from pathlib import Path

import numpy as np
import torch


def weights(rng, shapes):
    return {k: torch.from_numpy(rng.standard_normal(s).astype(np.float32) * 0.1) for k, s in shapes.items()}


class OneOp(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x)


class MmAddReluSum(torch.nn.Module):
    def __init__(self, w):
        super().__init__()
        self.w = w["w"]
        self.b = w["b"]

    def forward(self, x):
        return torch.sum(torch.relu(torch.mm(x, self.w) + self.b))


class Mlp(torch.nn.Module):
    def __init__(self, w):
        super().__init__()
        self.w1, self.b1, self.w2, self.b2 = w["w1"], w["b1"], w["w2"], w["b2"]

    def forward(self, x):
        return torch.addmm(self.b2, torch.relu(torch.addmm(self.b1, x, self.w1)), self.w2)


class Pointwise(torch.nn.Module):
    def __init__(self, w):
        super().__init__()
        self.w, self.b = w["w"], w["b"]

    def forward(self, x):
        return torch.add(torch.tanh(x * self.w + self.b) * torch.sigmoid(x), x, alpha=0.5)


class Arith(torch.nn.Module):
    def __init__(self, w):
        super().__init__()
        self.w, self.b = w["w"], w["b"]

    def forward(self, x):
        return torch.relu(x * self.w + self.b) * 0.5 - x


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    small = weights(rng, {"w": (4, 4), "b": (4, 4)})
    mlp = weights(rng, {"w1": (64, 128), "b1": (128,), "w2": (128, 10), "b2": (10,)})
    pointwise = weights(rng, {"w": (1024,), "b": (1024,)})
    arith = weights(rng, {"w": (1024,), "b": (1024,)})
    models = {
        "one_op": (OneOp(), {}, torch.zeros(4)),
        "mm_add_relu_sum": (MmAddReluSum(small), small, torch.zeros(4, 4)),
        "mlp": (Mlp(mlp), mlp, torch.zeros(32, 64)),
        "pointwise": (Pointwise(pointwise), pointwise, torch.zeros(1024, 1024)),
        "arith": (Arith(arith), arith, torch.zeros(1024, 1024)),
    }
    with torch.no_grad():
        for name, (module, ws, example) in models.items():
            torch.jit.trace(module.eval(), example).save(str(out / f"{name}.pt"))
            for key, w in ws.items():
                (out / f"{name}_{key}.bin").write_bytes(w.contiguous().numpy().astype("<f4").tobytes())


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
