// Autograd from Python, with PyTorch's names: the autograd attributes of
// sy.Tensor (.grad, .grad_fn, .is_leaf, ...), graph nodes, backward and grad
// (which release the GIL while the engine runs), tensor hooks written in
// Python, sy.autograd.Function, forward-mode dual levels and gradcheck.
//
// Python callables kept by C++ (hooks, a Function's class and ctx) are held
// by PyRef, which takes the GIL to drop them: a graph may be freed on a thread
// that does not hold it. Every call into Python from a backward takes the GIL.
#include <optional>
#include <vector>

#include "switchyard/python/bindings.h"

namespace sy::python {
namespace {

using autograd::AutogradContext;
using autograd::CustomFunctionParts;
using autograd::Node;
using autograd::variable_list;

// ---- helpers --------------------------------------------------------------------------

// A strong reference to a Python object that may be dropped without the GIL.
class PyRef {
 public:
  explicit PyRef(py::handle o) : o_(o.ptr()) { Py_XINCREF(o_); }
  PyRef(const PyRef&) = delete;
  PyRef& operator=(const PyRef&) = delete;
  ~PyRef() {
    if (o_ == nullptr || !Py_IsInitialized() || _Py_IsFinalizing()) return;
    PyGILState_STATE g = PyGILState_Ensure();
    Py_DECREF(o_);
    PyGILState_Release(g);
  }
  py::handle get() const { return o_; }

