"""sy.func.grad, vjp, jvp, jacrev, jacfwd and hessian, alone and composed with
vmap and each other, side by side with torch 1.13's functorch on the same values."""

import functorch
import numpy as np
import pytest
import torch

import switchyard as sy

RNG = np.random.default_rng(1)


def both(*shapes):
    out = []
    for shape in shapes:
        a = RNG.standard_normal(shape)
        out.append((torch.tensor(a), sy.tensor(a.tolist(), dtype=sy.float64)))
    return out


def close(s, t, tol=1e-8):
    if isinstance(t, (tuple, list)):
        assert len(s) == len(t)
        for a, b in zip(s, t):
            close(a, b, tol)
        return
    assert tuple(s.shape) == tuple(t.shape), (s.shape, t.shape)
    np.testing.assert_allclose(np.array(s.tolist(), dtype=np.float64).reshape(tuple(t.shape)),
                               t.detach().numpy(), rtol=tol, atol=tol)


FT = functorch
SY = sy.func


def loss(m, w, x, y):
    d = x @ w - y
    return (d * d).sum()


def test_grad_of_a_sum_of_squares():
    (xt, xs), = both((2,))
    close(SY.grad(lambda t: (t * t).sum())(xs), FT.grad(lambda t: (t * t).sum())(xt))


def test_per_sample_gradients():
    (wt, ws), (xt, xs), (yt, ys) = both((32, 10), (64, 32), (64, 10))
    want = FT.vmap(FT.grad(lambda w, x, y: loss(torch, w, x, y)), in_dims=(None, 0, 0))(wt, xt, yt)
    got = SY.vmap(SY.grad(lambda w, x, y: loss(sy, w, x, y)), in_dims=(None, 0, 0))(ws, xs, ys)
    close(got, want)


def test_argnums_has_aux_and_grad_and_value():
    (xt, xs), (yt, ys) = both((3,), (3,))

    def f(x, y):
        return (x * y.sin()).sum(), x + 1

    close(SY.grad(f, argnums=(0, 1), has_aux=True)(xs, ys)[0],
          FT.grad(f, argnums=(0, 1), has_aux=True)(xt, yt)[0])
    g, (value, aux) = SY.grad_and_value(f, has_aux=True)(xs, ys)
    gt, (vt, at) = FT.grad_and_value(f, has_aux=True)(xt, yt)
    close([g, value, aux], [gt, vt, at])
    assert not g.requires_grad and not value.requires_grad


def test_grad_of_dict_inputs():
    (at, as_), (bt, bs) = both((3,), (3,))
    f = lambda p: (p["a"] * p["b"].exp()).sum()  # noqa: E731
    got = SY.grad(f)({"a": as_, "b": bs})
    want = FT.grad(f)({"a": at, "b": bt})
    close([got["a"], got["b"]], [want["a"], want["b"]])


@pytest.mark.parametrize("order", ["grad(vmap)", "vmap(grad)", "grad(grad)", "jvp(grad)",
                                   "vmap(jvp)", "jvp(vmap)", "grad(jvp)", "jvp(jvp)"])
def test_two_transforms_in_every_order(order):
    (xt, xs), (vt, vs) = both((4, 3), (4, 3))

    def f(m, x):
        return (x.sin() * x * x).sum()

    def run(L, m, x, v):
        if order == "grad(vmap)":
            return L.grad(lambda x: L.vmap(lambda r: f(m, r))(x).sum())(x)
        if order == "vmap(grad)":
            return L.vmap(L.grad(lambda r: f(m, r)))(x)
        if order == "grad(grad)":
            return L.grad(lambda x: L.grad(lambda r: f(m, r))(x).sum())(x)
        if order == "jvp(grad)":
            return L.jvp(L.grad(lambda r: f(m, r)), (x,), (v,))[1]
        if order == "vmap(jvp)":
            return L.vmap(lambda a, b: L.jvp(lambda r: f(m, r), (a,), (b,))[1])(x, v)
        if order == "jvp(vmap)":
            return L.jvp(L.vmap(lambda r: f(m, r)), (x,), (v,))[1]
        if order == "grad(jvp)":
            return L.grad(lambda x: L.jvp(lambda r: f(m, r), (x,), (v,))[1])(x)
        return L.jvp(lambda x: L.jvp(lambda r: f(m, r), (x,), (v,))[1], (x,), (v,))[1]

    close(run(SY, sy, xs, vs), run(FT, torch, xt, vt))


