// What the files of the extension module switchyard._C share: the Tensor
// wrapper type and its one-wrapper-per-tensor rule, dtype and device objects,
// conversions between Python objects and IValues, and the translation of C++
// exceptions into Python ones.
//
// Each file defines one init_<topic>(py::module_&); module.cpp calls them all
// from the one PYBIND11_MODULE. Everything here runs with the GIL held unless
// it says otherwise.
#pragma once

#include <Python.h>
#include <structmember.h>

#include <exception>
#include <memory>
#include <optional>
#include <string>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "switchyard/switchyard.h"

namespace sy::python {

namespace py = pybind11;

// ---- the Tensor wrapper ------------------------------------------------------------

// A Python sy.Tensor: owns one reference to the C++ tensor. The TensorImpl points
// back at it (TensorImpl::python_wrapper) while it lives, unless it was made
// under the hermetic flag. See Note [One wrapper per tensor] in tensor.cpp.
struct PyTensor {
  PyObject_HEAD
  Tensor tensor;
  PyObject* dict;
  PyObject* weakrefs;
};

extern PyTypeObject* tensor_type;

inline bool is_tensor(PyObject* o) {
  return Py_TYPE(o) == tensor_type || PyObject_TypeCheck(o, tensor_type);
}
inline const Tensor& unwrap(PyObject* o) { return reinterpret_cast<PyTensor*>(o)->tensor; }
// The wrapper of `t` (new reference): its existing wrapper, or a new one that is
// kept unless the calling thread is hermetic. None for an undefined tensor.
PyObject* wrap(Tensor t);

// The calling thread's hermetic flag (seed 002): while set, wrap() makes fresh
// wrappers and never stores them on the tensor.
bool is_hermetic();
void set_hermetic(bool on);

// ---- dtypes and devices -------------------------------------------------------------

// The sy.float32, ... object of `t` (borrowed).
PyObject* dtype_object(ScalarType t);
// The ScalarType of a dtype object; nothing for other objects.
std::optional<ScalarType> dtype_of(PyObject* o);
// A new sy.device object.
PyObject* device_object(Device d);
// The Device of a sy.device object or a string ("cpu", "meta:0"); nothing for
// other objects; a malformed string throws sy::ValueError.
std::optional<Device> device_of(PyObject* o);
// The Layout of sy.strided, the MemoryFormat of sy.contiguous_format, ...;
// nothing for other objects.
std::optional<Layout> layout_of(PyObject* o);
std::optional<MemoryFormat> memory_format_of(PyObject* o);

// ---- values ---------------------------------------------------------------------------

// The Python value of `v` (new reference); tensors are wrapped with wrap().
PyObject* to_python(const IValue& v);
// Converts `o` to a value of schema type `type`; false (and no Python error set)
// when `o` is not of that type.
bool from_python(PyObject* o, const SchemaType& type, IValue& out);

// ---- ops ------------------------------------------------------------------------------

// The sy.ops packet of ns::name (new reference), or null (no error set) when no
// overload of it is defined.
PyObject* find_op_packet(const std::string& ns, const std::string& name);
// An OpOverload object for `op` (new reference).
PyObject* overload_object(const OperatorHandle& op);

// Replaces the `num_args` arguments at the end of `stack` with `result`, the
// value a Python callable returned for `op`, converted to the schema's
// returns. A value of the wrong type or count is a TypeError naming `who` (as
// "<what> <repr(who)>") and the op.
void store_results(PyObject* result, const FunctionSchema& schema, const OperatorHandle& op,
                   size_t num_args, Stack& stack, const char* what, PyObject* who);

// The Python key's handler: dispatch modes and tensor subclasses (python_dispatch.cpp).
// Whether `type` is a tensor subclass whose instances carry the Python key
// (it defines __sy_dispatch__).
bool has_python_dispatch(PyTypeObject* type);

// ---- errors ---------------------------------------------------------------------------

// A Python exception that passes through C++ (raised in a Python kernel): keeps
// the exception object with its type and traceback, so that it comes out of
// the sy.ops call as it was raised. Its what() is "TypeName: message".
class PythonError : public Error {
 public:
  // Takes the calling thread's current Python exception (one must be set).
  static PythonError fetch();
  // Sets it as the calling thread's current Python exception again.
  void restore() const;

 private:
  struct State;
  PythonError(std::string message, std::shared_ptr<State> state)
      : Error(std::move(message)), state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

// Sets the Python exception for a C++ exception in flight: PythonError as it
// was raised, sy::TypeError / ValueError / IndexError as Python's, the other
// sy::Error subclasses as switchyard's own exception classes.
void set_python_error(std::exception_ptr e);

// For raw CPython entry points: runs `body` and turns C++ exceptions into a
// Python error, returning `on_error`.
template <typename R, typename F>
R guarded(R on_error, F&& body) {
  try {
    return body();
  } catch (...) {
    set_python_error(std::current_exception());
    return on_error;
  }
}

// Holds the GIL for its lifetime (any thread, whether it holds it or not).
class GilState {
 public:
  GilState() : state_(PyGILState_Ensure()) {}
  ~GilState() { PyGILState_Release(state_); }
  GilState(const GilState&) = delete;
  GilState& operator=(const GilState&) = delete;

 private:
  PyGILState_STATE state_;
};

// Releases the GIL for its lifetime when `release` is true.
class MaybeReleaseGil {
 public:
  explicit MaybeReleaseGil(bool release) : state_(release ? PyEval_SaveThread() : nullptr) {}
  ~MaybeReleaseGil() {
    if (state_) PyEval_RestoreThread(state_);
  }
  MaybeReleaseGil(const MaybeReleaseGil&) = delete;
  MaybeReleaseGil& operator=(const MaybeReleaseGil&) = delete;

 private:
  PyThreadState* state_;
};

// Calls of more elements than this (summed over the tensor arguments) release
// the GIL while C++ works; below it, releasing and retaking costs more than it frees.
inline constexpr int64_t kReleaseGilElements = 1 << 15;

// Incremented whenever a Library from Python defines or removes ops, so that
// cached overload lists know to look again.
uint64_t registration_epoch();
void bump_registration_epoch();

// ---- module parts -------------------------------------------------------------------------

void init_errors(py::module_& m);
void init_dtypes(py::module_& m);
void init_tensor(py::module_& m);
void init_interop(py::module_& m);
void init_ops(py::module_& m);
void init_library(py::module_& m);
void init_modes(py::module_& m);
void init_trace(py::module_& m);
void init_autograd(py::module_& m);
void init_serialization(py::module_& m);
void init_python_dispatch(py::module_& m);
void init_func(py::module_& m);

}  // namespace sy::python
