"""sy.func.vmap side by side with torch 1.13's functorch.vmap.

Each case runs the same function, written once over a module `m` (switchyard or
torch), under both vmaps on the same values, and compares the results; the error
cases check that both refuse the same inputs.
"""

import functools
import threading

import functorch
import functorch._src.vmap as functorch_vmap
import numpy as np
import pytest
import torch

import switchyard as sy
from switchyard.library import Library

RNG = np.random.default_rng(0)


def both(*shapes):
    """The same random float32 values as a torch tensor and a switchyard tensor, per shape."""
    out = []
    for shape in shapes:
        a = RNG.standard_normal(shape).astype(np.float32)
        out.append((torch.tensor(a), sy.tensor(a.tolist(), dtype=sy.float32)))
    return out


def close(s, t, tol=1e-5):
    if isinstance(t, (tuple, list)):
        assert isinstance(s, (tuple, list)) and len(s) == len(t)
        for a, b in zip(s, t):
            close(a, b, tol)
        return
    if isinstance(t, dict):
        assert s.keys() == t.keys()
        for k in t:
            close(s[k], t[k], tol)
        return
    assert tuple(s.shape) == tuple(t.shape)
    np.testing.assert_allclose(np.array(s.tolist(), dtype=np.float64).reshape(tuple(t.shape)),
                               t.double().numpy(), rtol=tol, atol=tol)


VMAP = {sy: sy.func.vmap, torch: functorch.vmap}

CASES = [
    # (name, fn(m, *xs), shapes, in_dims, out_dims)
    ("pointwise", lambda m, x: x * 2 + 1, [(8, 4)], 0, 0),
    ("binary broadcast", lambda m, x, y: x * y - y, [(5, 3), (3,)], (0, None), 0),
    ("in_dim 1", lambda m, x, y: (x * y).sum(), [(3, 6), (6, 3)], (1, 0), 0),
    ("negative in_dim, out_dim 1", lambda m, x: x.exp() + x, [(2, 3, 4)], -1, 1),
    ("matmul shared weight", lambda m, x, w: (x @ w).relu().sum(), [(7, 4), (4, 3)], (0, None), 0),
    ("mm both batched", lambda m, a, b: m.mm(a, b), [(3, 2, 4), (3, 4, 5)], 0, 0),
    ("reduce dims", lambda m, x: x.sum(0) + x.prod(1).sum(), [(4, 3, 5)], 0, 0),
    ("mean keepdim", lambda m, x: x.mean(-1, keepdim=True), [(4, 3, 5)], 0, 0),
    ("softmax", lambda m, x: m.softmax(x, -1), [(4, 6)], 0, 0),
    ("views", lambda m, x: x.transpose(0, 1).reshape(-1)[1:5].unsqueeze(0), [(3, 2, 4)], 0, 0),
    ("permute view", lambda m, x: x.permute(2, 0, 1).view(4, 6), [(2, 2, 3, 4)], 0, 0),
    ("cat and stack", lambda m, x, y: m.cat([x, x * y], 0) + m.stack([x, x + y]).sum(0).sum(0), [(3, 2), (2,)], (0, None), 0),
    ("cumsum", lambda m, x: m.cumsum(x, 1), [(3, 4, 2)], 0, 0),
    ("where", lambda m, x, y: m.where(x > 0, x, y), [(5, 4), (5, 4)], 0, 0),
    ("var", lambda m, x: x.var(0), [(4, 6, 3)], 0, 0),
    ("max dim", lambda m, x: x.max(1)[0], [(4, 6, 3)], 0, 0),
    ("tuple output", lambda m, x: (x + 1, x.sum()), [(3, 4)], 0, (1, 0)),
    ("dot", lambda m, x, y: m.dot(x, y), [(5, 4), (4,)], (0, None), 0),
    ("gather", lambda m, x: m.gather(x, 1, m.zeros(2, 2, dtype=m.int64)), [(3, 2, 3)], 0, 0),
]


@pytest.mark.parametrize("name,fn,shapes,in_dims,out_dims", CASES, ids=[c[0] for c in CASES])
def test_vmap_matches_functorch(name, fn, shapes, in_dims, out_dims):
    pairs = both(*shapes)
    want = VMAP[torch](lambda *xs: fn(torch, *xs), in_dims, out_dims)(*[t for t, _ in pairs])
    got = VMAP[sy](lambda *xs: fn(sy, *xs), in_dims, out_dims)(*[s for _, s in pairs])
    close(got, want)


