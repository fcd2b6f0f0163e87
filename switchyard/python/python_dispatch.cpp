// The Python key's handler: dispatch modes and tensor subclasses with
// __sy_dispatch__ (switchyard.utils.python_dispatch).
//
// Note [Dispatch modes]
// A thread's mode stack lives in a thread-local extension slot, so it is part
// of the ThreadLocalState snapshot and follows work into launch, parallel_for
// and sy.threading.Thread. The stack is a persistent list of immutable nodes
// (each holds its mode and the node below), so a snapshot shares it without
// the GIL, and turning the top mode off for its handler is one pointer swap.
// While the stack is not empty the thread includes the Python key; each node
// remembers whether the key was included before it was pushed, and popping
// restores that.
//
// A call whose keys reach Python lands in python_fallback():
//   1. a mode is active: the top mode's __sy_dispatch__(func, types, args,
//      kwargs) runs with that mode popped (so `func(*args)` inside goes to the
//      next mode or on to the kernels) and the keys above Python excluded (the
//      handler runs below autograd and the tracer, as in PyTorch);
//   2. otherwise, arguments whose type defines __sy_dispatch__ (their tensors
//      carry the Python key): each such type's handler in turn, subclasses
//      before their bases, until one returns something other than NotImplemented;
//   3. otherwise the call continues below the Python key.
// A pure composite op never reaches step 1 (operator_entry.h, rule 3): a mode
// sees the ops it decomposes into, which is what runs.
#include <vector>

#include "switchyard/python/bindings.h"

namespace sy::python {

void store_results(PyObject* result, const FunctionSchema& schema, const OperatorHandle& op,
                   size_t num_args, Stack& stack, const char* what, PyObject* who) {
  const auto& returns = schema.returns();
  auto to_value = [&](PyObject* value, const Return& r) {
    IValue v;
    bool fits = false;
    try {
      fits = from_python(value, r.type, v);
    } catch (py::error_already_set& e) {  // raised by the value's __index__
      e.restore();
      throw PythonError::fetch();
    }
    if (!fits) {
      if (auto why = explain_mismatch(value, r.type)) {
        SY_THROW(TypeError,
                 "{} {} for {} returned a value that is not the {} its schema returns: {}", what,
                 py::repr(who).cast<std::string>(), op.name(), r.type.to_string(), *why);
      }
      SY_THROW(TypeError, "{} {} for {} returned {} where the schema returns {}", what,
               py::repr(who).cast<std::string>(), op.name(), Py_TYPE(value)->tp_name,
               r.type.to_string());
    }
    return v;
  };
  IValue* base = stack.data() + (stack.size() - num_args);
  if (returns.size() == 1 && num_args >= 1) {
    // The result takes the first argument's place: no shrinking and regrowing.
    base[0] = to_value(result, returns[0]);
    stack.erase(stack.end() - static_cast<std::ptrdiff_t>(num_args - 1), stack.end());
    return;
  }
  std::vector<IValue> values;
  if (returns.size() == 1) {
    values.push_back(to_value(result, returns[0]));
  } else if (returns.size() > 1) {
    const bool seq = PyTuple_Check(result) || PyList_Check(result);
    SY_CHECK(seq && PySequence_Fast_GET_SIZE(result) == static_cast<Py_ssize_t>(returns.size()),
             TypeError, "{} {} for {} must return a tuple of {} values, got {}", what,
             py::repr(who).cast<std::string>(), op.name(), returns.size(),
             seq ? fmt::format("{} values", PySequence_Fast_GET_SIZE(result))
                 : std::string(Py_TYPE(result)->tp_name));
    for (size_t i = 0; i < returns.size(); ++i) {
      values.push_back(
          to_value(PySequence_Fast_GET_ITEM(result, static_cast<Py_ssize_t>(i)), returns[i]));
    }
  }
  stack.erase(stack.end() - static_cast<std::ptrdiff_t>(num_args), stack.end());
  for (IValue& v : values) stack.push_back(std::move(v));
}

namespace {

// ---- the mode stack (See Note [Dispatch modes]) ------------------------------------

struct ModeNode {
  ModeNode(PyObject* m, bool included, std::shared_ptr<const ModeNode> b)
      : mode(m), python_was_included(included), below(std::move(b)) {
    Py_INCREF(mode);
  }
  // May run on any thread (the last snapshot holding it may die on a worker).
  ~ModeNode() {
    if (!Py_IsInitialized() || _Py_IsFinalizing()) return;  // the interpreter is gone: leak
    GilState gil;
    Py_DECREF(mode);
  }
  ModeNode(const ModeNode&) = delete;
  ModeNode& operator=(const ModeNode&) = delete;

