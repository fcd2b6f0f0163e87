"""Crash isolation: run probes in a child process, so one crash is one probe's failure.

A probe is a function ``module:function`` (importable in the child) called with
JSON-able arguments. A ``Prober`` keeps one worker process (``_probe_worker.py``)
and sends it probes one at a time; the worker answers each with its outcome:

    Outcome("ok", value=...)                    the function returned (its value, made
                                                JSON-able by the probe)
    Outcome("raised", error="TypeError", message="...")
    Outcome("crashed", signal=11, stderr="...") the worker died (SIGSEGV, abort, ...)
    Outcome("timeout", stderr="...")            no answer within the probe's time limit

After a crash or a timeout the worker is replaced and the next probe runs in a
fresh process; nothing else is lost. Workers start lazily and are reused, so a
probe costs a round trip through a pipe, not a process start.
"""

import json
import os
import select
import signal
import subprocess
import sys
from dataclasses import dataclass, field

_HERE = os.path.dirname(os.path.abspath(__file__))
_WORKER = os.path.join(_HERE, "_probe_worker.py")


@dataclass
class Outcome:
    status: str  # "ok", "raised", "crashed" or "timeout"
    value: object = None
    error: str = ""
    message: str = ""
    signal: int = 0
    stderr: str = field(default="", repr=False)

    def describe(self):
        if self.status == "ok":
            return f"returned {self.value!r}"
        if self.status == "raised":
            return f"raised {self.error}: {self.message}"
        if self.status == "crashed":
            name = signal.Signals(self.signal).name if self.signal > 0 else f"exit {-self.signal}"
            return f"crashed ({name}); stderr ends:\n{self.stderr[-2000:]}"
        return f"timed out; stderr ends:\n{self.stderr[-2000:]}"


class Prober:
    """Runs probes in a reusable child process. Not thread-safe; one per test session."""

    def __init__(self, timeout=60.0, env=None):
        self.timeout = timeout
        self.env = dict(os.environ if env is None else env)
        # The child finds the tests' modules and the package the parent imported.
        paths = [_HERE] + [p for p in sys.path if p]
        self.env["PYTHONPATH"] = os.pathsep.join(paths)
        self.env.setdefault("PYTHONFAULTHANDLER", "1")
        self._proc = None
        self._stderr_path = None
        self.crashes = 0

    def _start(self):
        import tempfile

        fd, self._stderr_path = tempfile.mkstemp(prefix="probe-stderr-")
        self._proc = subprocess.Popen(
            [sys.executable, _WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=fd, env=self.env, cwd=_HERE)
        os.close(fd)

    def _stderr(self):
        try:
            with open(self._stderr_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def _discard(self):
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            for stream in (self._proc.stdin, self._proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            os.unlink(self._stderr_path)
        self._proc = None

    def close(self):
        if self._proc is not None and self._proc.poll() is None:
            try:
                self._proc.stdin.close()
                self._proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._discard()

    def run(self, target, *args, timeout=None):
        """Runs ``target`` ("module:function") with ``args`` in the worker; an Outcome."""
        if self._proc is None or self._proc.poll() is not None:
            self._discard()
            self._start()
        request = json.dumps({"target": target, "args": list(args)}) + "\n"
        try:
            self._proc.stdin.write(request.encode())
            self._proc.stdin.flush()
        except BrokenPipeError:
            pass
        line = self._read_line(self.timeout if timeout is None else timeout)
        if line is None:  # timed out
            stderr = self._stderr()
            self._discard()
            self.crashes += 1
            return Outcome("timeout", stderr=stderr)
        if not line:  # the worker died
            self._proc.wait()
            code = self._proc.returncode
            stderr = self._stderr()
            self._discard()
            self.crashes += 1
            return Outcome("crashed", signal=-code if code < 0 else -code or -1, stderr=stderr)
        reply = json.loads(line)
        return Outcome(reply["status"], value=reply.get("value"), error=reply.get("error", ""),
                       message=reply.get("message", ""))

    def _read_line(self, timeout):
        out = self._proc.stdout
        ready, _, _ = select.select([out], [], [], timeout)
        if not ready:
            return None
        return out.readline()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