 private:
  PyObject* o_;
};

py::object to_py(Tensor t) { return py::reinterpret_steal<py::object>(wrap(std::move(t))); }

bool is_tensor_obj(py::handle h) { return is_tensor(h.ptr()); }

Tensor tensor_of(py::handle h, const char* what) {
  SY_CHECK(is_tensor(h.ptr()), TypeError, "{}: expected a tensor, got {}", what,
           Py_TYPE(h.ptr())->tp_name);
  return unwrap(h.ptr());
}

Tensor optional_tensor_of(py::handle h, const char* what) {
  return h.is_none() ? Tensor() : tensor_of(h, what);
}

// A tensor, or a sequence of tensors (None entries allowed when `allow_none`).
std::vector<Tensor> tensors_of(py::handle h, const char* what, bool allow_none = false) {
  std::vector<Tensor> out;
  if (h.is_none()) return out;
  if (is_tensor(h.ptr())) {
    out.push_back(unwrap(h.ptr()));
    return out;
  }
  for (py::handle item : py::iter(h)) {
    out.push_back(allow_none ? optional_tensor_of(item, what) : tensor_of(item, what));
  }
  return out;
}

// The result of a Python hook or backward: None (undefined) or a tensor.
Tensor tensor_result(py::handle r, const std::string& what) {
  if (r.is_none()) return Tensor();
  SY_CHECK(is_tensor(r.ptr()), TypeError, "{} returned {}; expected a tensor or None", what,
           Py_TYPE(r.ptr())->tp_name);
  return unwrap(r.ptr());
}

// A C++ tensor hook that calls a Python callable with the GIL held.
autograd::TensorHook python_hook(py::handle fn) {
  auto ref = std::make_shared<PyRef>(fn);
  return [ref](const Tensor& grad) -> Tensor {
    py::gil_scoped_acquire gil;
    py::object r = py::reinterpret_borrow<py::object>(ref->get())(to_py(grad));
    return tensor_result(r, "a tensor hook");
  };
}

// ---- sy.Tensor's autograd attributes (raw getset entries, for speed) -----------------------

PyObject* get_grad(PyObject* o, void*) {
  return guarded<PyObject*>(nullptr, [&] { return wrap(unwrap(o).grad()); });
}

int set_grad(PyObject* o, PyObject* value, void*) {
  return guarded<int>(-1, [&] {
    const Tensor& t = unwrap(o);
    if (value == nullptr || value == Py_None) {
      t.mutable_grad() = Tensor();
      return 0;
    }
    const Tensor g = tensor_of(value, "assigning .grad");
    SY_CHECK(g.sizes() == t.sizes(), AutogradError,
             "assigning .grad: the gradient has shape {}, the tensor {}", to_string(g.sizes()),
             to_string(t.sizes()));
    SY_CHECK(g.dtype() == t.dtype(), AutogradError,
             "assigning .grad: the gradient has dtype {}, the tensor {}", to_string(g.dtype()),
             to_string(t.dtype()));
    SY_CHECK(g.device() == t.device(), AutogradError,
             "assigning .grad: the gradient is on {}, the tensor on {}", g.device().str(),
             t.device().str());
    t.mutable_grad() = g;
    return 0;
  });
}

PyObject* get_grad_fn(PyObject* o, void*) {
  return guarded<PyObject*>(nullptr, [&] {
    const std::shared_ptr<Node>& fn = unwrap(o).grad_fn();
    if (!fn) Py_RETURN_NONE;
    return py::cast(fn).release().ptr();
  });
}

PyObject* get_is_leaf(PyObject* o, void*) {
  return guarded<PyObject*>(nullptr, [&] { return PyBool_FromLong(unwrap(o).is_leaf()); });
}

PyObject* get_version(PyObject* o, void*) {
  return guarded<PyObject*>(nullptr, [&] { return PyLong_FromUnsignedLong(unwrap(o)._version()); });
}

PyObject* get_base(PyObject* o, void*) {
  return guarded<PyObject*>(nullptr, [&] { return wrap(unwrap(o)._base()); });
}

PyObject* get_retains_grad(PyObject* o, void*) {
  return guarded<PyObject*>(nullptr, [&] { return PyBool_FromLong(unwrap(o).retains_grad()); });
}

PyObject* get_output_nr(PyObject* o, void*) {
  return guarded<PyObject*>(nullptr,
                            [&] { return PyLong_FromUnsignedLong(unwrap(o).output_nr()); });
}

PyObject* get_data(PyObject* o, void*) {
  return guarded<PyObject*>(nullptr, [&] { return wrap(unwrap(o).detach()); });
}

PyGetSetDef autograd_getset[] = {
    {"grad", get_grad, set_grad,
     "The gradient accumulated by backward() (leaves, and tensors that retain theirs), or None.",
     nullptr},
    {"grad_fn", get_grad_fn, nullptr, "The node that made this tensor, or None for a leaf.",
     nullptr},
    {"is_leaf", get_is_leaf, nullptr, "Whether the tensor has no grad_fn.", nullptr},
    {"_version", get_version, nullptr, "The version counter of the tensor's storage.", nullptr},
    {"_base", get_base, nullptr, "The base of a view made by a view op, or None.", nullptr},
    {"retains_grad", get_retains_grad, nullptr,
     "Whether retain_grad() was called on this non-leaf.", nullptr},
    {"output_nr", get_output_nr, nullptr, "Which output of grad_fn this tensor is.", nullptr},
    {"data", get_data, nullptr,
     "The tensor outside autograd (detach()); unlike PyTorch's, it shares the version counter.",
     nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyObject* m_retain_grad(PyObject* o, PyObject*) {
  return guarded<PyObject*>(nullptr, [&] {
    unwrap(o).retain_grad();
    Py_RETURN_NONE;
  });
}

PyObject* m_detach(PyObject* o, PyObject*) {
  return guarded<PyObject*>(nullptr, [&] { return wrap(unwrap(o).detach()); });
}

PyObject* m_detach_(PyObject* o, PyObject*) {
  return guarded<PyObject*>(nullptr, [&] {
    unwrap(o).detach_();
    Py_INCREF(o);
    return o;
  });
}

PyMethodDef autograd_methods[] = {
    {"retain_grad", m_retain_grad, METH_NOARGS,
     "Keeps this non-leaf's gradient in .grad when backward runs."},
    {"detach", m_detach, METH_NOARGS,
     "A tensor sharing this one's data (and version counter) outside autograd."},
    {"detach_", m_detach_, METH_NOARGS, "Detaches this tensor from its graph in place."},
    {nullptr, nullptr, 0, nullptr},
};

void add_to_tensor_type() {
  auto* type = tensor_type;
  for (PyGetSetDef* d = autograd_getset; d->name != nullptr; ++d) {
    py::object descr = py::reinterpret_steal<py::object>(PyDescr_NewGetSet(type, d));
    if (!descr ||
        PyObject_SetAttrString(reinterpret_cast<PyObject*>(type), d->name, descr.ptr()) < 0) {
      throw py::error_already_set();
    }
  }
  for (PyMethodDef* d = autograd_methods; d->ml_name != nullptr; ++d) {
    py::object descr = py::reinterpret_steal<py::object>(PyDescr_NewMethod(type, d));
    if (!descr ||
        PyObject_SetAttrString(reinterpret_cast<PyObject*>(type), d->ml_name, descr.ptr()) < 0) {
      throw py::error_already_set();
    }
  }
}

// ---- forward mode from Python -------------------------------------------------------------
// `with dual_level(): ... make_dual ... unpack_dual` is a hot path of user code (a
// jvp per step): raw CPython types and functions, with no pybind11 dispatch in between.

// `with sy.autograd.forward_ad.dual_level() as level`: a DualLevel for the block.
struct PyDualLevel {
  PyObject_HEAD std::optional<autograd::forward_ad::DualLevel> level;
};

PyObject* dual_level_vectorcall(PyObject* type, PyObject* const*, size_t nargsf,
                                PyObject* kwnames) {
  if (PyVectorcall_NARGS(nargsf) != 0 || kwnames) {
    PyErr_SetString(PyExc_TypeError, "dual_level() takes no arguments");
    return nullptr;
  }
  auto* self = PyObject_New(PyDualLevel, reinterpret_cast<PyTypeObject*>(type));
  if (!self) return nullptr;
  new (&self->level) std::optional<autograd::forward_ad::DualLevel>();
  return reinterpret_cast<PyObject*>(self);
}

PyObject* dual_level_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  return PyObject_VectorcallDict(reinterpret_cast<PyObject*>(type), &PyTuple_GET_ITEM(args, 0),
                                 PyTuple_GET_SIZE(args), kwargs);
}

void dual_level_dealloc(PyObject* o) {
  PyTypeObject* type = Py_TYPE(o);
  reinterpret_cast<PyDualLevel*>(o)->level.~optional();  // a level still entered ends here
  PyObject_Free(o);
  Py_DECREF(type);
}

PyObject* dual_level_enter(PyObject* o, PyObject*) {
  auto* self = reinterpret_cast<PyDualLevel*>(o);
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    SY_CHECK(!self->level, AutogradError,
             "dual_level: already entered; make a new dual_level() for each with-block");
    self->level.emplace();
    return PyLong_FromUnsignedLongLong(self->level->level());
  });
}

PyObject* dual_level_exit(PyObject* o, PyObject* const*, Py_ssize_t) {
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    reinterpret_cast<PyDualLevel*>(o)->level.reset();
    Py_RETURN_FALSE;
  });
}