  PyObject* mode;
  bool python_was_included;  // the Python key's inclusion before this push
  std::shared_ptr<const ModeNode> below;
};
using ModeList = std::shared_ptr<const ModeNode>;

class ModeSlot final : public ThreadLocalSlot {
 public:
  explicit ModeSlot(ModeList top) : top(std::move(top)) {}
  std::unique_ptr<ThreadLocalSlot> deepcopy() const override {
    return std::make_unique<ModeSlot>(top);  // the nodes are immutable: share them
  }
  ModeList top;
};

SlotId mode_slot;

// The calling thread's top mode node, or null.
const ModeNode* top_mode() {
  auto* s = static_cast<ModeSlot*>(slot_accessor(mode_slot));
  return s ? s->top.get() : nullptr;
}
ModeList top_mode_list() {
  auto* s = static_cast<ModeSlot*>(slot_accessor(mode_slot));
  return s ? s->top : nullptr;
}

// Handlers running on the calling thread: their ModeOffGuards point at the slot.
thread_local int handlers_running = 0;

void set_top_mode(ModeList top) {
  auto* s = static_cast<ModeSlot*>(slot_accessor(mode_slot));
  if (!top) {
    // An empty stack leaves no slot set, unless a handler's guard still uses it.
    if (s && handlers_running == 0) {
      set_slot(mode_slot, nullptr);
    } else if (s) {
      s->top = nullptr;
    }
  } else if (s) {
    s->top = std::move(top);
  } else {
    const ModeSlot fresh(std::move(top));
    set_slot(mode_slot, &fresh);
  }
}

PyObject* dispatch_name = nullptr;  // interned "__sy_dispatch__"

std::string describe(PyObject* o) {
  PyObject* r = PyObject_Repr(o);
  if (!r) {
    PyErr_Clear();
    return Py_TYPE(o)->tp_name;
  }
  std::string s = PyUnicode_AsUTF8(r);
  Py_DECREF(r);
  return s;
}

void push_mode(py::handle mode) {
  SY_CHECK(PyObject_HasAttr(mode.ptr(), dispatch_name), TypeError,
           "a dispatch mode needs a method __sy_dispatch__(self, func, types, args, kwargs); "
           "{} has none (subclass switchyard.utils.python_dispatch.DispatchMode)",
           describe(mode.ptr()));
  set_top_mode(std::make_shared<const ModeNode>(
      mode.ptr(), tls_is_dispatch_key_included(DispatchKey::Python), top_mode_list()));
  tls_set_dispatch_key_included(DispatchKey::Python, true);
}

void pop_mode(py::handle mode) {
  const ModeNode* top = top_mode();
  if (top == nullptr || top->mode != mode.ptr()) {
    bool active = false;
    for (const ModeNode* n = top; n; n = n->below.get()) active |= n->mode == mode.ptr();
    SY_CHECK(!active, Error,
             "dispatch modes must be exited in the reverse order they were entered: exiting {} "
             "while {} (entered after it) is still active; exit that one first",
             describe(mode.ptr()), describe(top->mode));
    SY_THROW(Error,
             "exiting {}, which is not active on this thread{}. A mode is exited on the thread "
             "that entered it (threads started with sy.threading.Thread inherit the modes, "
             "but exit none of them)",
             describe(mode.ptr()),
             top ? fmt::format(" (the active mode is {})", describe(top->mode)) : "");
  }
  const bool restore = top->python_was_included;
  set_top_mode(top->below);
  tls_set_dispatch_key_included(DispatchKey::Python, restore);
}

// Turns the top mode off for its handler; restores the stack and the Python
// key's inclusion it found.
class ModeOffGuard {
 public:
  // The slot stays (with an empty list when the bottom mode runs): swapping the
  // list is cheaper than freeing the slot and making it again.
  ModeOffGuard(ModeSlot& slot, ModeList top)
      : slot_(slot),
        saved_(std::move(top)),
        saved_included_(tls_is_dispatch_key_included(DispatchKey::Python)) {
    ++handlers_running;
    slot_.top = saved_->below;
    if (!saved_->below) {
      tls_set_dispatch_key_included(DispatchKey::Python, saved_->python_was_included);
    }
  }
  ~ModeOffGuard() {
    --handlers_running;
    slot_.top = std::move(saved_);
    tls_set_dispatch_key_included(DispatchKey::Python, saved_included_);
  }
  ModeOffGuard(const ModeOffGuard&) = delete;
  ModeOffGuard& operator=(const ModeOffGuard&) = delete;

