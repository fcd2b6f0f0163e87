"""``sy.linalg``: the vector norms of torch.linalg, and the matrix norms that need no
decomposition (Frobenius, 1, -1, inf, -inf), over the op ``sy::linalg_vector_norm``."""

import builtins as _builtins

from switchyard.ops import ops

_INF = float("inf")


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """``(sum |x|^ord)^(1/ord)`` over ``dim`` (every element when None), as
    ``torch.linalg.vector_norm``: ord ``inf`` / ``-inf`` is the largest / smallest
    magnitude, ord 0 the number of nonzeros."""
    if isinstance(dim, _builtins.int):
        dim = [dim]
    return ops.sy.linalg_vector_norm(x, ord, dim, keepdim, dtype=dtype)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The matrix norm over the two dims ``dim``, as ``torch.linalg.matrix_norm``:
    ``'fro'``, or ``1`` / ``-1`` (the largest / smallest column sum of magnitudes) and
    ``inf`` / ``-inf`` (the same over rows). ``'nuc'`` and ``2`` / ``-2`` need singular
    values, which switchyard does not compute: they are a NotImplementedError."""
    dim = list(dim)
    if len(dim) != 2:
        raise ValueError(f"linalg.matrix_norm: dim must name two dims, got {dim}")
    if A.ndim < 2:
        raise ValueError(
            f"linalg.matrix_norm: A must have at least 2 dims, got a {A.ndim}-d tensor")
    r, c = (d % A.ndim for d in dim)
    if r == c:
        raise ValueError(f"linalg.matrix_norm: dim must name two different dims, got {dim}")
    if dtype is not None:
        A = A.to(dtype)
    if ord == "fro":
        return ops.sy.linalg_vector_norm(A, 2, [r, c], keepdim)
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(
            f"linalg.matrix_norm: ord={ord!r} needs singular values, which switchyard does "
            "not compute; 'fro', 1, -1, inf and -inf work")
    if ord not in (1, -1, _INF, -_INF):
        raise ValueError(
            f"linalg.matrix_norm: ord={ord!r} is not a matrix norm; use 'fro', 'nuc', 1, -1, "
            "2, -2, inf or -inf")
    # ord +-1 sums down the columns (over dim r) and takes the max / min over c;
    # ord +-inf the other way round.
    summed, across = (r, c) if ord in (1, -1) else (c, r)
    sums = ops.sy.sum(ops.sy.abs(A), [summed], True)
    pick = sums.max(across, True) if ord > 0 else sums.min(across, True)
    out = pick.values
    if not keepdim:
        out = out.squeeze(max(r, c)).squeeze(min(r, c))
    return out


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """``torch.linalg.norm``: with ``ord`` None, the 2-norm of every element (over
    ``dim`` when given); a vector norm when ``dim`` is an int or A is 1-d, a matrix
    norm (:func:`matrix_norm`) when ``dim`` names two dims or A is 2-d."""
    if isinstance(dim, _builtins.int):
        dim = [dim]
    if ord is None:
        if dim is not None and len(dim) == 2:
            return matrix_norm(A, "fro", dim, keepdim, dtype=dtype)
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        if A.ndim == 1:
            return vector_norm(A, ord, None, keepdim, dtype=dtype)
        if A.ndim == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
        raise ValueError(
            f"linalg.norm: with ord={ord!r} and no dim, A must be 1-d or 2-d, got {A.ndim}-d")
    if len(dim) == 1:
        return vector_norm(A, ord, dim, keepdim, dtype=dtype)
    if len(dim) == 2:
        return matrix_norm(A, ord, dim, keepdim, dtype=dtype)
    raise ValueError(f"linalg.norm: dim must name one or two dims, got {list(dim)}")