def test_nested_in_dims_over_tuples_lists_and_dicts():
    (xt, xs), (yt, ys), (zt, zs) = both((3, 4), (4, 3), (4,))

    def f(m, pair, d):
        return {"a": pair[0] * d["z"], "b": [pair[1].sum()]}

    in_dims = ((0, 1), {"z": None})
    want = functorch.vmap(lambda p, d: f(torch, p, d), in_dims)((xt, yt), {"z": zt})
    got = sy.func.vmap(lambda p, d: f(sy, p, d), in_dims)((xs, ys), {"z": zs})
    close(got, want)


def test_out_dims_as_a_structure_and_none_for_unbatched_outputs():
    (xt, xs), (wt, ws) = both((3, 4), (4,))
    f = lambda x, w: (x * 2, w + 1)  # noqa: E731
    # functorch 1.13 takes no None in out_dims (later torch.func does).
    want = (functorch.vmap(lambda x: x * 2, 0, 1)(xt), wt + 1)
    got = sy.func.vmap(f, (0, None), (1, None))(xs, ws)
    close(got, want)
    # A batched tensor concatenated with one shared by the batch (functorch 1.13 refuses).
    got = sy.func.vmap(lambda x, w: sy.cat([x, w]), (0, None))(xs, ws)
    close(got, torch.cat([xt, wt.expand(3, 4)], 1))


def test_nested_vmap():
    (xt, xs), (yt, ys) = both((2, 3, 4), (3, 4))
    f = lambda x, y: (x * y).sum()  # noqa: E731
    want = functorch.vmap(functorch.vmap(f, (0, 0)), (0, None))(xt, yt)
    got = sy.func.vmap(sy.func.vmap(f, (0, 0)), (0, None))(xs, ys)
    close(got, want)
    # The inner level batches over the outer one's other dim.
    want = functorch.vmap(functorch.vmap(lambda x: x.sum(), 1), 0)(xt)
    got = sy.func.vmap(sy.func.vmap(lambda x: x.sum(), 1), 0)(xs)
    close(got, want)


def test_size_zero_batch():
    xt, xs = torch.zeros(0, 3), sy.zeros(0, 3)
    close(sy.func.vmap(lambda x: (x * 2).sum())(xs), functorch.vmap(lambda x: (x * 2).sum())(xt))


def test_randomness_modes():
    x = sy.zeros(4, 3)
    with pytest.raises(Exception, match="randomness"):
        sy.func.vmap(lambda t: t + sy.rand(3))(x)
    with pytest.raises(RuntimeError):
        functorch.vmap(lambda t: t + torch.rand(3))(torch.zeros(4, 3))
    same = sy.func.vmap(lambda t: t + sy.rand(3), randomness="same")(x).tolist()
    assert same[0] == same[3]
    different = sy.func.vmap(lambda t: t + sy.rand(3), randomness="different")(x).tolist()
    assert different[0] != different[3]
    like = sy.func.vmap(lambda t: sy.rand_like(t), randomness="different")(x).tolist()
    assert like[1] != like[2]


def test_in_place_ops():
    (xt, xs), = both((3, 4))
    functorch.vmap(lambda t: t.mul_(2))(xt)
    sy.func.vmap(lambda t: t.mul_(2))(xs)
    close(xs, xt)
    captured_t, captured_s = torch.zeros(4), sy.zeros(4)
    with pytest.raises(RuntimeError):
        functorch.vmap(lambda t: captured_t.add_(t))(xt)
    with pytest.raises(ValueError, match=r"add_.*vmap\(level 1\)"):
        sy.func.vmap(lambda t: captured_s.add_(t))(xs)
    assert captured_s.tolist() == [0.0] * 4