 private:
  ModeSlot& slot_;  // the calling thread's, which lives while the handler runs
  ModeList saved_;
  bool saved_included_;
};

// Every key above Python: a handler runs below them.
constexpr DispatchKeySet kAbovePython = DispatchKeySet::from_raw(
    DispatchKeySet::full().raw() & ~((uint64_t{2} << static_cast<int>(DispatchKey::Python)) - 1));

// ---- calling a handler -------------------------------------------------------------

py::object owned(PyObject* o) {
  if (!o) throw PythonError::fetch();
  return py::reinterpret_steal<py::object>(o);
}

// The op's arguments as PyTorch passes them to __torch_dispatch__: positional
// arguments without the trailing ones equal to their defaults, and keyword-only
// arguments that differ from their defaults in a dict.
struct PyCall {
  py::object args;
  py::object kwargs;
};
PyCall python_arguments(const FunctionSchema& schema, const IValue* base) {
  const auto& arguments = schema.arguments();
  size_t positional = 0;
  for (size_t i = 0; i < arguments.size(); ++i) {
    if (arguments[i].kwarg_only) break;
    positional = i + 1;
  }
  size_t kept = positional;
  while (kept > 0 && arguments[kept - 1].default_value &&
         *arguments[kept - 1].default_value == base[kept - 1]) {
    --kept;
  }
  PyCall call{owned(PyTuple_New(static_cast<Py_ssize_t>(kept))), owned(PyDict_New())};
  for (size_t i = 0; i < kept; ++i) {
    PyTuple_SET_ITEM(call.args.ptr(), static_cast<Py_ssize_t>(i),
                     owned(to_python(base[i])).release().ptr());
  }
  for (size_t i = positional; i < arguments.size(); ++i) {
    const Argument& a = arguments[i];
    if (a.default_value && *a.default_value == base[i]) continue;
    py::object value = owned(to_python(base[i]));
    if (PyDict_SetItemString(call.kwargs.ptr(), a.name.c_str(), value.ptr()) < 0) {
      throw PythonError::fetch();
    }
  }
  return call;
}

// Adds the type of `o` to `types` if it is a tensor whose type defines
// __sy_dispatch__: subclasses before their bases, otherwise in order of appearance.
void add_overloaded(PyObject* o, std::vector<PyTypeObject*>& types) {
  if (!is_tensor(o)) return;
  PyTypeObject* t = Py_TYPE(o);
  if (t == tensor_type || !has_python_dispatch(t)) return;
  for (PyTypeObject* seen : types) {
    if (seen == t) return;
  }
  auto at = types.end();
  for (auto it = types.begin(); it != types.end(); ++it) {
    if (PyType_IsSubtype(t, *it)) {
      at = it;
      break;
    }
  }
  types.insert(at, t);
}

std::vector<PyTypeObject*> overloaded_types(const PyCall& call) {
  std::vector<PyTypeObject*> types;
  auto scan = [&](PyObject* v) {
    if (PyList_Check(v) || PyTuple_Check(v)) {
      for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(v); ++i) {
        add_overloaded(PySequence_Fast_GET_ITEM(v, i), types);
      }
    } else {
      add_overloaded(v, types);
    }
  };
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(call.args.ptr()); ++i) {
    scan(PyTuple_GET_ITEM(call.args.ptr(), i));
  }
  PyObject *key, *value;
  Py_ssize_t pos = 0;
  while (PyDict_Next(call.kwargs.ptr(), &pos, &key, &value)) scan(value);
  return types;
}

