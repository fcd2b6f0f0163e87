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

#include <cxxabi.h>

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
  PyObject_HEAD Tensor tensor;
  PyObject* dict;
  PyObject* weakrefs;
  PyObject* device;  // a wrapper subclass's device (its impl is meta); null otherwise
};

extern PyTypeObject* tensor_type;

inline bool is_tensor(PyObject* o) {
  return Py_TYPE(o) == tensor_type || PyObject_TypeCheck(o, tensor_type);
}
inline const Tensor& unwrap(PyObject* o) { return reinterpret_cast<PyTensor*>(o)->tensor; }
// The wrapper of `t` (new reference): its existing wrapper, or a new one that is
// kept unless the calling thread is hermetic. None for an undefined tensor.
PyObject* wrap(Tensor t);

// New wrappers that wrap() makes on the calling thread get type `type` (a
// subclass of sy.Tensor) while this lives; existing wrappers keep theirs.
class WrapAs {
 public:
  explicit WrapAs(PyTypeObject* type);
  ~WrapAs();
  WrapAs(const WrapAs&) = delete;
  WrapAs& operator=(const WrapAs&) = delete;

 private:
  PyTypeObject* saved_;
};

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
// when `o` is not of that type. An exception raised by the object's own
// conversion (__index__) propagates as py::error_already_set.
bool from_python(PyObject* o, const SchemaType& type, IValue& out);
// Why `o` is not a `type`, when there is more to say than its Python type: an
// int that overflows int64, a str that is not UTF-8, another library's tensor,
// a list of the wrong length or with a bad element. Nothing otherwise.
std::optional<std::string> explain_mismatch(PyObject* o, const SchemaType& type);

// ---- unboxed calls of table ops ---------------------------------------------------------
// See Note [Unboxed Python calls] in ops.cpp.

// Each converts `o` to the C++ type a typed handle takes for one schema type,
// accepting exactly what from_python accepts for that type; false (and no
// Python error set) when `o` is not of that type. A tensor is borrowed: `out`
// points at the wrapper's own handle. An exception raised by the object's own
// conversion (__index__) propagates as py::error_already_set.
bool unboxed_arg(PyObject* o, const Tensor*& out);                    // Tensor
bool unboxed_arg(PyObject* o, std::optional<Tensor>& out);            // Tensor?
bool unboxed_arg(PyObject* o, Scalar& out);                           // Scalar
bool unboxed_arg(PyObject* o, std::optional<Scalar>& out);            // Scalar?
bool unboxed_arg(PyObject* o, int64_t& out);                          // int
bool unboxed_arg(PyObject* o, std::optional<int64_t>& out);           // int?
bool unboxed_arg(PyObject* o, double& out);                           // float
bool unboxed_arg(PyObject* o, std::optional<double>& out);            // float?
bool unboxed_arg(PyObject* o, bool& out);                             // bool
bool unboxed_arg(PyObject* o, std::optional<bool>& out);              // bool?
bool unboxed_arg(PyObject* o, ScalarType& out);                       // ScalarType
bool unboxed_arg(PyObject* o, std::optional<ScalarType>& out);        // ScalarType?
bool unboxed_arg(PyObject* o, std::string_view& out);                 // str (kept by `o`)
bool unboxed_arg(PyObject* o, std::optional<std::string_view>& out);  // str?
bool unboxed_arg(PyObject* o, Device& out);                           // Device
bool unboxed_arg(PyObject* o, std::optional<Device>& out);            // Device?
bool unboxed_arg(PyObject* o, std::nullopt_t& out);                   // Generator? (only None)

// The elements a tensor argument counts for kReleaseGilElements.
inline int64_t unboxed_elements(const Tensor* t) { return t->defined() ? t->numel() : 0; }
inline int64_t unboxed_elements(const std::optional<Tensor>& t) {
  return t && t->defined() ? t->numel() : 0;
}

// The generated entry of one table op (<build>/generated/python/unboxed_calls.cpp):
// `values` holds the Python object of each schema argument
// (defaults filled in); converts them and, when all fit, calls the op through
// its typed handle, stores its result in `result` and returns true. False when
// a value does not fit (the overload does not match; nothing was called).
using UnboxedEntry = bool (*)(PyObject* const* values, Tensor& result);
// The entry of the table op `name` ("sy::add.Tensor") taking `num_args`
// arguments, or null when it has none (its arguments or result are of other
// types, or it is not a table op).
UnboxedEntry find_unboxed_entry(std::string_view name, size_t num_args);
inline constexpr size_t kMaxUnboxedArgs = 16;

// ---- data from elsewhere --------------------------------------------------------------

