// C++ exceptions into Python ones, and Python exceptions through C++.
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "switchyard/python/bindings.h"

namespace sy::python {

namespace {
// switchyard.Error (a RuntimeError) and its subclasses DispatchError,
// SchemaError and AutogradError; sy::TypeError, ValueError and IndexError
// become Python's own.
PyObject* error_type = nullptr;
PyObject* dispatch_error_type = nullptr;
PyObject* schema_error_type = nullptr;
PyObject* autograd_error_type = nullptr;

std::atomic<uint64_t> epoch{0};
}  // namespace

// ---- the GIL at interpreter exit (Note [Threads at interpreter exit]) ----------------------

namespace {
std::atomic<bool> exiting{false};
std::atomic<unsigned long> exiting_thread{0};

bool must_not_retake_gil() {
  return exiting.load(std::memory_order_acquire) &&
         PyThread_get_thread_ident() != exiting_thread.load(std::memory_order_relaxed);
}

}  // namespace

void sleep_until_process_exit() {
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}

void mark_interpreter_exiting() {
  exiting_thread.store(PyThread_get_thread_ident(), std::memory_order_relaxed);
  exiting.store(true, std::memory_order_release);
}

void restore_gil(PyThreadState* state) {
  if (must_not_retake_gil()) sleep_until_process_exit();
  sleep_if_ended([&] { PyEval_RestoreThread(state); });
}

PyGILState_STATE ensure_gil() {
  // A thread that holds the GIL already (a Python thread calling in) is safe.
  if (PyGILState_Check()) return PyGILState_Ensure();
  if (must_not_retake_gil()) sleep_until_process_exit();
  return sleep_if_ended([] { return PyGILState_Ensure(); });
}

// ---- the C stack -------------------------------------------------------------------------

namespace {
// The lowest stack address a call may start at on this thread: the stack's end
// plus a margin for one more trip through Python and C++ (0 until measured).
thread_local uintptr_t stack_floor = 0;

uintptr_t measure_stack_floor() {
  pthread_attr_t attr;
  void* base = nullptr;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return 1;
  pthread_attr_getstack(&attr, &base, &size);
  pthread_attr_destroy(&attr);
  const size_t margin = std::min<size_t>(size / 4, size_t{512} << 10);
  return reinterpret_cast<uintptr_t>(base) + margin;
}
}  // namespace

void check_stack_depth(const char* where) {
  if (SY_UNLIKELY(stack_floor == 0)) stack_floor = measure_stack_floor();
  char probe;
  if (SY_LIKELY(reinterpret_cast<uintptr_t>(&probe) > stack_floor)) return;
  PyErr_Format(PyExc_RecursionError,
               "maximum recursion depth exceeded in %s: the thread's C stack is nearly used up "
               "(a Python kernel that calls its own op, perhaps; sys.setrecursionlimit() cannot "
               "raise this limit)",
               where);
  throw py::error_already_set();
}

uint64_t registration_epoch() { return epoch.load(std::memory_order_relaxed); }
void bump_registration_epoch() { epoch.fetch_add(1, std::memory_order_relaxed); }

// Holds the exception object; dropping the last reference may happen on a
// thread without the GIL (an exception_ptr kept by a future), so it takes it.
struct PythonError::State {
  PyObject* type = nullptr;
  PyObject* value = nullptr;
  PyObject* traceback = nullptr;
  ~State() {
    if (!Py_IsInitialized() || _Py_IsFinalizing()) return;  // the interpreter is gone: leak
    PyGILState_STATE g = ensure_gil();
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(traceback);
    PyGILState_Release(g);
  }
};

PythonError PythonError::fetch() {
  auto state = std::make_shared<State>();
  PyErr_Fetch(&state->type, &state->value, &state->traceback);
  PyErr_NormalizeException(&state->type, &state->value, &state->traceback);
  if (state->traceback && state->value) PyException_SetTraceback(state->value, state->traceback);
  std::string message = "unknown Python error";
  if (state->type) {
    message = reinterpret_cast<PyTypeObject*>(state->type)->tp_name;
    if (PyObject* s = state->value ? PyObject_Str(state->value) : nullptr) {
      if (const char* text = PyUnicode_AsUTF8(s)) message += std::string(": ") + text;
      Py_DECREF(s);
    }
    PyErr_Clear();
  }
  return PythonError(std::move(message), std::move(state));
}

void PythonError::restore() const {
  Py_XINCREF(state_->type);
  Py_XINCREF(state_->value);
  Py_XINCREF(state_->traceback);
  PyErr_Restore(state_->type, state_->value, state_->traceback);
}

void set_python_error(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const PythonError& err) {
    err.restore();
  } catch (py::error_already_set& err) {
    err.restore();
  } catch (const py::builtin_exception& err) {
    err.set_error();
  } catch (const sy::TypeError& err) {
    PyErr_SetString(PyExc_TypeError, err.what());
  } catch (const sy::ValueError& err) {
    PyErr_SetString(PyExc_ValueError, err.what());
  } catch (const sy::IndexError& err) {
    PyErr_SetString(PyExc_IndexError, err.what());
  } catch (const sy::SchemaError& err) {
    PyErr_SetString(schema_error_type, err.what());
  } catch (const sy::AutogradError& err) {
    PyErr_SetString(autograd_error_type, err.what());
  } catch (const sy::DispatchError& err) {
    PyErr_SetString(dispatch_error_type, err.what());
  } catch (const sy::Error& err) {
    PyErr_SetString(error_type, err.what());
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
  } catch (const std::exception& err) {
    PyErr_SetString(PyExc_RuntimeError, err.what());
  } catch (...) {
    PyErr_SetString(PyExc_RuntimeError, "unknown C++ exception");
  }
}

