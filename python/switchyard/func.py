"""Composable function transforms, with torch.func's signatures (docs/transforms.md).

``vmap(fn)`` runs ``fn`` on a batch as if on one example: each input's ``in_dims``
dimension becomes the batch dimension of a batched tensor at a new level of the
calling thread's transform stack, ``fn`` runs once, and each output's batch
dimension is put at ``out_dims``::

    import switchyard as sy
    dots = sy.func.vmap(lambda x, y: (x * y).sum())(xs, ys)   # xs, ys: [B, n] -> [B]
    sy.func.vmap_fallback_counts()  # ops that ran once per example, by name
"""

import functools

from switchyard import _C
from switchyard.autograd import forward_ad as _fwAD

__all__ = ["vmap", "grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian",
           "vmap_fallback_counts"]

# ---- nested structures (tuples, lists, dicts; anything else is a leaf) ---------------------


def _flatten(tree):
    """The leaves of ``tree`` in order, and a spec that rebuilds it."""
    if isinstance(tree, (tuple, list)):
        leaves, specs = [], []
        for item in tree:
            item_leaves, spec = _flatten(item)
            leaves += item_leaves
            specs.append((len(item_leaves), spec))
        return leaves, (type(tree), specs)
    if isinstance(tree, dict):
        leaves, specs = [], []
        for key, item in tree.items():
            item_leaves, spec = _flatten(item)
            leaves += item_leaves
            specs.append((key, len(item_leaves), spec))
        return leaves, (dict, specs)
    return [tree], None


def _unflatten(leaves, spec):
    if spec is None:
        return leaves[0]
    kind, specs = spec
    out, i = [], 0
    if kind is dict:
        result = {}
        for key, n, sub in specs:
            result[key] = _unflatten(leaves[i:i + n], sub)
            i += n
        return result
    for n, sub in specs:
        out.append(_unflatten(leaves[i:i + n], sub))
        i += n
    return kind(out) if kind in (tuple, list) else kind(*out)


def _broadcast_dims(dims, tree, what, path="", leaves_out=None):
    """One dim per leaf of ``tree``: an int or None applies to every leaf under it;
    otherwise ``dims`` must have ``tree``'s structure."""
    if leaves_out is None:
        leaves_out = []
    if dims is None or isinstance(dims, int):
        leaves_out += [dims] * len(_flatten(tree)[0])
        return leaves_out
    if isinstance(dims, (tuple, list)) and isinstance(tree, (tuple, list)) and len(dims) == len(tree):
        for i, (d, t) in enumerate(zip(dims, tree)):
            _broadcast_dims(d, t, what, f"{path}[{i}]", leaves_out)
        return leaves_out
    if isinstance(dims, dict) and isinstance(tree, dict) and dims.keys() == tree.keys():
        for key in tree:
            _broadcast_dims(dims[key], tree[key], what, f"{path}[{key!r}]", leaves_out)
        return leaves_out
    raise ValueError(
        f"vmap: {what}{path} is {dims!r}, which does not match the structure of the value there "
        f"({type(tree).__name__}{'' if not isinstance(tree, (tuple, list, dict)) else ' of ' + str(len(tree))}); "
        f"give an int, None, or a structure with the same shape")


def _is_tensor(x):
    return isinstance(x, _C.Tensor)


