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

__all__ = ["vmap", "vmap_fallback_counts"]

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

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
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