PyMethodDef dual_level_methods[] = {
    {"__enter__", dual_level_enter, METH_NOARGS, nullptr},
    {"__exit__", reinterpret_cast<PyCFunction>(reinterpret_cast<void*>(dual_level_exit)),
     METH_FASTCALL, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot dual_level_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(dual_level_dealloc)},
    {Py_tp_methods, dual_level_methods},
    {Py_tp_new, reinterpret_cast<void*>(dual_level_new)},
    {Py_tp_doc,
     const_cast<char*>("Context manager entering a new dual level on the calling thread; "
                       "`with dual_level() as level` gives the level's number; levels nest.")},
    {0, nullptr},
};
PyType_Spec dual_level_spec = {"switchyard.autograd.forward_ad.dual_level", sizeof(PyDualLevel), 0,
                               Py_TPFLAGS_DEFAULT, dual_level_slots};

// forward_ad.UnpackedDualTensor (a namedtuple class), set by forward_ad.py.
PyObject* unpacked_dual_type = nullptr;

// Parses `fn(<positional names...>, *, level=None)` from a vectorcall: fills
// `out` (borrowed) and `level`; false with a Python error set otherwise.
bool forward_ad_args(const char* fn, const char* const* names, Py_ssize_t npos,
                     PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames, PyObject** out,
                     std::optional<uint64_t>& level) {
  if (nargs > npos) {
    PyErr_Format(PyExc_TypeError, "%s() takes %zd positional arguments but %zd were given", fn,
                 npos, nargs);
    return false;
  }
  for (Py_ssize_t i = 0; i < npos; ++i) out[i] = i < nargs ? args[i] : nullptr;
  PyObject* lv = nullptr;
  const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  for (Py_ssize_t k = 0; k < nkw; ++k) {
    PyObject* name = PyTuple_GET_ITEM(kwnames, k);
    PyObject* value = args[nargs + k];
    PyObject** slot = nullptr;
    if (PyUnicode_CompareWithASCIIString(name, "level") == 0) slot = &lv;
    for (Py_ssize_t i = 0; i < npos && slot == nullptr; ++i) {
      if (PyUnicode_CompareWithASCIIString(name, names[i]) == 0) slot = &out[i];
    }
    if (slot == nullptr) {
      PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", fn, name);
      return false;
    }
    if (*slot != nullptr) {
      PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%U'", fn, name);
      return false;
    }
    *slot = value;
  }
  for (Py_ssize_t i = 0; i < npos; ++i) {
    if (out[i] == nullptr) {
      PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", fn, names[i]);
      return false;
    }
  }
  level.reset();
  if (lv != nullptr && lv != Py_None) {
    const unsigned long long l = PyLong_AsUnsignedLongLong(lv);
    if (l == static_cast<unsigned long long>(-1) && PyErr_Occurred()) return false;
    level = l;
  }
  return true;
}

