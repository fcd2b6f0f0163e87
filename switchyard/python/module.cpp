// The extension module switchyard._C: every part registers itself here, in
// dependency order (errors first: the others translate exceptions with it).
#include "switchyard/python/bindings.h"

PYBIND11_MODULE(_C, m) {
  m.doc() = "switchyard's C++ core: tensors, the dispatcher, Python kernels, modes.";
  sy::python::init_errors(m);
  sy::python::init_dtypes(m);
  sy::python::init_tensor(m);
  sy::python::init_interop(m);
  sy::python::init_ops(m);
  sy::python::init_library(m);
  sy::python::init_modes(m);
  sy::python::init_trace(m);
  sy::python::init_autograd(m);
  sy::python::init_serialization(m);
  sy::python::init_python_dispatch(m);
  sy::python::init_func(m);
}