namespace {
// switchyard's warnings as Python UserWarnings, from any thread. A warning the
// filters turn into an error is reported as unraisable: the warning comes from
// work that is done already (a registration), which must not be undone by it.
void warn_in_python(const std::string& message) {
  if (!Py_IsInitialized() || _Py_IsFinalizing()) {
    std::fprintf(stderr, "switchyard warning: %s\n", message.c_str());
    return;
  }
  PyGILState_STATE gil = ensure_gil();
  if (PyErr_WarnEx(PyExc_UserWarning, message.c_str(), 1) < 0) PyErr_WriteUnraisable(nullptr);
  PyGILState_Release(gil);
}
}  // namespace

void init_errors(py::module_& m) {
  set_warning_handler(&warn_in_python);
  error_type =
      PyErr_NewExceptionWithDoc("switchyard._C.Error",
                                "Base of the errors switchyard raises (other than TypeError, "
                                "ValueError and IndexError, which are Python's own).",
                                PyExc_RuntimeError, nullptr);
  dispatch_error_type = PyErr_NewExceptionWithDoc(
      "switchyard._C.DispatchError",
      "No kernel for a call, an op that was removed, or conflicting registrations.", error_type,
      nullptr);
  schema_error_type = PyErr_NewExceptionWithDoc(
      "switchyard._C.SchemaError", "A schema string that does not parse.", error_type, nullptr);
  autograd_error_type = PyErr_NewExceptionWithDoc(
      "switchyard._C.AutogradError",
      "A misuse of autograd (backward through a freed graph, an in-place change to a saved "
      "tensor, ...); a RuntimeError, as PyTorch raises for these.",
      error_type, nullptr);
  m.add_object("Error", py::handle(error_type));
  m.add_object("AutogradError", py::handle(autograd_error_type));
  m.add_object("DispatchError", py::handle(dispatch_error_type));
  m.add_object("SchemaError", py::handle(schema_error_type));
  m.def("_mark_interpreter_exiting", &mark_interpreter_exiting,
        "Called at interpreter exit (an atexit hook): from then on, threads other than the "
        "exiting one never retake the GIL (see Note [Threads at interpreter exit]).");
  // pybind11-bound functions translate the same way as the raw entry points.
  py::register_exception_translator([](std::exception_ptr p) {
    if (p) set_python_error(p);
  });
}

}  // namespace sy::python
