// Per-thread modes from Python: grad and inference mode as context managers and
// decorators (sy.no_grad, sy.enable_grad, sy.inference_mode, sy.set_grad_enabled),
// the include/exclude dispatch-key guards, sy.ThreadLocalState, and the
// hermetic flag. Each acts on the calling thread, as the C++ guards do.
//
// The grad-mode managers are raw CPython types: `with sy.no_grad(): pass` is
// on hot paths of user code, and a pybind11 method call costs several times
// what the C++ guard does.
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "switchyard/parallel/parallel.h"
#include "switchyard/python/bindings.h"

namespace sy::python {

namespace {

enum class ModeKind : int { NoGrad, EnableGrad, Inference, SetGradEnabled };

// The C++ guards a Python context manager has begun, innermost last (a manager
// may be entered again inside its own block). __exit__ ends the last one only
// when it is its thread's innermost guard (Note [Guards end in order]): a mode
// exited out of order, or on another thread, raises and stays in place, so the
// thread is never left changed in silence. Dropping the manager ends the
// guards that are in order and abandons the others (ending them would throw).
template <typename Guard>
struct GuardStack {
  std::vector<std::unique_ptr<Guard>> live;

  template <typename... Args>
  void enter(Args&&... args) {
    live.push_back(std::make_unique<Guard>(std::forward<Args>(args)...));
  }
  void exit(const char* what) {
    if (live.empty()) return;
    SY_CHECK(live.back()->is_innermost(), Error,
             "{} exited out of order, or on a thread other than the one that entered it: "
             "modes and guards end in the reverse order they began, on their own thread. It "
             "stays in place; exit the modes entered after it first",
             what);
    live.pop_back();
  }
  GuardStack() = default;
  GuardStack(GuardStack&&) = default;
  ~GuardStack() {
    while (!live.empty()) {
      if (!live.back()->is_innermost()) (void)live.back().release();
      live.pop_back();
    }
  }
};

struct PyMode {
  PyObject_HEAD ModeKind kind;
  bool mode;        // inference_mode(mode) / set_grad_enabled(mode)
  bool saved_grad;  // set_grad_enabled: the grad mode before it
  GuardStack<AutoGradMode> grad;
  GuardStack<InferenceMode> inference;
};

const char* mode_name(ModeKind kind) {
  switch (kind) {
    case ModeKind::NoGrad: return "sy.no_grad()";
    case ModeKind::EnableGrad: return "sy.enable_grad()";
    case ModeKind::Inference: return "sy.inference_mode()";
    case ModeKind::SetGradEnabled: return "sy.set_grad_enabled()";
  }
  return "a mode";
}

// switchyard._decorate_with_mode(mode_object, fn), set by switchyard/__init__.py:
// wraps fn so each call runs under a clone of the mode object.
PyObject* decorate_helper = nullptr;

PyObject* make_mode(PyTypeObject* type, ModeKind kind, bool mode) {
  auto* self = PyObject_New(PyMode, type);
  if (!self) return nullptr;
  self->kind = kind;
  self->mode = mode;
  self->saved_grad = GradMode::is_enabled();
  new (&self->grad) GuardStack<AutoGradMode>();
  new (&self->inference) GuardStack<InferenceMode>();
  if (kind == ModeKind::SetGradEnabled) GradMode::set_enabled(mode);  // takes effect at once
  return reinterpret_cast<PyObject*>(self);
}

void mode_dealloc(PyObject* o) {
  auto* self = reinterpret_cast<PyMode*>(o);
  PyTypeObject* type = Py_TYPE(o);
  // A manager dropped inside its with-block (not by the with statement) ends
  // its guards that are in order, and leaves the others' modes on.
  self->grad.~GuardStack();
  self->inference.~GuardStack();
  PyObject_Free(o);
  Py_DECREF(type);
}

PyObject* mode_enter(PyObject* o, PyObject*) {
  auto* self = reinterpret_cast<PyMode*>(o);
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    switch (self->kind) {
      case ModeKind::NoGrad: self->grad.enter(false); break;
      case ModeKind::EnableGrad: self->grad.enter(true); break;
      case ModeKind::Inference: self->inference.enter(self->mode); break;
      case ModeKind::SetGradEnabled: break;
    }
    Py_RETURN_NONE;
  });
}

