"""Seed 002's script and the PrivateUse1 example, run as users run them."""

import os
import pathlib
import subprocess
import sys

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples" / "python"


def _run(script):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return subprocess.run([sys.executable, str(EXAMPLES / script)], capture_output=True,
                          text=True, env=env, timeout=120)


def test_seed_script_runs_the_cpu_kernel_and_explains_missing_cuda():
    done = _run("seed_002.py")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "in my_func_cpu!!!"
    assert "without CUDA" in lines[1]
    assert "in my_func_cuda" not in done.stdout


def test_privateuse1_backend_runs_its_own_python_kernel():
    done = _run("privateuse1_backend.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "in my_func_cpu",
        "cpu -> [2.0, 3.0]",
        "in my_func_privateuse1",
        "privateuse1 -> [101.0, 102.0]",
    ]


def test_library_left_alive_at_exit_is_removed_cleanly():
    code = (
        "import switchyard as sy\n"
        "from switchyard.library import Library\n"
        "lib = Library('exit_ns', 'DEF')\n"
        "lib.define('f(Tensor self) -> Tensor')\n"
        "lib.impl('f', lambda s: s, 'CPU')\n"
        "keep = [lib, sy.ops.exit_ns.f]\n"
        "lib.cycle = keep\n"
        "print(sy.ops.exit_ns.f(sy.tensor([1.0])).item())\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1.0" and done.stderr == ""