const Tensor& tensor_arg(PyObject* o, const char* what, Tensor& slow) {
  if (is_tensor(o)) return unwrap(o);
  slow = tensor_of(o, what);
  return slow;
}

PyObject* py_make_dual(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  static const char* const names[] = {"tensor", "tangent"};
  PyObject* in[2];
  std::optional<uint64_t> level;
  if (!forward_ad_args("make_dual", names, 2, args, nargs, kwnames, in, level)) return nullptr;
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    Tensor s0, s1;
    return wrap(autograd::forward_ad::make_dual(tensor_arg(in[0], "make_dual", s0),
                                                tensor_arg(in[1], "make_dual", s1), level));
  });
}

PyObject* py_unpack_dual(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  static const char* const names[] = {"tensor"};
  PyObject* in[1];
  std::optional<uint64_t> level;
  if (!forward_ad_args("unpack_dual", names, 1, args, nargs, kwnames, in, level)) return nullptr;
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    Tensor s0;
    auto [p, tan] = autograd::forward_ad::unpack_dual(tensor_arg(in[0], "unpack_dual", s0), level);
    py::object primal = py::reinterpret_steal<py::object>(wrap(std::move(p)));
    if (!primal) throw py::error_already_set();
    py::object tangent =
        tan.defined() ? py::reinterpret_steal<py::object>(wrap(std::move(tan))) : py::none();
    if (!tangent) throw py::error_already_set();
    auto* type = reinterpret_cast<PyTypeObject*>(
        unpacked_dual_type ? unpacked_dual_type : reinterpret_cast<PyObject*>(&PyTuple_Type));
    // A namedtuple is a tuple subclass without slots of its own: filled as a tuple.
    PyObject* r = type->tp_alloc(type, 2);
    if (!r) throw py::error_already_set();
    PyTuple_SET_ITEM(r, 0, primal.release().ptr());
    PyTuple_SET_ITEM(r, 1, tangent.release().ptr());
    return r;
  });
}

PyMethodDef forward_ad_functions[] = {
    {"_make_dual", reinterpret_cast<PyCFunction>(reinterpret_cast<void*>(py_make_dual)),
     METH_FASTCALL | METH_KEYWORDS,
     "make_dual(tensor, tangent, *, level=None): a view of tensor carrying tangent."},
    {"_unpack_dual", reinterpret_cast<PyCFunction>(reinterpret_cast<void*>(py_unpack_dual)),
     METH_FASTCALL | METH_KEYWORDS,
     "unpack_dual(tensor, *, level=None): (primal, tangent); tangent is None without one."},
    {nullptr, nullptr, 0, nullptr},
};

