"""A backend written in Python: per-device kernels at PrivateUse1.

PrivateUse1 is the dispatch key for a backend supplied from outside the
library. Here it is a toy device whose memory is host memory, so kernels can
work on it through numpy; a real backend would call its own runtime. The same
op gets one Python kernel for the cpu and another for the new device, and
sy.ops picks by the device of the argument.
"""

import switchyard as sy
from switchyard.library import Library, impl

sy._C._privateuse1_use_host_memory()  # tensors on "privateuse1" now have (host) memory

lib = Library("my_lib", "DEF")
lib.define("my_func(Tensor self) -> Tensor")


@impl(lib, "my_func", "CPU")
def my_func_cpu(self):
    print("in my_func_cpu")
    return sy.add(self, 1)


@impl(lib, "my_func", "PrivateUse1")
def my_func_privateuse1(self):
    print("in my_func_privateuse1")
    out = sy.empty(list(self.shape), dtype=self.dtype, device=self.device)
    # The toy device's memory is host memory: compute with numpy, in place.
    out_host = sy.from_dlpack(_host_view(out))
    out_host.copy_(sy.add(sy.from_dlpack(_host_view(self)), 100))
    return out


def _host_view(t):
    """A cpu tensor over a toy-device tensor's memory (no copy)."""
    import ctypes

    import numpy as np

    ctype = {sy.float32: ctypes.c_float, sy.int64: ctypes.c_int64}[t.dtype]
    buffer = (ctype * t.numel()).from_address(t.data_ptr())
    return np.frombuffer(buffer, dtype=np.dtype(ctype)).reshape(t.shape)


x = sy.tensor([1.0, 2.0])
y = sy.tensor([1.0, 2.0], device="privateuse1")
print(x.device, "->", sy.ops.my_lib.my_func(x).tolist())
result = sy.ops.my_lib.my_func(y)
print(result.device, "->", _host_view(result).tolist())
lib.destroy()