def test_vjp_jacrev_jacfwd_hessian():
    (xt, xs), (ct, cs) = both((3,), (3,))
    f = lambda x: x.sin() * x.exp()  # noqa: E731
    out_s, fn_s = SY.vjp(f, xs)
    out_t, fn_t = FT.vjp(f, xt)
    close([out_s, fn_s(cs)[0]], [out_t, fn_t(ct)[0]])
    close(SY.jacrev(f)(xs), FT.jacrev(f)(xt))
    # vmap over vjp_fn: the Jacobian's rows from one batched backward.
    basis_s, basis_t = sy.eye(3, dtype=sy.float64), torch.eye(3, dtype=torch.float64)
    close(SY.vmap(fn_s)(basis_s)[0], FT.vmap(fn_t)(basis_t)[0])
    close(SY.jacfwd(f)(xs), FT.jacfwd(f)(xt))
    g = lambda x: (x.sin() * x * x).sum()  # noqa: E731
    close(SY.hessian(g)(xs), FT.hessian(g)(xt))
    assert not SY.hessian(g)(xs).requires_grad


def _per_example_jacobians(F, f, xs, eye):
    """vmap over examples of vmap(vjp_fn) over the identity's rows: jacrev's idiom, nested."""
    def jacobian(x):
        _, vjp_fn = F.vjp(f, x)
        return F.vmap(vjp_fn)(eye)[0]
    return F.vmap(jacobian)(xs)


def test_vmap_of_vjp_fn_inside_another_vmap():
    (xt, xs), = both((4, 3))
    eye_s, eye_t = sy.eye(3, dtype=sy.float64), torch.eye(3, dtype=torch.float64)
    f = lambda x: x.sin() * x.sum()  # noqa: E731
    want = FT.vmap(FT.jacrev(f))(xt)
    close(_per_example_jacobians(FT, f, xt, eye_t), want)
    close(_per_example_jacobians(SY, f, xs, eye_s), want)


def test_vmap_of_vjp_fn_with_cotangents_batched_at_both_levels_and_two_outputs():
    (wt, ws), (xt, xs), (ct, cs) = both((3, 2), (4, 3), (4, 5, 2))

    def run(F, m, w, x, c):
        def per_example(x, c):
            (out, vjp_fn) = F.vjp(lambda w, x: ((x @ w).tanh(), (x * x).sum()), w, x)
            # Each of the 5 cotangent rows of this example, with a scalar cotangent of 2.
            return F.vmap(lambda r: vjp_fn((r, r.sum() * 0 + 2)))(c)
        return F.vmap(per_example)(x, c)

    close(run(SY, sy, ws, xs, cs), run(FT, torch, wt, xt, ct))


def test_vmap_of_vjp_fn_twice_nested_and_inside_grad():
    (xt, xs), (ct, cs) = both((3,), (2, 4, 3))
    f = lambda x: x.exp() * x.sum()  # noqa: E731

    def rows(F, x, c):
        _, vjp_fn = F.vjp(f, x)
        return F.vmap(F.vmap(vjp_fn))(c)[0]

    close(rows(SY, xs, cs), rows(FT, xt, ct))
    # Differentiated through: the graph of the batched backward is kept under grad.
    close(SY.grad(lambda x: rows(SY, x, cs).sin().sum())(xs),
          FT.grad(lambda x: rows(FT, x, ct).sin().sum())(xt))


def test_vjp_fn_outside_the_vmap_vjp_ran_in_is_refused():
    kept = []

    def f(x):
        kept.append(SY.vjp(lambda t: t * 2, x)[1])
        return x

    SY.vmap(f)(sy.ones(2, 3))
    with pytest.raises(ValueError, match="outside the 1 vmap level"):
        kept[0](sy.ones(3))
    assert SY._transform_stack() == "no transform"


def test_vetoes_name_the_stack():
    x = sy.ones(2, 3)

    def f(t):
        sy.zeros(2).requires_grad_()
        return t.sum()

    with pytest.raises(ValueError, match=r"requires_grad_\(\) inside grad\(level 2\) > vmap\(level 1\)"):
        SY.vmap(SY.grad(f))(x)

    def g(t):
        y = t * 2
        y.retain_grad()
        return y.sum()

    with pytest.raises(ValueError, match=r"retain_grad\(\) inside grad\(level 1\)"):
        SY.grad(g)(x)
    assert SY._transform_stack() == "no transform"


class _Square(sy.autograd.Function):
    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g


