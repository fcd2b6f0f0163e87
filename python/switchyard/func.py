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
        chunk_size: accepted for torch.func compatibility; only None is supported.
    """
    if randomness not in ("error", "same", "different"):
        raise ValueError(f"vmap: randomness={randomness!r} is not one of 'error', 'same', 'different'")
    if chunk_size is not None:
        raise NotImplementedError("vmap: chunk_size is not supported; pass chunk_size=None")
    if not isinstance(in_dims, (int, tuple)) and in_dims is not None:
        raise ValueError(f"vmap: in_dims must be an int, None or a tuple, got {type(in_dims).__name__}")

    flat_in_dims = isinstance(in_dims, int) or (
        isinstance(in_dims, tuple) and all(d is None or isinstance(d, int) for d in in_dims))

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        if flat_in_dims and (isinstance(in_dims, int) or len(in_dims) == len(args)) and not any(
                isinstance(a, (tuple, list, dict)) for a in args):
            # One C++ call for the common case (docs/transforms.md).
            dims = [in_dims] * len(args) if isinstance(in_dims, int) else list(in_dims)
            out, level = _C._func_vmap_flat(func, args, kwargs, dims, randomness, out_dims)
            if level is None:
                return out
            return _finish(out, level)
        if isinstance(in_dims, tuple) and len(in_dims) != len(args):
            raise ValueError(
                f"vmap: in_dims has {len(in_dims)} entries but the function was called with "
                f"{len(args)} positional arguments; give one entry per argument")
        flat_args, args_spec = _flatten(list(args))
        flat_dims = _broadcast_dims(list(in_dims) if isinstance(in_dims, tuple) else in_dims,
                                    list(args), "in_dims")
        tensors, dims = [], []
        for i, (a, d) in enumerate(zip(flat_args, flat_dims)):
            if d is None:
                continue
            if not _is_tensor(a):
                raise ValueError(
                    f"vmap: input {i} has in_dim {d} but is a {type(a).__name__}, not a tensor; "
                    f"only tensors can be batched (give it in_dim None)")
            tensors.append(a)
            dims.append(d)
        batch_size = _C._func_batch_size(tensors, dims)
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

    return wrapped


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
    phys_out = [_C._func_canonical_physical(o) for o in flat_out]
    leaves = [_C._func_canonical_physical(t) for fresh, _ in groups for t in fresh]
    depth = _C._func_vmap_depth()

    def vjp_fn(cotangents):
        now = _C._func_vmap_depth()
        if now > depth and depth > 0:
            raise NotImplementedError(
                "vjp: vmap over vjp_fn inside another vmap is not supported yet; compute the "
                "rows with jacrev (vmap over grad) instead")
        flat_cot, _ = _flatten(cotangents)
        if len(flat_cot) != len(flat_out):
            raise ValueError(f"vjp: {len(flat_cot)} cotangents for {len(flat_out)} outputs")
        phys_cot = []
        for o, c in zip(flat_out, flat_cot):
            if tuple(o.shape) != tuple(c.shape):
                raise ValueError(f"vjp: a cotangent has shape {tuple(c.shape)}, its output "
                                 f"{tuple(o.shape)}")
            # Batched by a vmap around vjp_fn: the backward runs on the batched cotangent.
            phys_cot.append(c if now > depth else _C._func_canonical_physical(c))
        used = [(o, c) for o, c in zip(phys_out, phys_cot) if o.requires_grad]
        if used:
            gs = _C._autograd_grad(tuple(o for o, _ in used), tuple(leaves),
                                   tuple(c for _, c in used), True, needs_graph, True)
        else:
            gs = [None] * len(leaves)
        gs = [g if g is not None else leaf.detach() * 0 for g, leaf in zip(gs, leaves)]
        if now == depth:
            gs = [_C._func_wrap_canonical(g) for g in gs]
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


def jacrev(func, argnums=0):
    """The Jacobian of ``func`` (one tensor output) with respect to the argument at
    ``argnums`` (an int), by reverse mode: one batched backward over the output's rows."""

    @functools.wraps(func)
    def wrapper(*args):
        (a,) = _argnums_tuple(argnums, len(args), "jacrev")
        out = func(*args)
        if not _is_tensor(out):
            raise ValueError("jacrev: the function must return one tensor")
        n = out.numel()

        def row(e, *xs):
            return grad(lambda *ys: (func(*ys).reshape(-1) * e).sum(), a)(*xs)

        rows = vmap(row, in_dims=(0,) + (None,) * len(args))(_eye_rows(n, out), *args)
        return rows.reshape(tuple(out.shape) + tuple(args[a].shape))

    return wrapper


def jacfwd(func, argnums=0, randomness="error"):
    """The Jacobian of ``func`` (one tensor output) with respect to the argument at
    ``argnums`` (an int), by forward mode: one batched jvp over the input's basis."""

    @functools.wraps(func)
    def wrapper(*args):
        (a,) = _argnums_tuple(argnums, len(args), "jacfwd")
        x = args[a]
        n = x.numel()

        def column(v):
            xs = list(args)
            return jvp(lambda y: func(*(xs[:a] + [y] + xs[a + 1:])), (x,), (v.reshape(tuple(x.shape)),))[1]

        cols = vmap(column, randomness=randomness)(_eye_rows(n, x))  # [n, *out]
        out_shape = tuple(cols.shape[1:])
        perm = tuple(range(1, cols.dim())) + (0,)
        return cols.permute(*perm).reshape(out_shape + tuple(x.shape)) if cols.dim() > 1 \
            else cols.reshape(tuple(x.shape))

    return wrapper


def hessian(func, argnums=0):
    """The Hessian of ``func`` (a one-element result): ``jacfwd(jacrev(func))``."""
    return jacfwd(jacrev(func, argnums), argnums)