// ---- custom functions -------------------------------------------------------------------

class PyFunctionNode;

// The ctx a Function's forward, setup_context and backward see.
struct FunctionCtx {
  std::weak_ptr<PyFunctionNode> node;
  py::tuple to_save;
  bool saved_called = false;
  std::vector<Tensor> dirty, non_differentiable;
  bool materialize_grads = true;
  py::tuple needs_input_grad;
};

class PyFunctionNode final : public Node {
 public:
  PyFunctionNode(py::handle cls, std::string name) : cls_(cls), name_(std::move(name)) {}
  variable_list apply(variable_list&& grads) override;
  std::string name() const override { return name_; }
  void release_variables() override {
    for (autograd::SavedVariable& s : CustomFunctionParts::saved(state)) s.reset_data();
  }

  std::unique_ptr<PyRef> ctx;
  AutogradContext state;  // dirty, non-differentiable and saved tensors
  std::vector<bool> is_tensor;
  bool materialize_grads = true;
  std::shared_ptr<autograd::WrappedCall> wrapped;  // set for a call on a transform's wrappers

 private:
  PyRef cls_;
  std::string name_;
};

// Calls a Function's staticmethod `method` (backward or jvp) with ctx and
// `tensors` (None for undefined ones); its results as tensors, undefined for None.
variable_list call_with_tensors(py::handle cls, py::handle ctx, const char* method,
                                const variable_list& tensors, const std::string& what) {
  py::tuple args(tensors.size() + 1);
  args[0] = py::reinterpret_borrow<py::object>(ctx);
  for (size_t i = 0; i < tensors.size(); ++i) {
    args[i + 1] = tensors[i].defined() ? to_py(tensors[i]) : py::none();
  }
  py::object r = cls.attr(method)(*args);
  variable_list out;
  if (py::isinstance<py::tuple>(r) || py::isinstance<py::list>(r)) {
    for (py::handle item : r) out.push_back(tensor_result(item, what));
  } else {
    out.push_back(tensor_result(r, what));
  }
  return out;
}

variable_list PyFunctionNode::apply(variable_list&& grads) {
  py::gil_scoped_acquire gil;
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined() && materialize_grads && input_metadata(i).defined) {
      grads[i] = input_metadata(i).zeros();
    }
  }
  const std::string what = name_ + ": backward";
  auto backward = [&](const variable_list& g) {
    return call_with_tensors(cls_.get(), ctx->get(), "backward", g, what);
  };
  variable_list out =
      wrapped ? CustomFunctionParts::run_raised(*wrapped, state, grads, backward) : backward(grads);
  return CustomFunctionParts::collect_grads(name_, is_tensor, std::move(out));
}