# (call, what switchyard's message must say): each names what was wrong and where.
BAD_INPUT = {
    "batch-sizes": (lambda vmap, m: vmap(lambda x, y: x + y)(m.ones(2, 3), m.ones(3, 3)),
                    r"different sizes along their in_dims \(input 0: 2 \(dim 0\), input 1: 3"),
    "in-dim-range": (lambda vmap, m: vmap(lambda x: x, in_dims=2)(m.ones(2, 3)),
                     r"in_dim of input 0 is 2 but that tensor has 2 dims"),
    "in-dim-negative": (lambda vmap, m: vmap(lambda x: x, in_dims=(-3,))(m.ones(2, 3)),
                        r"in_dim of input 0 is -3"),
    "in-dims-count": (lambda vmap, m: vmap(lambda x: x, in_dims=(0, 0))(m.ones(2, 3)),
                      r"in_dims has 2 entries but the function was called with 1"),
    "in-dims-structure": (lambda vmap, m: vmap(lambda x: x, in_dims=((0, 0),))(m.ones(2, 3)),
                          r"in_dims\[0\] is \(0, 0\), which does not match the structure"),
    "in-dims-dict-keys": (lambda vmap, m: vmap(lambda d: d["a"], in_dims=({"b": 0},))(
        {"a": m.ones(2, 3)}), r"in_dims\[0\] is \{'b': 0\}"),
    "in-dims-type": (lambda vmap, m: vmap(lambda x: x, in_dims=[0])(m.ones(2, 3)),
                     r"in_dims must be an int, None or a tuple"),
    "out-dim-range": (lambda vmap, m: vmap(lambda x: x, out_dims=3)(m.ones(2, 3)),
                      r"out_dim of output 0 is 3"),
    "out-dims-structure": (lambda vmap, m: vmap(lambda x: x, out_dims=(0, 0))(m.ones(2, 3)),
                           r"out_dims is \(0, 0\), which does not match"),
    "non-tensor-output": (lambda vmap, m: vmap(lambda x: 3)(m.ones(2, 3)),
                          r"must return tensors.*output 0 is a int"),
    "non-tensor-in-tuple": (lambda vmap, m: vmap(lambda x: (x, "s"))(m.ones(2, 3)),
                            r"must return tensors.*output 1 is a str"),
    "batched-int": (lambda vmap, m: vmap(lambda x, n: x * n)(m.ones(2, 3), 3),
                    r"input 1 has in_dim 0 but is a int, not a tensor"),
    "nothing-batched": (lambda vmap, m: vmap(lambda x: x, in_dims=None)(m.ones(2, 3)),
                        r"no input is batched"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_refused_by_both(case):
    call, message = BAD_INPUT[case]
    with pytest.raises((ValueError, RuntimeError, IndexError)):
        call(functorch.vmap, torch)
    with pytest.raises((ValueError, IndexError), match=message):
        call(sy.func.vmap, sy)
    assert sy.func._transform_stack() == "no transform"


@pytest.mark.parametrize("conversion,body", [
    ("bool", lambda x: x if x.sum() > 0 else -x),
    ("bool", lambda x: x * 2 if x.max() > 0 else x),
    ("float", lambda x: x * float(x.sum())),
    ("int", lambda x: x * int(x.sum())),
    ("item", lambda x: x * x.sum().item()),
])
def test_data_dependent_control_flow_names_the_conversion_and_the_level(conversion, body):
    with pytest.raises(RuntimeError):
        functorch.vmap(body)(torch.ones(2, 3))
    with pytest.raises(ValueError,
                       match=rf"^{conversion}\(\).* on a batched tensor inside vmap\(level 2\) "
                             rf"\(vmap\(level 2\) > vmap\(level 1\)\).*sy\.where"):
        sy.func.vmap(sy.func.vmap(body))(sy.ones(4, 2, 3))
    assert sy.func._transform_stack() == "no transform"


def test_a_transformed_function_called_from_another_thread_while_the_first_is_inside_it():
    # Thread A stops inside the vmapped function; thread B calls the same function
    # meanwhile; each sees only its own one level, and both results are right.
    inside, b_done = threading.Event(), threading.Event()
    stacks, results, errors = {}, {}, []

    def f(x):
        name = threading.current_thread().name
        stacks.setdefault(name, []).append(sy.func._transform_stack())
        if name == "A":
            inside.set()
            assert b_done.wait(10)
            stacks[name].append(sy.func._transform_stack())
        return x * 2

    g = sy.func.vmap(sy.func.vmap(f))

    def run(x):
        try:
            results[threading.current_thread().name] = g(x)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    a = threading.Thread(target=run, args=(sy.ones(3, 2, 4),), name="A")
    a.start()
    assert inside.wait(10)
    b = threading.Thread(target=run, args=(sy.ones(5, 3, 4) * 3,), name="B")
    b.start()
    b.join(10)
    b_done.set()
    a.join(10)
    assert not errors
    assert stacks == {"A": ["vmap(level 2) > vmap(level 1)"] * 2,
                      "B": ["vmap(level 2) > vmap(level 1)"]}
    assert results["A"].tolist() == (sy.ones(3, 2, 4) * 2).tolist()
    assert results["B"].tolist() == (sy.ones(5, 3, 4) * 6).tolist()
    assert sy.func._transform_stack() == "no transform"


def test_fallback_counts_and_error_mode():
    lib = Library("vmap_py", "DEF")
    try:
        lib.define("twice(Tensor x) -> Tensor")
        lib.impl("twice", lambda x: x * 2, "CPU")
        sy.func._reset_vmap_fallback_counts()
        x = sy.ones(3, 2)
        with pytest.warns(UserWarning, match="vmap_py::twice"):
            out = sy.func.vmap(lambda t: sy.ops.vmap_py.twice(t))(x)
        assert out.tolist() == [[2.0, 2.0]] * 3
        assert sy.func.vmap_fallback_counts()["vmap_py::twice"] == 1
        sy.func._set_vmap_fallback_error(True)
        try:
            with pytest.raises(ValueError, match="vmap_py::twice"):
                sy.func.vmap(lambda t: sy.ops.vmap_py.twice(t))(x)
        finally:
            sy.func._set_vmap_fallback_error(False)
    finally:
        lib.destroy()


def test_each_thread_has_its_own_stack():
    errors = []

    def work(k):
        try:
            for _ in range(20):
                x = sy.ones(4, 2) * k
                out = sy.func.vmap(lambda t: t * k)(x)
                assert out.tolist() == [[k * k, k * k]] * 4
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in (2.0, 3.0)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


# ---- chunk_size -------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [1, 3, 5, 100])
def test_chunk_size_gives_the_unchunked_result(chunk_size):
    (xt, xs), (wt, ws) = both((7, 4), (4, 3))

    def f(m, x, w):
        return {"y": (x @ w).sin(), "s": (x * x).sum()}, w * 2

    def run(m, x, w, out_w=0, **kw):
        return VMAP[m](lambda a, b: f(m, a, b), in_dims=(1, None),
                       out_dims=({"y": 1, "s": 0}, out_w), **kw)(x.t(), w)

    got = run(sy, xs, ws, chunk_size=chunk_size)
    close(got, run(torch, xt, wt))
    close(got, run(sy, xs, ws))
    # out_dims None: an output that is the same for every example, kept as it is.
    close(run(sy, xs, ws, out_w=None, chunk_size=chunk_size)[1], wt * 2)


def _draw_after_vmap(m, seed, **vmap_kw):
    """vmap(t + rand(2)) over 7 examples from `seed`, and the generator's next draw."""
    m.manual_seed(seed)
    if m is torch:  # functorch 1.13 takes a number of chunks (chunk_vmap), not a size
        chunks = -(-7 // vmap_kw.pop("chunk_size")) if "chunk_size" in vmap_kw else None
        vm = (functools.partial(functorch_vmap.chunk_vmap, chunks=chunks) if chunks
              else functorch.vmap)
    else:
        vm = sy.func.vmap
    out = vm(lambda t: t + m.rand(2), **vmap_kw)(m.zeros(7, 2))
    return out, m.rand(1)


@pytest.mark.parametrize("chunk_size", [1, 3, 7])
def test_chunk_size_with_same_randomness_draws_once_for_the_batch(chunk_size):
    for m in (sy, torch):
        whole, after_whole = _draw_after_vmap(m, 5, randomness="same")
        chunked, after_chunked = _draw_after_vmap(m, 5, randomness="same", chunk_size=chunk_size)
        # Every example sees the one draw, which is the unchunked vmap's ...
        rows = np.array(chunked.tolist())
        assert (rows == rows[0]).all(), (m.__name__, rows)
        assert rows.tolist() == np.array(whole.tolist()).tolist()
        # ... and the generator moved on as after that one draw.
        assert after_chunked.tolist() == after_whole.tolist()


@pytest.mark.parametrize("chunk_size", [1, 2, 3])
def test_chunk_size_with_different_randomness_draws_every_example(chunk_size):
    for m in (sy, torch):
        out, _ = _draw_after_vmap(m, 5, randomness="different", chunk_size=chunk_size)
        assert tuple(out.shape) == (7, 2)
        values = np.array(out.tolist()).ravel()
        assert len(set(values.tolist())) == values.size, (m.__name__, values)  # no repeats
        assert ((values >= 0) & (values < 1)).all()


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_chunk_size_must_be_a_positive_int(bad):
    with pytest.raises(ValueError, match="chunk_size should be None or an int greater than 0"):
        sy.func.vmap(lambda t: t, chunk_size=bad)