py::object types_tuple(const std::vector<PyTypeObject*>& types) {
  py::object t = owned(PyTuple_New(static_cast<Py_ssize_t>(types.size())));
  for (size_t i = 0; i < types.size(); ++i) {
    Py_INCREF(types[i]);
    PyTuple_SET_ITEM(t.ptr(), static_cast<Py_ssize_t>(i), reinterpret_cast<PyObject*>(types[i]));
  }
  return t;
}

PyObject* call_handler(PyObject* self, PyObject* func, const py::object& types,
                       const PyCall& call) {
  PyObject* argv[] = {self, func, types.ptr(), call.args.ptr(), call.kwargs.ptr()};
  return PyObject_VectorcallMethod(dispatch_name, argv, 5 | PY_VECTORCALL_ARGUMENTS_OFFSET,
                                   nullptr);
}

bool has_python_key_argument(const IValue* base, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (base[i].is_tensor()) {
      if (const TensorImpl* impl = base[i].tensor_impl_unchecked();
          impl && impl->key_set().has(DispatchKey::Python)) {
        return true;
      }
    } else if (base[i].tag() == IValue::Tag::TensorList) {
      for (const Tensor& t : base[i].to_tensor_list()) {
        if (t.defined() && t.impl()->key_set().has(DispatchKey::Python)) return true;
      }
    }
  }
  return false;
}

void python_fallback(const OperatorHandle& op, DispatchKeySet keys, Stack* stack) {
  const std::shared_ptr<const FunctionSchema> schema_ptr = op.current_schema();
  const FunctionSchema& schema = *schema_ptr;
  const size_t n = schema.arguments().size();
  const IValue* base = stack->data() + (stack->size() - n);
  const bool mode_active = top_mode() != nullptr;
  if (!mode_active && !has_python_key_argument(base, n)) {
    // 3. Nothing here for Python (the key was included by hand, or a subclass
    //    wrapper is gone): continue below.
    op.redispatch_boxed(keys.remove_from_and_above(DispatchKey::Python), *stack);
    return;
  }
  GilState gil;
  const PyCall call = python_arguments(schema, base);
  const std::vector<PyTypeObject*> types = overloaded_types(call);
  if (!mode_active && types.empty()) {
    // A tensor with the Python key whose wrapper is a hermetic one: nothing to ask.
    op.redispatch_boxed(keys.remove_from_and_above(DispatchKey::Python), *stack);
    return;
  }
  const py::object func = owned(overload_object(op));
  const py::object types_arg = types_tuple(types);
  ExcludeDispatchKeyGuard below(kAbovePython);
  if (mode_active) {
    // 1. The top mode, with itself turned off.
    auto* slot = static_cast<ModeSlot*>(slot_accessor(mode_slot));
    ModeList top = slot->top;
    PyObject* mode = top->mode;
    py::object result;
    {
      ModeOffGuard off(*slot, std::move(top));
      result = owned(call_handler(mode, func.ptr(), types_arg, call));
    }
    store_results(result.ptr(), schema, op, n, *stack, "the __sy_dispatch__ of", mode);
    return;
  }
  // 2. The subclasses' handlers.
  for (PyTypeObject* type : types) {
    py::object result =
        owned(call_handler(reinterpret_cast<PyObject*>(type), func.ptr(), types_arg, call));
    if (result.ptr() == Py_NotImplemented) continue;
    store_results(result.ptr(), schema, op, n, *stack, "the __sy_dispatch__ of",
                  reinterpret_cast<PyObject*>(type));
    return;
  }
  std::string names;
  for (PyTypeObject* t : types) names += fmt::format("{}{}", names.empty() ? "" : ", ", t->tp_name);
  SY_THROW(TypeError,
           "{}: every __sy_dispatch__ of the arguments' types returned NotImplemented (types: "
           "{}). Handle the op in one of them, or unwrap the arguments to plain tensors first",
           op.name(), names.empty() ? std::string("none") : names);
}

}  // namespace