# ---- vmap ------------------------------------------------------------------------------------


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """Returns ``func`` batched over dimension ``in_dims`` of its inputs.

    Args:
        func: a function of tensors (or nested tuples, lists and dicts of them)
            returning tensors (or nested structures of them).
        in_dims: an int (every input's batch dim), None (not batched), or a tuple with
            one entry per positional argument, each an int, None, or a structure like
            that argument's.
        out_dims: where each output's batch dim goes: an int, or a structure like the
            outputs'. None keeps an output that is the same for every example as it is.
        randomness: what random ops inside do: "error" (refuse), "same" (one draw for
            the whole batch) or "different" (one draw per example).
        chunk_size: None (the whole batch at once), or how many examples each call of
            ``func`` sees: the batch runs in chunks of that size and the outputs are
            concatenated, bounding memory (1 is a loop over the examples).
    """
    if randomness not in ("error", "same", "different"):
        raise ValueError(f"vmap: randomness={randomness!r} is not one of 'error', 'same', 'different'")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int)
                                   or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or an int greater than 0 (got "
                         f"{chunk_size!r})")
    if not isinstance(in_dims, (int, tuple)) and in_dims is not None:
        raise ValueError(f"vmap: in_dims must be an int, None or a tuple, got {type(in_dims).__name__}")

    flat_in_dims = isinstance(in_dims, int) or (
        isinstance(in_dims, tuple) and all(d is None or isinstance(d, int) for d in in_dims))

    def whole(args, kwargs):
        if flat_in_dims:
            out, level = _vmap_flat(func, args, kwargs, in_dims, randomness, out_dims)
            if level is None:
                return out
            if level is not False:
                return _finish(out, level)
        return general(args, kwargs)

    def general(args, kwargs):
        flat_args, args_spec, flat_dims = _flat_in(args)
        batch_size = _C._func_batch_size([a for a, d in zip(flat_args, flat_dims) if d is not None],
                                         [d for d in flat_dims if d is not None])
        with _C._VmapLevel(batch_size, randomness) as level:
            batched = [a if d is None else _C._func_add_batch_dim(a, d, level)
                       for a, d in zip(flat_args, flat_dims)]
            out = func(*_unflatten(batched, args_spec), **kwargs)
        return _finish(out, level)

    def _finish(out, level):
        flat_out, out_spec = _flatten(out)
        for i, o in enumerate(flat_out):
            if not _is_tensor(o):
                raise ValueError(
                    f"vmap: the function must return tensors (or nested tuples, lists, dicts of "
                    f"them); output {i} is a {type(o).__name__}")
        flat_out_dims = _broadcast_dims(out_dims, out, "out_dims")
        results = [_C._func_remove_batch_dim(o, level, d, i)
                   for i, (o, d) in enumerate(zip(flat_out, flat_out_dims))]
        return _unflatten(results, out_spec)

    def _chunked(args, kwargs):
        flat_args, args_spec, flat_dims = _flat_in(args)
        batch = _C._func_batch_size([a for a, d in zip(flat_args, flat_dims) if d is not None],
                                    [d for d in flat_dims if d is not None])
        if batch <= chunk_size:
            return whole(args, kwargs)
        # "same" is one draw for the whole batch: every chunk replays the draws of the
        # first from the same generator state, as functorch does.
        rng = _C._RngState() if randomness == "same" else None
        outs = []
        for start in range(0, batch, chunk_size):
            n = min(chunk_size, batch - start)
            if rng is not None:
                rng.restore()
            part = [a if d is None else a.narrow(d, start, n) for a, d in zip(flat_args, flat_dims)]
            outs.append(whole(tuple(_unflatten(part, args_spec)), kwargs))
        flat_outs = [_flatten(o)[0] for o in outs]
        out_spec = _flatten(outs[0])[1]
        flat_out_dims = _broadcast_dims(out_dims, outs[0], "out_dims")
        import switchyard as sy
        results = [leaves[0] if d is None else sy.cat(list(leaves), d)
                   for leaves, d in zip(zip(*flat_outs), flat_out_dims)]
        return _unflatten(results, out_spec)

    def _flat_in(args):
        if isinstance(in_dims, tuple) and len(in_dims) != len(args):
            raise ValueError(
                f"vmap: in_dims has {len(in_dims)} entries but the function was called with "
                f"{len(args)} positional arguments; give one entry per argument")
        flat_args, args_spec = _flatten(list(args))
        flat_dims = _broadcast_dims(list(in_dims) if isinstance(in_dims, tuple) else in_dims,
                                    list(args), "in_dims")
        for i, (a, d) in enumerate(zip(flat_args, flat_dims)):
            if d is not None and not _is_tensor(a):
                raise ValueError(
                    f"vmap: input {i} has in_dim {d} but is a {type(a).__name__}, not a tensor; "
                    f"only tensors can be batched (give it in_dim None)")
        return flat_args, args_spec, flat_dims

    if chunk_size is None and flat_in_dims:
        # The common case in one C++ call (docs/transforms.md): level None when it did
        # everything, False when the arguments need the general path (nested
        # structures, or an in_dims count that does not match, which it reports).
        def wrapped(*args, **kwargs):
            out, level = _vmap_flat(func, args, kwargs, in_dims, randomness, out_dims)
            if level is None:
                return out
            return general(args, kwargs) if level is False else _finish(out, level)
    else:
        def wrapped(*args, **kwargs):
            if chunk_size is not None:
                return _chunked(args, kwargs)
            return whole(args, kwargs)

    return functools.wraps(func)(wrapped)


