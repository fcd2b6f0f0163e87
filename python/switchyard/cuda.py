"""``sy.cuda``: this build has no CUDA backend."""


def is_available():
    """Whether a CUDA device can be used: never, in a build without CUDA."""
    return False


def device_count():
    return 0