// A new tensor holding a copy of `data` (sy.tensor): see Note [Reading nested
// data] in tensor_data.cpp. Made on `alloc_device` (which must hand out host
// memory) unless the data holds arrays, then on the cpu.
Tensor tensor_from_data(PyObject* data, std::optional<ScalarType> dtype, Device alloc_device);
// A cpu tensor sharing memory with an object that has the buffer protocol (a
// numpy array, bytes); `readonly` tells whether the buffer may not be written.
Tensor tensor_from_buffer(PyObject* obj, bool& readonly);
// A cpu tensor sharing memory with an object that has __dlpack__, or a capsule.
Tensor tensor_from_dlpack(py::handle obj);

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
  } catch (abi::__forced_unwind&) {  // pthread_exit: See Note [Threads at interpreter exit]
    throw;
  } catch (...) {
    set_python_error(std::current_exception());
    return on_error;
  }
}

// ---- the GIL at interpreter exit, and the C stack -----------------------------------------

// Note [Threads at interpreter exit]
// When the interpreter exits while a daemon thread is inside switchyard (a large
// op with the GIL released, a Python kernel, a trace), that thread cannot come
// back: CPython ends a thread that asks for the GIL during finalization with
// pthread_exit, and the unwinding that starts runs C++ destructors without the
// GIL (PyGILState_Release then aborts) or meets a frame that may not unwind.
// So such a thread sleeps until the process ends instead: once an atexit hook
// has marked the interpreter as exiting, a thread other than the exiting one
// that wants the GIL back sleeps rather than ask; and where switchyard waits for
// the GIL or calls into Python, the unwinding pthread_exit starts is caught
// (abi::__forced_unwind) and the thread sleeps inside the handler, so no C++
// frame unwinds. guarded() lets that unwinding pass to the nearest such place.

// Called by the atexit hook (switchyard/__init__.py), on the exiting thread.
void mark_interpreter_exiting();
// For a thread the interpreter is ending: never returns; the process exit ends it.
[[noreturn]] void sleep_until_process_exit();

// Runs `call`, which takes the GIL or runs Python code; if CPython ends the
// thread meanwhile, it sleeps until the process exits instead of unwinding.
template <typename F>
decltype(auto) sleep_if_ended(F&& call) {
  try {
    return call();
  } catch (abi::__forced_unwind&) {
    sleep_until_process_exit();
  }
}
// Takes the GIL back after PyEval_SaveThread(); during interpreter exit, never
// returns on threads other than the exiting one.
void restore_gil(PyThreadState* state);
// PyGILState_Ensure(), with the same rule.
PyGILState_STATE ensure_gil();

// Holds the GIL for its lifetime (any thread, whether it holds it or not), by
// ensure_gil()'s rule.
class GilState {
 public:
  GilState() : state_(ensure_gil()) {}
  ~GilState() { PyGILState_Release(state_); }
  GilState(const GilState&) = delete;
  GilState& operator=(const GilState&) = delete;

 private:
  PyGILState_STATE state_;
};

// Runs `body` without the GIL when `release` is true (no destructor retakes it:
// see Note [Threads at interpreter exit]).
template <typename F>
void maybe_without_gil(bool release, F&& body) {
  if (!release) {
    body();
    return;
  }
  PyThreadState* state = PyEval_SaveThread();
  try {
    body();
  } catch (...) {
    restore_gil(state);
    throw;
  }
  restore_gil(state);
}

// Raises Python's RecursionError (as py::error_already_set) when less C stack
// is left than one more trip through Python and C++ needs. Checked where Python
// enters switchyard and where switchyard enters Python, so a recursion through
// both ends in an exception whatever sys.getrecursionlimit() says.
void check_stack_depth(const char* where);

// Calls of more elements than this (summed over the tensor arguments) release
// the GIL while C++ works; below it, releasing and retaking costs more than it frees.
inline constexpr int64_t kReleaseGilElements = 1 << 15;

// Runs `call`, which returns a Tensor, without the GIL when the call's tensor
// arguments hold `elements` >= kReleaseGilElements (an unboxed call's rule).
template <typename F>
Tensor call_releasing_gil_if_large(int64_t elements, F&& call) {
  if (SY_LIKELY(elements < kReleaseGilElements)) return call();
  Tensor result;
  maybe_without_gil(true, [&] { result = call(); });
  return result;
}

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
void init_aot(py::module_& m);
void init_serialization(py::module_& m);
void init_python_dispatch(py::module_& m);
void init_func(py::module_& m);

// A tensor, or a tuple or list of tensors, as a vector; a TypeError says which
// caller (`who`) got what instead.
std::vector<Tensor> tensors_from(py::handle seq, const char* who, const char* what);
// One output as itself, several as a tuple.
py::object outputs_to_python(const std::vector<Tensor>& out);

}  // namespace sy::python