_vmap_flat = _C._func_vmap_flat
_grad_flat = _C._func_grad_flat


def vmap_fallback_counts():
    """How often each op without a batching rule ran once per example, by op name."""
    return dict(_C._func_vmap_fallback_counts())


def _reset_vmap_fallback_counts():
    _C._func_reset_vmap_fallback_counts()


def _set_vmap_fallback_error(error):
    """With True, an op without a batching rule is an error naming it instead of a loop."""
    _C._func_set_vmap_fallback_error(bool(error))


def _transform_stack():
    """The calling thread's transforms, innermost first."""
    return _C._func_transform_stack()


# ---- grad, vjp, jvp and the Jacobians ------------------------------------------------------
#
# grad and jvp act on physical tensors (docs/transforms.md): each differentiated input
# becomes a fresh leaf batched at every enclosing vmap level, the function runs under a
# grad (or jvp) level of the stack, and autograd computes the result.


def _argnums_tuple(argnums, nargs, what):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums:
        raise ValueError(f"{what}: argnums is empty; name at least one argument")
    for a in nums:
        if not isinstance(a, int) or not -nargs <= a < nargs:
            raise ValueError(f"{what}: argnums entry {a!r} is out of range for a function called "
                             f"with {nargs} positional arguments")
    return tuple(a % nargs for a in nums)


def _prepare_inputs(args, nums):
    """args with the inputs at ``nums`` replaced by fresh differentiable leaves."""
    args = list(args)
    needs_graph = _C._func_outer_levels_need_graph()
    groups = []
    for a in nums:
        leaves, spec = _flatten(args[a])
        fresh = []
        for leaf in leaves:
            if not _is_tensor(leaf):
                raise ValueError(f"grad: argument {a} holds a {type(leaf).__name__}; only tensors "
                                 f"can be differentiated")
            t, ng = _C._func_make_grad_input(leaf)
            needs_graph = needs_graph or ng
            fresh.append(t)
        args[a] = _unflatten(fresh, spec)
        groups.append((fresh, spec))
    return args, groups, needs_graph


def _detach_tree(tree, needs_graph):
    if needs_graph:
        return tree
    leaves, spec = _flatten(tree)
    return _unflatten([_C._func_without_graph(x) if _is_tensor(x) else x for x in leaves], spec)


