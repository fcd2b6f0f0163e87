"""sy.trace: tracing a Python function, printing the graph, replaying it."""
import warnings

import pytest

import switchyard as sy


def f(x, y):
    return sy.relu(sy.ops.sy.mm(x, y)) + 1


def test_trace_prints_each_op_and_replays_like_eager():
    g = sy.trace(f, (sy.rand(2, 3), sy.rand(3, 4)))
    text = str(g)
    assert "sy::mm(%0, %1)" in text
    assert "sy::relu" in text
    assert g.num_nodes == 3
    x, y = sy.rand(2, 3), sy.rand(3, 4)
    assert g(x, y).tolist() == f(x, y).tolist()


def test_exception_in_the_traced_function_propagates_and_leaves_no_state():
    def bad(x):
        sy.ops.sy.add(x, x)
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        sy.trace(bad, (sy.ones(2),))
    assert not sy._C._is_tracing()


def test_tensor_from_outside_becomes_a_constant_with_a_warning():
    outside = sy.full([3], 2.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = sy.trace(lambda x: x + outside, sy.ones(3))
    assert any("constant" in str(w.message) for w in caught)
    assert g(sy.ones(3)).tolist() == [3.0, 3.0, 3.0]


def test_replay_checks_its_inputs():
    g = sy.trace(lambda x: x * 2, sy.ones(2, 2))
    with pytest.raises(TypeError, match="dtype int64"):
        g(sy.ones(2, 2, dtype=sy.int64))
    with pytest.raises(ValueError, match="takes 1 inputs"):
        g(sy.ones(2, 2), sy.ones(2, 2))


def test_multiple_outputs_come_back_as_a_tuple():
    g = sy.trace(lambda a, b: (a + b, a * b), (sy.ones(2), sy.ones(2)))
    s, p = g(sy.full([2], 3.0), sy.full([2], 4.0))
    assert s.tolist() == [7.0, 7.0]
    assert p.tolist() == [12.0, 12.0]


def test_same_tensor_passed_twice_is_two_graph_inputs():
    t = sy.ones(3)
    g = sy.trace(lambda x, y: x + y, (t, t))
    assert "%0 : float32[3]" in str(g) and "%1 : float32[3]" in str(g)
    assert g(sy.ones(3), sy.zeros(3)).tolist() == [1.0, 1.0, 1.0]


def test_check_and_replay_name_an_op_redefined_with_other_returns():
    from switchyard.library import Library

    with Library("trace_redef_py", "DEF") as lib:
        lib.define("f(Tensor x) -> Tensor")
        lib.impl("f", lambda x: x + x, "CPU")
        g = sy.trace(lambda x: sy.ops.trace_redef_py.f(x) + x, sy.ones(2))
        assert g(sy.ones(2)).tolist() == [3.0, 3.0]
    with Library("trace_redef_py", "DEF") as lib:
        lib.define("f(Tensor x) -> int")
        lib.impl("f", lambda x: 7, "CPU")
        with pytest.raises(ValueError, match="node 0 calls trace_redef_py::f, which was redefined"):
            g.check()
        with pytest.raises(ValueError, match="node 0 calls trace_redef_py::f, which was redefined"):
            g(sy.ones(2))