PyObject* mode_exit(PyObject* o, PyObject* const*, Py_ssize_t) {
  auto* self = reinterpret_cast<PyMode*>(o);
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    self->grad.exit(mode_name(self->kind));
    self->inference.exit(mode_name(self->kind));
    if (self->kind == ModeKind::SetGradEnabled) GradMode::set_enabled(self->saved_grad);
    Py_RETURN_FALSE;
  });
}

PyObject* mode_clone(PyObject* o, PyObject*) {
  auto* self = reinterpret_cast<PyMode*>(o);
  return make_mode(Py_TYPE(o), self->kind, self->mode);
}

// mode_object(fn): a decorator.
PyObject* mode_call(PyObject* o, PyObject* args, PyObject* kwargs) {
  if (!decorate_helper) {
    PyErr_SetString(PyExc_RuntimeError, "switchyard is not fully imported");
    return nullptr;
  }
  if (PyTuple_GET_SIZE(args) != 1 || (kwargs && PyDict_GET_SIZE(kwargs) != 0)) {
    PyErr_SetString(PyExc_TypeError, "a mode used as a decorator takes the function only");
    return nullptr;
  }
  return PyObject_CallFunctionObjArgs(decorate_helper, o, PyTuple_GET_ITEM(args, 0), nullptr);
}

PyMethodDef mode_methods[] = {
    {"__enter__", mode_enter, METH_NOARGS, nullptr},
    {"__exit__", reinterpret_cast<PyCFunction>(reinterpret_cast<void*>(mode_exit)), METH_FASTCALL,
     nullptr},
    {"clone", mode_clone, METH_NOARGS, "A new manager of the same mode."},
    {nullptr, nullptr, 0, nullptr},
};

bool mode_argument(PyObject* const* args, size_t nargsf, PyObject* kwnames, bool fallback,
                   bool required, bool& out) {
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  if (nargs + nkw > 1 ||
      (nkw == 1 && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "mode") != 0)) {
    PyErr_SetString(PyExc_TypeError, "expected one argument, `mode` (a bool)");
    return false;
  }
  if (nargs + nkw == 0) {
    if (required) {
      PyErr_SetString(PyExc_TypeError, "missing the argument `mode` (a bool)");
      return false;
    }
    out = fallback;
    return true;
  }
  const int r = PyObject_IsTrue(args[0]);
  if (r < 0) return false;
  out = r != 0;
  return true;
}

template <ModeKind Kind>
PyObject* mode_new_vectorcall(PyObject* type, PyObject* const* args, size_t nargsf,
                              PyObject* kwnames) {
  bool mode = true;
  if constexpr (Kind == ModeKind::Inference || Kind == ModeKind::SetGradEnabled) {
    if (!mode_argument(args, nargsf, kwnames, true, Kind == ModeKind::SetGradEnabled, mode)) {
      return nullptr;
    }
  } else if (PyVectorcall_NARGS(nargsf) != 0 || kwnames) {
    PyErr_SetString(PyExc_TypeError, "takes no arguments");
    return nullptr;
  }
  return make_mode(reinterpret_cast<PyTypeObject*>(type), Kind, mode);
}

template <ModeKind Kind>
PyObject* mode_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  // The slow path (type(...) through tp_call): same rules via vectorcall.
  return PyObject_VectorcallDict(reinterpret_cast<PyObject*>(type), &PyTuple_GET_ITEM(args, 0),
                                 PyTuple_GET_SIZE(args), kwargs);
}

