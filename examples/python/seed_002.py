"""Seed 002's user story, with torch replaced by switchyard.

Defines my_lib::my_func in Python, registers a Python kernel per device, and
calls it through sy.ops. This machine has no CUDA, so the last call fails with
a clear error instead of reaching the CUDA kernel; see privateuse1_backend.py
for a device with its own Python kernels that does run.
"""

import switchyard as sy
from switchyard.library import Library, impl

my_lib = Library("my_lib", "DEF")

my_lib.define('my_func(Tensor self) -> None')


@impl(my_lib, 'my_func', 'CPU')
def my_func_cpu(self):
    print('in my_func_cpu!!!')


@impl(my_lib, 'my_func', 'CUDA')
def my_func_cuda(self):
    print('in my_func_cuda!!!')


sy.ops.my_lib.my_func(sy.tensor([]))
try:
    sy.ops.my_lib.my_func(sy.tensor([]).cuda())
except RuntimeError as e:
    print(f"no CUDA here: {e}")
