"""Shared helpers for the Python tests."""

import itertools

import pytest

import switchyard as sy

_counter = itertools.count()


def requires_op(name):
    """Skips a test while op ``name`` ("sy::matmul") is not registered; runs it once it is."""
    return pytest.mark.skipif(not sy.op_exists(name), reason=f"op {name} is not registered yet")


@pytest.fixture
def ns():
    """A fresh namespace name per test, so libraries of different tests never collide."""
    return f"pytest_ns{next(_counter)}"


@pytest.fixture(scope="session")
def prober():
    """Runs probes in a child process (isolation.Prober): a crash fails only its own test."""
    from isolation import Prober

    with Prober(timeout=120) as p:
        yield p