template <ModeKind Kind>
PyTypeObject* make_mode_type(const char* name, const char* doc) {
  static PyType_Slot slots[] = {
      {Py_tp_dealloc, reinterpret_cast<void*>(mode_dealloc)},
      {Py_tp_methods, mode_methods},
      {Py_tp_call, reinterpret_cast<void*>(mode_call)},
      {Py_tp_new, reinterpret_cast<void*>(mode_new<Kind>)},
      {Py_tp_doc, const_cast<char*>(doc)},
      {0, nullptr},
  };
  static PyType_Spec spec = {name, sizeof(PyMode), 0, Py_TPFLAGS_DEFAULT, slots};
  auto* type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&spec));
  if (!type) throw py::error_already_set();
  // Construction through vectorcall skips tp_new's argument tuple.
  type->tp_vectorcall = mode_new_vectorcall<Kind>;
  return type;
}

std::vector<DispatchKey> keys_of(py::handle keys) {
  std::vector<DispatchKey> out;
  auto add = [&](py::handle k) {
    const auto name = k.cast<std::string>();
    auto key = parse_dispatch_key(name);
    SY_CHECK(key && is_runtime_key(*key), ValueError, "'{}' is not a runtime dispatch key", name);
    out.push_back(*key);
  };
  if (py::isinstance<py::str>(keys)) {
    add(keys);
  } else {
    for (py::handle k : keys) add(k);
  }
  return out;
}

DispatchKeySet set_of(const std::vector<DispatchKey>& keys) {
  DispatchKeySet s;
  for (DispatchKey k : keys) s = s.add(k);
  return s;
}

template <typename Guard>
struct KeyGuard {
  DispatchKeySet keys;
  GuardStack<Guard> active;
  void enter() { active.enter(keys); }
  void exit(const char* what) { active.exit(what); }
};

struct HermeticScope {
  std::vector<bool> saved;
};

struct PyThreadLocalState {
  ThreadLocalState state;
  GuardStack<ThreadLocalStateGuard> active;
};

}  // namespace

