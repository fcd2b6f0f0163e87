"""``sy.threading.Thread``: a ``threading.Thread`` that runs under its creator's state.

A plain ``threading.Thread`` starts with default per-thread state: grad mode on,
no inference mode, no included or excluded keys, whatever the thread that
created it had (in PyTorch too, a common surprise). This one captures a
``sy.ThreadLocalState`` when it is constructed and installs it around ``run``.
"""

import threading as _threading

from switchyard import _C


class Thread(_threading.Thread):
    """Like ``threading.Thread``; ``run`` sees the creating thread's modes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sy_state = _C.ThreadLocalState()

    def run(self):
        with self._sy_state:
            super().run()
