"""Ahead of time: save a traced function once, run it anywhere (docs/aot.md).

    model = sy.aot.compile(fn, example_inputs, "model.sy")   # trace, save, load
    model = sy.aot.load("model.sy")                          # in another process
    y = model(x)

A model runs with the GIL released, so Python threads calling it run in parallel;
the same file loads from C++ (``sy::aot::Model::load``) and from C
(``switchyard/aot/c_api.h``), with no Python in the process.
"""
from switchyard import _C

Model = _C.AotModel


def compile(fn, example_inputs, path):  # noqa: A001 (the name DESIGN.md gives it)
    """Traces ``fn(*example_inputs)``, saves the graph to ``path``, and returns it loaded.

    Args:
        fn: a function of tensors returning a tensor or a tuple of tensors.
        example_inputs: a tensor or a tuple/list of tensors to trace with.
        path: where to write the model file.
    """
    # Tensors the function captures are the model's weights, as intended here:
    # no warning about them (sy.trace warns); graph.warnings still lists them.
    _C._trace(fn, example_inputs).save(str(path))
    return load(path)


def load(path):
    """Loads the model saved at ``path``; a ValueError says what is wrong with a bad file."""
    return _C._aot_load(str(path))