py::object function_apply(py::handle cls, py::args args) {
  std::vector<bool> is_tensor;
  variable_list inputs;
  for (py::handle a : args) {
    const bool t = is_tensor_obj(a);
    is_tensor.push_back(t);
    if (t) inputs.push_back(unwrap(a.ptr()));
  }
  // On a transform's wrappers, autograd sees `seen` instead of the inputs.
  variable_list seen;
  std::shared_ptr<autograd::WrappedCall> wrapped;
  if (tls_any_slot_set()) wrapped = CustomFunctionParts::wrapped_call(inputs, &seen);
  const variable_list& autograd_inputs = wrapped ? seen : inputs;
  const bool records = CustomFunctionParts::begin(autograd_inputs, /*cpp=*/false);
  const std::string name = py::str(cls.attr("__name__")).cast<std::string>() + "Backward";
  auto node = std::make_shared<PyFunctionNode>(cls, name);
  node->is_tensor = is_tensor;
  node->wrapped = wrapped;
  AutogradContext edges_ctx;
  CustomFunctionParts::connect(*node, edges_ctx, is_tensor, autograd_inputs);

  py::object ctx_obj = py::module_::import("switchyard.autograd.function").attr("FunctionCtx")();
  auto& ctx = ctx_obj.attr("_cpp").cast<FunctionCtx&>();
  ctx.node = node;
  py::tuple needs(is_tensor.size());
  for (size_t i = 0; i < is_tensor.size(); ++i) needs[i] = py::bool_(edges_ctx.needs_input_grad(i));
  ctx.needs_input_grad = needs;
  node->ctx = std::make_unique<PyRef>(ctx_obj);

  const bool new_style = py::cast<bool>(cls.attr("_has_setup_context")());
  py::object output;
  {
    AutoGradMode no_grad(false);
    autograd::detail::ForwardADDisabled no_forward_ad;
    if (new_style) {
      output = cls.attr("forward")(*args);
      cls.attr("setup_context")(ctx_obj, args, output);
    } else {
      py::tuple full(args.size() + 1);
      full[0] = ctx_obj;
      for (size_t i = 0; i < args.size(); ++i) full[i + 1] = args[i];
      output = cls.attr("forward")(*full);
    }
  }
  const bool is_tuple = py::isinstance<py::tuple>(output) || py::isinstance<py::list>(output);
  std::vector<py::object> items;
  if (is_tuple) {
    for (py::handle h : output) items.push_back(py::reinterpret_borrow<py::object>(h));
  } else {
    items.push_back(output);
  }
  variable_list outputs;
  std::vector<size_t> tensor_pos;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!is_tensor_obj(items[i])) continue;
    outputs.push_back(unwrap(items[i].ptr()));
    tensor_pos.push_back(i);
  }

  AutogradContext& cpp = node->state;
  CustomFunctionParts::bind(cpp, node);
  cpp.mark_dirty(ctx.dirty);
  cpp.mark_non_differentiable(ctx.non_differentiable);
  variable_list to_save;
  for (py::handle h : ctx.to_save) to_save.push_back(optional_tensor_of(h, "save_for_backward"));
  cpp.save_for_backward(to_save);
  node->materialize_grads = ctx.materialize_grads;
  if (wrapped) CustomFunctionParts::lower_results(*wrapped, cpp, inputs, seen, outputs, name);
  CustomFunctionParts::wrap_outputs(records ? std::shared_ptr<Node>(node) : nullptr, cpp,
                                    autograd_inputs, outputs, name);

  bool forward = false;
  for (const Tensor& t : autograd_inputs) {
    forward = forward || autograd::detail::has_forward_grad(t);
  }
  if (forward) {
    SY_CHECK(py::cast<bool>(cls.attr("_has_jvp")()), DispatchError,
             "{}: an input carries a forward-mode tangent, but this Function does not define "
             "jvp(ctx, *tangents), so it cannot be differentiated in forward mode",
             py::str(cls.attr("__name__")).cast<std::string>());
    autograd::detail::SmallVector<uint64_t, 2> levels;
    for (const Tensor& t : autograd_inputs) autograd::detail::add_forward_levels(t, levels);
    for (uint64_t level : levels) {
      autograd::detail::SetAsideLevel aside(level);
      const variable_list tangents = CustomFunctionParts::input_tangents(autograd_inputs, level);
      // One tangent per forward argument (None for the non-tensors).
      variable_list per_arg;
      size_t k = 0;
      for (size_t i = 0; i < args.size(); ++i) {
        per_arg.push_back(is_tensor[i] ? tangents[k++] : Tensor());
      }
      auto jvp = [&](const variable_list& t) {
        return call_with_tensors(cls, ctx_obj, "jvp", t, name + ": jvp");
      };
      const variable_list out_t =
          wrapped ? CustomFunctionParts::run_raised(*wrapped, cpp, per_arg, jvp) : jvp(per_arg);
      CustomFunctionParts::set_output_tangents(name, outputs, out_t, level);
    }
  }

  for (size_t j = 0; j < tensor_pos.size(); ++j) {
    items[tensor_pos[j]] = to_py(wrapped ? wrapped->raise(outputs[j]) : outputs[j]);
  }
  if (!is_tuple) return items[0];
  py::tuple result(items.size());
  for (size_t i = 0; i < items.size(); ++i) result[i] = items[i];
  return result;
}

}  // namespace

