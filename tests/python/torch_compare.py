"""Helpers for tests that compare switchyard with PyTorch 1.13 value by value."""

import numpy as np

import switchyard as sy


def to_sy(t):
    """The switchyard tensor with torch tensor t's values, dtype and shape."""
    s = sy.tensor(t.tolist(), dtype=getattr(sy, str(t.dtype).split(".")[1]))
    return s.reshape(list(t.shape))


def same(s, t, approx=False):
    """Asserts that s (switchyard) and t (torch) agree in shape, dtype and values."""
    assert tuple(s.shape) == tuple(t.shape), (s.shape, t.shape)
    assert s.dtype == getattr(sy, str(t.dtype).split(".")[1]), (s.dtype, t.dtype)
    if approx:
        np.testing.assert_allclose(np.array(s.tolist(), dtype=float),
                                   np.array(t.tolist(), dtype=float), rtol=1e-6)
    else:
        assert str(s.tolist()) == str(t.tolist())