bool has_python_dispatch(PyTypeObject* type) {
  if (type == tensor_type) return false;
  PyObject* attr = _PyType_Lookup(type, dispatch_name);
  return attr != nullptr;
}

void init_python_dispatch(py::module_& m) {
  dispatch_name = PyUnicode_InternFromString("__sy_dispatch__");
  mode_slot = register_thread_local_slot("python dispatch modes");
  // Lives as long as the process: the key's handler for every op.
  static Library* library = new Library(Library::IMPL, "_", DispatchKey::Python);
  library->fallback(CppFunction::boxed(&python_fallback));

  m.def("_push_dispatch_mode", &push_mode, py::arg("mode"),
        "Pushes `mode` on the calling thread's dispatch mode stack (DispatchMode.__enter__).");
  m.def(
      "_pop_dispatch_mode", &pop_mode, py::arg("mode"),
      "Pops `mode`, which must be the top of the calling thread's stack (DispatchMode.__exit__).");
  m.def(
      "_parallel_for",
      [](int64_t begin, int64_t end, int64_t grain, py::function fn) {
        PyObject* f = fn.ptr();
        py::gil_scoped_release nogil;
        parallel_for(begin, end, grain, [f](int64_t b, int64_t e) {
          GilState gil;
          PyObject* r =
              PyObject_CallFunction(f, "LL", static_cast<long long>(b), static_cast<long long>(e));
          if (!r) throw PythonError::fetch();
          Py_DECREF(r);
        });
      },
      py::arg("begin"), py::arg("end"), py::arg("grain"), py::arg("fn"),
      R"(sy::parallel_for from Python (for tests and examples): fn(chunk_begin, chunk_end)
on the thread pool, under the caller's state (modes included), the GIL released
while waiting.)");
  m.def(
      "_launch_and_wait",
      [](py::function fn) {
        PyObject* f = fn.ptr();
        PyObject* out = nullptr;
        {
          py::gil_scoped_release nogil;
          launch([f, &out] {
            GilState gil;
            out = PyObject_CallNoArgs(f);
            if (!out) throw PythonError::fetch();
          }).get();
        }
        return py::reinterpret_steal<py::object>(out);
      },
      py::arg("fn"),
      R"(sy::launch(fn).get() from Python (for tests and examples): fn() as an inter-op
task under the caller's state (modes included); returns what it returns.)");
  m.def(
      "_dispatch_modes",
      [] {
        py::list out;
        for (const ModeNode* n = top_mode(); n; n = n->below.get()) {
          out.insert(0, py::reinterpret_borrow<py::object>(n->mode));
        }
        return out;
      },
      "The calling thread's active dispatch modes, bottom first.");
}

}  // namespace sy::python