void init_autograd(py::module_& m) {
  add_to_tensor_type();

  py::class_<Node, std::shared_ptr<Node>>(m, "Node",
                                          R"(A node of a recorded graph: the backward of one op.

t.grad_fn is the node that made t. name() is PyTorch's name ("MulBackward0");
next_functions lists, for each input of the op, the node its gradient goes to and
which input of that node (None for inputs that need no gradient).)")
      .def("name", &Node::name)
      .def_property_readonly("next_functions",
                             [](const Node& n) {
                               py::tuple t(n.num_outputs());
                               for (size_t i = 0; i < n.num_outputs(); ++i) {
                                 const autograd::Edge& e = n.next_edge(i);
                                 t[i] = py::make_tuple(
                                     e.function ? py::cast(e.function) : py::none(), e.input_nr);
                               }
                               return t;
                             })
      .def("__repr__", [](const Node& n) {
        return fmt::format("<{} object at {}>", n.name(), static_cast<const void*>(&n));
      });

  py::class_<FunctionCtx>(m, "_FunctionCtxState")
      .def(py::init<>())
      .def("save_for_backward",
           [](FunctionCtx& c, py::args tensors) {
             for (py::handle t : tensors) optional_tensor_of(t, "save_for_backward");
             c.to_save = py::tuple(tensors);
             c.saved_called = true;
           })
      .def("saved_tensors",
           [](FunctionCtx& c) {
             auto node = c.node.lock();
             SY_CHECK(node != nullptr, AutogradError,
                      "saved_tensors: the graph of this Function call was freed");
             const variable_list saved = node->state.get_saved_variables();
             py::tuple out(saved.size());
             for (size_t i = 0; i < saved.size(); ++i) {
               out[i] = saved[i].defined() ? to_py(saved[i]) : py::none();
             }
             return out;
           })
      .def("mark_dirty",
           [](FunctionCtx& c, py::args tensors) {
             for (py::handle t : tensors) c.dirty.push_back(tensor_of(t, "mark_dirty"));
           })
      .def("mark_non_differentiable",
           [](FunctionCtx& c, py::args tensors) {
             for (py::handle t : tensors) {
               c.non_differentiable.push_back(tensor_of(t, "mark_non_differentiable"));
             }
           })
      .def("set_materialize_grads", [](FunctionCtx& c, bool v) { c.materialize_grads = v; })
      .def_property_readonly("needs_input_grad",
                             [](const FunctionCtx& c) { return c.needs_input_grad; });

  m.def("_function_apply", &function_apply, "Runs a sy.autograd.Function (see function.py).");

  m.def(
      "_autograd_backward",
      [](py::handle tensors, py::handle grad_tensors, std::optional<bool> retain_graph,
         bool create_graph, py::handle inputs) {
        const std::vector<Tensor> ts = tensors_of(tensors, "backward");
        std::vector<Tensor> gs = tensors_of(grad_tensors, "backward", /*allow_none=*/true);
        const std::vector<Tensor> ins = tensors_of(inputs, "backward");
        bool any_grad = false;
        for (const Tensor& g : gs) any_grad = any_grad || g.defined();
        if (!any_grad) gs.clear();
        py::gil_scoped_release release;
        autograd::backward(ts, gs, retain_graph, create_graph, ins);
      },
      py::arg("tensors"), py::arg("grad_tensors"), py::arg("retain_graph"), py::arg("create_graph"),
      py::arg("inputs"));

  m.def(
      "_autograd_grad",
      [](py::handle outputs, py::handle inputs, py::handle grad_outputs,
         std::optional<bool> retain_graph, bool create_graph, bool allow_unused) {
        const std::vector<Tensor> outs = tensors_of(outputs, "grad");
        const std::vector<Tensor> ins = tensors_of(inputs, "grad");
        std::vector<Tensor> gs = tensors_of(grad_outputs, "grad", /*allow_none=*/true);
        bool any_grad = false;
        for (const Tensor& g : gs) any_grad = any_grad || g.defined();
        if (!any_grad) gs.clear();
        std::vector<Tensor> result;
        {
          py::gil_scoped_release release;
          result = autograd::grad(outs, ins, gs, retain_graph, create_graph, allow_unused);
        }
        py::tuple t(result.size());
        for (size_t i = 0; i < result.size(); ++i) {
          t[i] = result[i].defined() ? to_py(result[i]) : py::none();
        }
        return t;
      },
      py::arg("outputs"), py::arg("inputs"), py::arg("grad_outputs"), py::arg("retain_graph"),
      py::arg("create_graph"), py::arg("allow_unused"));

  m.def(
      "_register_hook",
      [](py::handle t, py::handle fn) {
        SY_CHECK(PyCallable_Check(fn.ptr()), TypeError, "register_hook: the hook must be callable");
        return tensor_of(t, "register_hook").register_hook(python_hook(fn));
      },
      "Registers a Python hook on a tensor's gradient; returns its id.");
  m.def("_remove_hook",
        [](py::handle t, uint64_t id) { tensor_of(t, "remove_hook").remove_hook(id); });

  // Forward mode: raw CPython entry points (see "forward mode from Python" above).
  auto* level_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&dual_level_spec));
  if (!level_type) throw py::error_already_set();
  level_type->tp_vectorcall = dual_level_vectorcall;
  m.add_object("_dual_level", py::handle(reinterpret_cast<PyObject*>(level_type)));
  for (PyMethodDef* d = forward_ad_functions; d->ml_name != nullptr; ++d) {
    py::object f = py::reinterpret_steal<py::object>(PyCFunction_NewEx(d, nullptr, nullptr));
    if (!f) throw py::error_already_set();
    m.add_object(d->ml_name, f);
  }
  m.def("_set_unpacked_dual_type", [](py::handle type) {
    SY_CHECK(PyType_Check(type.ptr()) &&
                 PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(type.ptr()), &PyTuple_Type),
             TypeError, "_set_unpacked_dual_type: expected a namedtuple class");
    Py_XDECREF(unpacked_dual_type);
    unpacked_dual_type = type.inc_ref().ptr();
  });
  m.def("_current_dual_level", [] { return autograd::forward_ad::current_level(); });

  // gradcheck over a Python function of tensors.
  auto check = [](bool second, py::handle fn, py::handle inputs, double eps, double atol,
                  double rtol, bool raise_exception, bool check_forward_ad,
                  bool check_backward_ad) {
    const std::vector<Tensor> ins = tensors_of(inputs, "gradcheck");
    auto ref = std::make_shared<PyRef>(fn);
    autograd::GradcheckFunction f = [ref](const std::vector<Tensor>& args) {
      py::tuple a(args.size());
      for (size_t i = 0; i < args.size(); ++i)
        a[i] = args[i].defined() ? to_py(args[i]) : py::none();
      py::object r = py::reinterpret_borrow<py::object>(ref->get())(*a);
      return tensors_of(r, "gradcheck: the function's result", /*allow_none=*/true);
    };
    autograd::GradcheckOptions opt;
    opt.eps = eps;
    opt.atol = atol;
    opt.rtol = rtol;
    opt.raise_exception = raise_exception;
    opt.check_forward_ad = check_forward_ad;
    opt.check_backward_ad = check_backward_ad;
    return second ? autograd::gradgradcheck(f, ins, opt) : autograd::gradcheck(f, ins, opt);
  };
  m.def("_gradcheck",
        [check](py::handle fn, py::handle inputs, double eps, double atol, double rtol,
                bool raise_exception, bool check_forward_ad, bool check_backward_ad) {
          return check(false, fn, inputs, eps, atol, rtol, raise_exception, check_forward_ad,
                       check_backward_ad);
        });
  m.def("_gradgradcheck", [check](py::handle fn, py::handle inputs, double eps, double atol,
                                  double rtol, bool raise_exception) {
    return check(true, fn, inputs, eps, atol, rtol, raise_exception, false, true);
  });
}

}  // namespace sy::python