void init_modes(py::module_& m) {
  auto add_type = [&](const char* name, PyTypeObject* t) {
    m.add_object(name, py::handle(reinterpret_cast<PyObject*>(t)));
  };
  add_type("no_grad", make_mode_type<ModeKind::NoGrad>(
                          "switchyard.no_grad",
                          "Turns grad mode off on the calling thread for a with-block or a "
                          "decorated function, then restores it."));
  add_type("enable_grad", make_mode_type<ModeKind::EnableGrad>(
                              "switchyard.enable_grad",
                              "Turns grad mode on on the calling thread for a with-block or a "
                              "decorated function, then restores it."));
  add_type("inference_mode",
           make_mode_type<ModeKind::Inference>(
               "switchyard.inference_mode",
               "inference_mode(mode=True): inference mode on the calling thread for a "
               "with-block or a decorated function (grad off, autograd keys excluded, tensors "
               "made inside are inference tensors); mode=False leaves it."));
  add_type("set_grad_enabled",
           make_mode_type<ModeKind::SetGradEnabled>(
               "switchyard.set_grad_enabled",
               "set_grad_enabled(mode): sets grad mode on the calling thread at once; as a "
               "context manager, restores the previous mode on exit."));
  m.def("_set_mode_decorator", [](py::object helper) {
    Py_XDECREF(decorate_helper);
    decorate_helper = helper.inc_ref().ptr();
  });

  m.def("is_grad_enabled", &GradMode::is_enabled,
        "Whether grad mode is on for the calling thread.");
  m.def("is_inference_mode_enabled", &is_inference_mode_enabled,
        "Whether the calling thread is in inference mode.");

  py::class_<KeyGuard<IncludeDispatchKeyGuard>>(
      m, "_IncludeDispatchKeyGuard",
      "with _IncludeDispatchKeyGuard(keys): includes the dispatch keys (a name or a list of "
      "names) on the calling thread for the block, then restores the included set it found.")
      .def(py::init([](py::handle keys) {
        return KeyGuard<IncludeDispatchKeyGuard>{set_of(keys_of(keys)), {}};
      }))
      .def("__enter__", [](KeyGuard<IncludeDispatchKeyGuard>& g) { g.enter(); })
      .def("__exit__", [](KeyGuard<IncludeDispatchKeyGuard>& g, py::args) {
        g.exit("_IncludeDispatchKeyGuard");
      });
  py::class_<KeyGuard<ExcludeDispatchKeyGuard>>(
      m, "_ExcludeDispatchKeyGuard",
      "with _ExcludeDispatchKeyGuard(keys): excludes the dispatch keys (a name or a list of "
      "names) on the calling thread for the block, then restores the excluded set it found.")
      .def(py::init([](py::handle keys) {
        return KeyGuard<ExcludeDispatchKeyGuard>{set_of(keys_of(keys)), {}};
      }))
      .def("__enter__", [](KeyGuard<ExcludeDispatchKeyGuard>& g) { g.enter(); })
      .def("__exit__", [](KeyGuard<ExcludeDispatchKeyGuard>& g, py::args) {
        g.exit("_ExcludeDispatchKeyGuard");
      });
  m.def(
      "_is_dispatch_key_included",
      [](const std::string& k) { return tls_is_dispatch_key_included(keys_of(py::str(k))[0]); },
      "Whether the calling thread includes dispatch key `k`.");
  m.def(
      "_is_dispatch_key_excluded",
      [](const std::string& k) { return tls_is_dispatch_key_excluded(keys_of(py::str(k))[0]); },
      "Whether the calling thread excludes dispatch key `k`.");

  py::class_<PyThreadLocalState>(
      m, "ThreadLocalState",
      R"(A snapshot of the calling thread's state, taken on construction: grad and
inference mode, included and excluded dispatch keys, extension slots.

`with state:` installs it on the calling thread (any thread) for the block and
then restores exactly what that thread had. The hermetic flag is not part of it.)")
      .def(py::init([] { return PyThreadLocalState{}; }))
      .def("__enter__", [](PyThreadLocalState& s) { s.active.enter(s.state); })
      .def("__exit__",
           [](PyThreadLocalState& s, py::args) { s.active.exit("sy.ThreadLocalState"); })
      .def_property_readonly(
          "grad_enabled",
          [](const PyThreadLocalState& s) { return !s.state.autograd_state().grad_disabled; })
      .def_property_readonly("inference_mode", [](const PyThreadLocalState& s) {
        return s.state.autograd_state().inference_mode;
      });

  py::class_<HermeticScope>(
      m, "_hermetic_pyobject",
      R"(with sy._C._hermetic_pyobject(): the hermetic flag on the calling thread for
the block (seed 002): tensors that reach Python get fresh wrappers that are not
kept, so no wrapper becomes permanently tied to its tensor.)")
      .def(py::init([] { return HermeticScope{}; }))
      .def("__enter__",
           [](HermeticScope& h) {
             h.saved.push_back(is_hermetic());
             set_hermetic(true);
           })
      .def("__exit__", [](HermeticScope& h, py::args) {
        if (!h.saved.empty()) {
          set_hermetic(h.saved.back());
          h.saved.pop_back();
        }
      });
  m.def("_is_hermetic_pyobject", &is_hermetic,
        "Whether the calling thread's hermetic flag is set.");

  // Thread counts, with PyTorch's names. Resizing a pool joins its threads, so the
  // setters run without the GIL (a pool thread may be waiting for it).
  m.def("get_num_threads", &get_num_threads,
        "Threads used by one op's parallel loops and by OpenBLAS matrix products.");
  m.def(
      "set_num_threads",
      [](int n) {
        py::gil_scoped_release release;
        set_num_threads(n);
      },
      py::arg("n"), "Sets the intra-op thread count (as SY_NUM_THREADS does at start-up).");
  m.def("get_num_interop_threads", &get_num_interop_threads,
        "Threads that run launched tasks (the interop pool).");
  m.def(
      "set_num_interop_threads",
      [](int n) {
        py::gil_scoped_release release;
        set_num_interop_threads(n);
      },
      py::arg("n"), "Sets the interop thread count (as SY_NUM_INTEROP_THREADS does).");
}

}  // namespace sy::python
