"""The Python side of the op table: methods, operators, schemas and docstrings."""

import inspect

import switchyard as sy
from switchyard import _op_table


def test_every_table_method_is_the_ops_packet():
    assert _op_table.METHODS
    for name, op in _op_table.METHODS:
        assert getattr(sy.Tensor, name) is getattr(sy.ops.sy, op), name


def test_every_table_operator_is_the_ops_packet():
    for dunder, op in _op_table.OPERATORS:
        assert getattr(sy.Tensor, dunder) is getattr(sy.ops.sy, op), dunder


def test_hand_written_methods_take_the_cpp_methods_parameters():
    # Keyword-only parameters are Python's own options (nonzero's as_tuple).
    for name, overloads in _op_table.CUSTOM_METHODS:
        sig = inspect.signature(getattr(sy.Tensor, name)).parameters.values()
        params = tuple(p.name for p in sig if p.kind != inspect.Parameter.KEYWORD_ONLY)
        assert params[0] == "self"
        assert params[1:] in overloads, (name, params)


def test_each_packet_has_the_tables_overloads():
    for op, schemas in _op_table.SCHEMAS.items():
        expected = {s.split("(")[0].partition(".")[2] or "default" for s in schemas}
        assert set(getattr(sy.ops.sy, op).overloads()) == expected, op


def test_each_packet_carries_the_tables_docstring():
    assert "self + alpha * other" in sy.ops.sy.add.__doc__
    for op, doc in _op_table.DOCS.items():
        assert getattr(sy.ops.sy, op).__doc__ == doc, op


def test_a_method_calls_through_the_packet():
    x = sy.tensor([1.0, 2.0])
    assert x.add(x, alpha=2).tolist() == [3.0, 6.0]
    assert (x + 1).tolist() == [2.0, 3.0]
    assert x.where(x > 1, sy.zeros(2)).tolist() == [0.0, 2.0]