class _MulSin(sy.autograd.Function):
    """x.sin() * w with hand-written backward and jvp (they see one example's values)."""

    @staticmethod
    def forward(x, w):
        return x.sin() * w

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        return g * x.cos() * w, g * x.sin()

    @staticmethod
    def jvp(ctx, tx, tw):
        x, w = ctx.saved_tensors
        out = x.sin() * 0
        if tx is not None:
            out = out + tx * x.cos() * w
        if tw is not None:
            out = out + x.sin() * tw
        return out


def _custom_cases(F, m, mul_sin):
    """The same compositions over `mul_sin(x, w)`: a custom Function or its ops."""
    (xt, xs), (wt, ws), (vt, vs), (ut, us) = CUSTOM_VALUES
    x, w, v, u = (xs, ws, vs, us) if m is sy else (xt, wt, vt, ut)
    x1, v1 = x[0], v[0]
    loss = lambda x, w: mul_sin(x, w).sum()  # noqa: E731
    return {
        "vmap": F.vmap(mul_sin, in_dims=(0, None))(x, w),
        "grad": F.grad(loss, argnums=(0, 1))(x1, w),
        "vmap(grad)": F.vmap(F.grad(loss, argnums=(0, 1)), in_dims=(0, None))(x, w),
        "grad(vmap)": F.grad(lambda x, w: F.vmap(mul_sin, in_dims=(0, None))(x, w).sin().sum(),
                             argnums=(0, 1))(x, w),
        "vmap(vmap(grad))": F.vmap(F.vmap(F.grad(loss), in_dims=(0, None)), in_dims=(0, None))(u, w),
        "jvp": F.jvp(lambda x: mul_sin(x, w), (x1,), (v1,)),
        "vmap(jvp)": F.vmap(lambda x, v: F.jvp(lambda x: mul_sin(x, w), (x,), (v,)))(x, v),
        "jvp(vmap)": F.jvp(lambda x: F.vmap(mul_sin, in_dims=(0, None))(x, w), (x,), (v,)),
        "jacrev": F.jacrev(mul_sin, argnums=(0, 1))(x1, w),
        "jacfwd": F.jacfwd(lambda x: mul_sin(x, w))(x1),
        "hessian": F.hessian(loss)(x1, w),
        "vmap(grad(grad))": F.vmap(F.grad(lambda x: F.grad(loss)(x, w).sin().sum()))(x),
    }


CUSTOM_VALUES = both((4, 3), (3,), (4, 3), (2, 4, 3))


@pytest.mark.parametrize("case", ["vmap", "grad", "vmap(grad)", "grad(vmap)", "vmap(vmap(grad))",
                                  "jvp", "vmap(jvp)", "jvp(vmap)", "jacrev", "jacfwd", "hessian",
                                  "vmap(grad(grad))"])
def test_a_custom_function_under_transforms_equals_its_ops(case):
    # functorch 1.13 cannot run a Function under vmap: the reference is the same
    # computation written with ops, under functorch's transforms.
    got = _custom_cases(SY, sy, _MulSin.apply)[case]
    close(got, _custom_cases(FT, torch, lambda x, w: x.sin() * w)[case])


def test_per_sample_gradients_of_a_custom_function_match_finite_differences():
    (_, xs), (_, ws) = CUSTOM_VALUES[:2]
    g = SY.vmap(SY.grad(lambda x, w: (_MulSin.apply(x, w) ** 2).sum(), argnums=(0, 1)),
                in_dims=(0, None))(xs, ws)
    x, w = np.array(xs.tolist()), np.array(ws.tolist())
    f = lambda x, w: ((np.sin(x) * w) ** 2).sum()  # noqa: E731
    h = 1e-6
    for b in range(x.shape[0]):
        for i in range(x.shape[1]):
            e = np.zeros(x.shape[1])
            e[i] = h
            dx = (f(x[b] + e, w) - f(x[b] - e, w)) / (2 * h)
            dw = (f(x[b], w + e) - f(x[b], w - e)) / (2 * h)
            assert abs(g[0].tolist()[b][i] - dx) < 1e-6
            assert abs(g[1].tolist()[b][i] - dw) < 1e-6


class _ExpAndArgmax(sy.autograd.Function):
    """Saves its output; its second output (an index) is not differentiable."""

    @staticmethod
    def forward(x):
        return x.exp(), x.argmax()

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output[0])
        ctx.mark_non_differentiable(output[1])

    @staticmethod
    def backward(ctx, g, g_index):
        (y,) = ctx.saved_tensors
        return g * y


class _TimesThreeBackward(sy.autograd.Function):
    """Returns its input as it is; the gradient is scaled by 3."""

    @staticmethod
    def forward(x):
        return x

    @staticmethod
    def setup_context(ctx, inputs, output):
        pass

    @staticmethod
    def backward(ctx, g):
        return g * 3


