"""The child side of isolation.Prober: runs one probe a request line, answers on fd 1.

Requests are JSON lines on stdin: {"target": "module:function", "args": [...]}.
Each answer is one JSON line on the original stdout; the probe's own prints (and
C-level writes to fd 1) go to stderr, so they cannot corrupt the channel.
"""

import importlib
import json
import os
import sys


def jsonable(value):
    """The value as JSON: tensors (switchyard's or torch's) as their dtype, shape and values."""
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else repr(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if hasattr(value, "dtype") and hasattr(value, "shape") and hasattr(value, "tolist"):
        out = {"dtype": str(value.dtype).rsplit(".", 1)[-1], "shape": list(value.shape)}
        if str(getattr(value, "device", "cpu")) == "cpu":
            out["values"] = jsonable(value.tolist())
        else:
            out["device"] = str(value.device)
        return out
    return repr(value)


def main():
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # whatever probes print on fd 1 goes to stderr
    sys.stdout = sys.stderr
    modules = {}
    for line in sys.stdin:
        request = json.loads(line)
        module_name, _, function_name = request["target"].partition(":")
        try:
            module = modules.get(module_name) or importlib.import_module(module_name)
            modules[module_name] = module
            value = getattr(module, function_name)(*request["args"])
            reply = {"status": "ok", "value": jsonable(value)}
            text = json.dumps(reply)
        except BaseException as e:  # noqa: BLE001 - every outcome is reported
            if isinstance(e, KeyboardInterrupt):
                raise
            reply = {"status": "raised", "error": type(e).__name__, "message": str(e)[:4000]}
            text = json.dumps(reply)
        channel.write(text + "\n")
        channel.flush()


if __name__ == "__main__":
    main()
