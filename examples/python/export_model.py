"""Exports a small MLP for the C example (examples/c/run_model.c): trace, save, check.

usage: export_model.py MODEL_PATH

The model takes a [batch, 4] float32 input (any batch) and returns [batch, 2] scores.
Its weights are fixed numbers, so the C program can print what to expect.
"""
import sys

import switchyard as sy


def main(path: str) -> None:
    w1 = sy.tensor([[0.5, -0.25, 1.0], [0.25, 0.5, -1.0], [-0.5, 1.0, 0.5], [1.0, 0.0, 0.25]])
    b1 = sy.tensor([0.1, -0.2, 0.3])
    w2 = sy.tensor([[1.0, -1.0], [0.5, 0.5], [-0.25, 1.0]])
    b2 = sy.tensor([0.0, 0.5])

    def mlp(x):
        return sy.ops.sy.addmm(b2, sy.relu(sy.ops.sy.addmm(b1, x, w1)), w2)

    model = sy.aot.compile(mlp, sy.ones(8, 4), path)
    x = sy.ones(2, 4)
    print(f"exported {path}: inputs {model.input_shapes}; for ones(2, 4) it returns {model(x).tolist()}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