def test_custom_functions_saving_outputs_or_returning_inputs_under_vmap_and_grad():
    (xt, xs), = both((4, 3))
    g = SY.vmap(SY.grad(lambda t: (_ExpAndArgmax.apply(t)[0] * 2).sum()))(xs)
    close(g, 2 * xt.exp())
    assert SY.vmap(lambda t: _ExpAndArgmax.apply(t)[1])(xs).tolist() == xt.argmax(1).tolist()
    three = [[3.0] * 3] * 4
    assert SY.vmap(SY.grad(lambda t: _TimesThreeBackward.apply(t).sum()))(xs).tolist() == three
    # The backward runs after the vmap ended, at levels of its own.
    assert SY.grad(lambda t: SY.vmap(_TimesThreeBackward.apply)(t).sum())(xs).tolist() == three


def test_custom_functions_under_one_transform_and_under_vmap_and_grad():
    x = sy.tensor([1.0, 2.0, 3.0])
    assert SY.grad(lambda t: _Square.apply(t).sum())(x).tolist() == [2.0, 4.0, 6.0]
    assert SY.vmap(lambda t: _Square.apply(t))(sy.ones(2, 3) * 2).tolist() == [[4.0] * 3] * 2
    per_sample = SY.vmap(SY.grad(lambda t: _Square.apply(t).sum()))(sy.ones(2, 3) * 3)
    assert per_sample.tolist() == [[6.0] * 3] * 2
    assert SY._transform_stack() == "no transform"


def test_a_function_without_setup_context_is_refused_inside_a_transform():
    class OldStyle(sy.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = sy.tensor([1.0, 2.0])
    assert OldStyle.apply(x).tolist() == [2.0, 4.0]  # fine outside transforms
    with pytest.raises(ValueError, match=r"OldStyle.apply inside vmap\(level 1\).*setup_context"):
        SY.vmap(lambda t: OldStyle.apply(t))(sy.ones(2, 2))


def test_batched_backward_on_the_engines_pool_threads():
    # Two branches with gradients of >= 65,536 elements: the engine hands one to a pool
    # thread, which must run the batched formulas under the caller's vmap level.
    (xt, xs), (ct, cs) = both((70000,), (2, 70000))
    f = lambda x: x.sin() * 2 + x.cos()  # noqa: E731
    _, fn_s = SY.vjp(f, xs)
    _, fn_t = FT.vjp(f, xt)
    close(SY.vmap(fn_s)(cs)[0], FT.vmap(fn_t)(ct)[0])


def test_jacrev_and_jacfwd_over_tuple_argnums_and_tuple_outputs():
    (xt, xs), (yt, ys) = both((3,), (2,))

    def f(x, y):
        return (x.sum() * y.sin(), x * x.exp())

    for jac in ("jacrev", "jacfwd"):
        for argnums in ((0, 1), (1, 0), 1):
            got = getattr(SY, jac)(f, argnums=argnums)(xs, ys)
            want = getattr(FT, jac)(f, argnums=argnums)(xt, yt)
            close(got, want)


def test_jacobians_with_has_aux_and_dict_arguments():
    (at, as_), (bt, bs) = both((2, 2), (3,))

    def f(p):
        out = (p["a"].sum() * p["b"]).tanh()
        return out, {"norm": (out * out).sum()}

    for jac in ("jacrev", "jacfwd"):
        got, aux = getattr(SY, jac)(f, has_aux=True)({"a": as_, "b": bs})
        want, want_aux = getattr(FT, jac)(f, has_aux=True)({"a": at, "b": bt})
        close([got["a"], got["b"], aux["norm"]], [want["a"], want["b"], want_aux["norm"]])


@pytest.mark.parametrize("chunk_size", [1, 2, 7])
def test_jacobians_in_chunks_equal_the_whole(chunk_size):
    (xt, xs), = both((5,))
    f = lambda x: x.sin() * x.sum()  # noqa: E731
    for jac in ("jacrev", "jacfwd"):
        close(getattr(SY, jac)(f, chunk_size=chunk_size)(xs), getattr(FT, jac)(f)(xt))


def test_hessian_over_two_arguments():
    (xt, xs), (yt, ys) = both((2,), (3,))
    g = lambda x, y: (x.sum() * y * y).sum()  # noqa: E731
    close(SY.hessian(g, argnums=(0, 1))(xs, ys), FT.hessian(g, argnums=(0, 1))(xt, yt))