def grad_and_value(func, argnums=0, has_aux=False):
    """Returns a function computing ``(gradient, value)`` of ``func`` (``(gradient,
    (value, aux))`` with ``has_aux``), as torch.func.grad_and_value.

    Args:
        func: returns a one-element tensor (and, with has_aux, a pair ``(loss, aux)``).
        argnums: the positional argument (int) or arguments (tuple) to differentiate;
            each may be a nested structure of tensors.
        has_aux: whether ``func`` returns ``(loss, aux)``.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        # Tensor arguments at argnums: one C++ call (docs/transforms.md, "Python").
        fast = _grad_flat(func, args, kwargs, argnums, has_aux)
        if fast is not None:
            grads, value, aux, needs_graph = fast
            g = grads[0] if isinstance(argnums, int) else tuple(grads)
            if has_aux:
                return g, (value, _detach_tree(aux, needs_graph))
            return g, value
        nums = _argnums_tuple(argnums, len(args), "grad")
        args, groups, needs_graph = _prepare_inputs(args, nums)
        with _C._TransformLevel("grad"):
            out = func(*args, **kwargs)
        aux = None
        if has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise ValueError("grad: with has_aux=True the function must return a pair "
                                 "(loss, aux)")
            out, aux = out
        if not _is_tensor(out):
            raise ValueError(f"grad: the function must return a tensor (the loss), got a "
                             f"{type(out).__name__}")
        flat = [t for fresh, _ in groups for t in fresh]
        grads = _C._func_grads_of(out, flat, needs_graph)
        results, i = [], 0
        for fresh, spec in groups:
            results.append(_unflatten(grads[i:i + len(fresh)], spec))
            i += len(fresh)
        g = results[0] if isinstance(argnums, int) else tuple(results)
        value = _detach_tree(out, needs_graph)
        if has_aux:
            return g, (value, _detach_tree(aux, needs_graph))
        return g, value

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """Returns a function computing the gradient of ``func`` (a one-element result) with
    respect to the arguments at ``argnums``; with ``has_aux``, ``(gradient, aux)``."""
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(func, *primals, has_aux=False):
    """``func(*primals)`` and a function taking cotangents (shaped like the output)
    to the vector-Jacobian products with respect to each primal, as torch.func.vjp."""
    args, groups, needs_graph = _prepare_inputs(primals, tuple(range(len(primals))))
    with _C._TransformLevel("grad"):
        out = func(*args)
    aux = None
    if has_aux:
        out, aux = out
    flat_out, out_spec = _flatten(out)
    for o in flat_out:
        if not _is_tensor(o):
            raise ValueError(f"vjp: the function must return tensors, got a {type(o).__name__}")
    # Called inside vmaps newer than vjp's (vmap(vjp_fn), also inside other vmaps), the
    # cotangents' batch goes through one batched backward (docs/transforms.md).
    backward = _C._VjpBackward(flat_out, [t for fresh, _ in groups for t in fresh], needs_graph)

    def vjp_fn(cotangents):
        flat_cot, _ = _flatten(cotangents)
        if len(flat_cot) != len(flat_out):
            raise ValueError(f"vjp: {len(flat_cot)} cotangents for {len(flat_out)} outputs; give "
                             f"one per output, in the outputs' structure")
        for i, c in enumerate(flat_cot):
            if not _is_tensor(c):
                raise ValueError(f"vjp: cotangent {i} is a {type(c).__name__}, not a tensor")
        gs = backward(flat_cot)
        results, i = [], 0
        for fresh, spec in groups:
            results.append(_unflatten(gs[i:i + len(fresh)], spec))
            i += len(fresh)
        return tuple(results)

    value = _detach_tree(out, needs_graph)
    if has_aux:
        return value, vjp_fn, _detach_tree(aux, needs_graph)
    return value, vjp_fn


def jvp(func, primals, tangents):
    """``(func(*primals), J @ tangents)``: the Jacobian-vector product by forward-mode
    AD, as torch.func.jvp. ``primals`` and ``tangents`` are tuples of the same structure."""
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple):
        raise ValueError("jvp: primals and tangents must be tuples")
    flat_p, spec = _flatten(list(primals))
    flat_t, tspec = _flatten(list(tangents))
    if len(flat_p) != len(flat_t):
        raise ValueError(f"jvp: {len(flat_p)} primals and {len(flat_t)} tangents; they must "
                         f"have the same structure")
    for p, t in zip(flat_p, flat_t):
        if not (_is_tensor(p) and _is_tensor(t)) or tuple(p.shape) != tuple(t.shape):
            raise ValueError("jvp: each primal and its tangent must be tensors of the same shape")
    needs_graph = _C._func_outer_levels_need_graph() or any(
        x.requires_grad for x in flat_p + flat_t)
    with _fwAD.dual_level():
        duals = [_C._func_wrap_canonical(_fwAD.make_dual(_C._func_canonical_physical(p),
                                                         _C._func_canonical_physical(t)))
                 for p, t in zip(flat_p, flat_t)]
        with _C._TransformLevel("jvp"):
            out = func(*_unflatten(duals, spec))
        flat_out, out_spec = _flatten(out)
        primal_out, tangent_out = [], []
        for o in flat_out:
            if not _is_tensor(o):
                raise ValueError(f"jvp: the function must return tensors, got a {type(o).__name__}")
            p, t = _fwAD.unpack_dual(_C._func_canonical_physical(o))
            if not needs_graph:
                p, t = p.detach(), (t.detach() if t is not None else None)
            primal_out.append(_C._func_wrap_canonical(p))
            tangent_out.append(_C._func_wrap_canonical(t if t is not None else p.detach() * 0))
    return _unflatten(primal_out, out_spec), _unflatten(tangent_out, out_spec)


def _eye_rows(n, like):
    import switchyard as sy
    return sy.eye(n, dtype=like.dtype)


def _jacobian_blocks(rows, row_leaves, col_leaves, rows_first):
    """Splits a batched result into one block an (output leaf, input leaf) pair.

    ``rows`` is a flat list, one a leaf of the side the basis ran over, each [n, *shape]
    (n the total size of the other side). With ``rows_first`` the basis ran over the
    outputs (jacrev: block [*out_shape, *in_shape] = rows[out offset: +size]); otherwise
    over the inputs (jacfwd: the block is the input's columns moved last)."""
    blocks = [[None] * len(col_leaves) for _ in row_leaves]
    if rows_first:
        off = 0
        for i, o in enumerate(row_leaves):
            n = o.numel()
            for j, (r, x) in enumerate(zip(rows, col_leaves)):
                blocks[i][j] = r.narrow(0, off, n).reshape(tuple(o.shape) + tuple(x.shape))
            off += n
    else:
        for i, (c, o) in enumerate(zip(rows, row_leaves)):
            off = 0
            for j, x in enumerate(col_leaves):
                n = x.numel()
                part = c.narrow(0, off, n)
                if part.dim() > 1:
                    part = part.permute(*(tuple(range(1, part.dim())) + (0,)))
                blocks[i][j] = part.reshape(tuple(o.shape) + tuple(x.shape))
                off += n
    return blocks


def _jacobian_tree(blocks, out_spec, arg_specs, argnums):
    """The blocks arranged as torch.func does: the outputs' structure outside, the
    argnums (a tuple when argnums is one) inside, each argument's structure within."""
    per_out = []
    for row in blocks:
        parts, i = [], 0
        for leaves_n, spec in arg_specs:
            parts.append(_unflatten(row[i:i + leaves_n], spec))
            i += leaves_n
        per_out.append(parts[0] if isinstance(argnums, int) else tuple(parts))
    return _unflatten(per_out, out_spec)


def _split_args(args, nums, what):
    """The leaves of the arguments at ``nums`` (tensors), their specs, and a function
    rebuilding the arguments from new leaves."""
    leaves, specs = [], []
    for a in nums:
        ls, spec = _flatten(args[a])
        for leaf in ls:
            if not _is_tensor(leaf):
                raise ValueError(f"{what}: argument {a} holds a {type(leaf).__name__}; only "
                                 f"tensors can be differentiated")
        leaves += ls
        specs.append((len(ls), spec))

    def rebuild(new):
        xs, i = list(args), 0
        for a, (n, spec) in zip(nums, specs):
            xs[a] = _unflatten(list(new[i:i + n]), spec)
            i += n
        return xs

    return leaves, specs, rebuild


def _outputs(out, has_aux, what):
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2):
            raise ValueError(f"{what}: with has_aux=True the function must return a pair "
                             f"(output, aux)")
        out, aux = out
    else:
        aux = None
    flat, spec = _flatten(out)
    for o in flat:
        if not _is_tensor(o):
            raise ValueError(f"{what}: the function must return tensors (or nested tuples, "
                             f"lists, dicts of them), got a {type(o).__name__}")
    return flat, spec, aux


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None):
    """The Jacobian of ``func`` with respect to the argument(s) at ``argnums`` (an int or
    a tuple), by reverse mode: one batched backward over the outputs' rows, as
    torch.func.jacrev. Outputs may be nested structures of tensors: the result has
    their structure, each entry the argnums' (a tuple for a tuple argnums). With
    ``has_aux`` ``func`` returns ``(output, aux)`` and this ``(jacobian, aux)``;
    ``chunk_size`` bounds how many rows one backward computes."""

    @functools.wraps(func)
    def wrapper(*args):
        nums = _argnums_tuple(argnums, len(args), "jacrev")
        leaves, arg_specs, rebuild = _split_args(args, nums, "jacrev")
        flat_out, out_spec, aux = _outputs(func(*args), has_aux, "jacrev")
        like = flat_out[0] if flat_out else leaves[0]
        n = sum(o.numel() for o in flat_out)

        def outputs_dot(e, *xs):
            flat, _, _ = _outputs(func(*rebuild(xs)), has_aux, "jacrev")
            import switchyard as sy
            return (sy.cat([o.reshape(-1) for o in flat]) * e).sum()

        def row(e, *xs):
            return grad(outputs_dot, tuple(range(1, len(xs) + 1)))(e, *xs)

        rows = vmap(row, in_dims=(0,) + (None,) * len(leaves), chunk_size=chunk_size)(
            _eye_rows(n, like), *leaves)
        blocks = _jacobian_blocks(list(rows), flat_out, leaves, rows_first=True)
        jac = _jacobian_tree(blocks, out_spec, arg_specs, argnums)
        return (jac, _detach_tree(aux, False)) if has_aux else jac

    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error", chunk_size=None):
    """The Jacobian of ``func`` with respect to the argument(s) at ``argnums`` (an int or
    a tuple), by forward mode: one batched jvp over the inputs' basis, as
    torch.func.jacfwd (structures, ``has_aux`` as in jacrev). ``chunk_size`` bounds how
    many columns one jvp computes."""

    @functools.wraps(func)
    def wrapper(*args):
        nums = _argnums_tuple(argnums, len(args), "jacfwd")
        leaves, arg_specs, rebuild = _split_args(args, nums, "jacfwd")
        n = sum(x.numel() for x in leaves)
        eye = _eye_rows(n, leaves[0])
        basis, off = [], 0
        for x in leaves:
            basis.append(eye.narrow(1, off, x.numel()).reshape((n,) + tuple(x.shape)))
            off += x.numel()
        specs = {}  # the structures of the outputs and the aux (plain Python values)

        def column(*vs):
            def f(*xs):
                flat, specs["out"], aux = _outputs(func(*rebuild(xs)), has_aux, "jacfwd")
                aux_leaves, specs["aux"] = _flatten(aux)
                specs["n_out"] = len(flat)
                return tuple(flat) + (tuple(aux_leaves) if has_aux else ())

            primals_out, tangents = jvp(f, tuple(leaves), tuple(vs))
            k = specs["n_out"]
            # The aux's primal values: each column's is the same (the aux of the point).
            return tuple(tangents[:k]), tuple(primals_out[k:])

        cols, aux_cols = vmap(column, randomness=randomness, chunk_size=chunk_size)(*basis)
        blocks = _jacobian_blocks(list(cols), [c[0] for c in cols], leaves, rows_first=False)
        jac = _jacobian_tree(blocks, specs["out"], arg_specs, argnums)
        if has_aux:
            return jac, _unflatten([a[0] for a in aux_cols], specs["aux"])
        return jac

    return wrapper


def hessian(func, argnums=0):
    """The Hessian of ``func`` (a one-element result): ``jacfwd(jacrev(func))``."""
    return jacfwd(jacrev(func, argnums), argnums)
