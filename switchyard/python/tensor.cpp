// sy.Tensor: the Python wrapper of a C++ tensor, its subclasses, and sy.tensor(data).
//
// Note [One wrapper per tensor]
// A TensorImpl has at most one kept Python wrapper (TensorImpl::python_wrapper).
// The wrapper owns one C++ reference; the impl holds its wrapper strongly
// (one Python reference) exactly while C++ holds more than that one reference:
// the tensor's reference count calls wrapper_count_edge() when it goes from
// one to two and from two to one (See Note [A wrapped object's count] in
// core/intrusive_ptr.h). So
//   - while the wrapper lives, every trip through C++ returns that very object;
//   - a tensor held only by C++ for a while (a graph constant, a C++ list)
//     keeps its wrapper alive, and comes back as the same object, subclass,
//     attributes and weakrefs included;
//   - when C++ lets go, the impl drops its reference, and the wrapper dies
//     with its last Python reference (dropping the impl's last one), so
//     neither side ever resurrects the other, and a cycle through the
//     wrapper's attributes is one the garbage collector sees whole: the impl's
//     reference is there only while C++ holds the tensor, which makes the
//     wrapper reachable, as it is.
// Marking unbiases the impl's reference count, so every copy of a wrapped
// tensor's handle is an atomic operation (Note [Biased reference counts]). An
// impl still biased to another thread (made on a C++ thread and handed over, or
// left unmerged by a thread that ended) cannot be marked; its wrapper is kept
// as a plain pointer that the wrapper's dealloc clears, so identity holds only
// while Python holds it.
// Under the per-thread hermetic flag, wrap() makes a fresh wrapper and does not
// keep it; a dealloc clears the impl's pointer only when it is its own.
// Everything here runs under the GIL except wrapper_count_edge(), which takes
// it when its thread does not hold it.
#include <cstring>
#include <vector>

#include "switchyard/python/bindings.h"

namespace sy::python {

PyTypeObject* tensor_type = nullptr;

namespace {
thread_local bool hermetic = false;
// The type new wrappers get (WrapAs), null for sy.Tensor.
thread_local PyTypeObject* new_wrapper_type = nullptr;

// The count of a wrapped impl crossed one (See Note [One wrapper per tensor]).
// Going up, the only reference was the wrapper's, so the caller reached the
// impl through it and holds the GIL; going down can happen on any thread.
void wrapper_count_edge(const TensorImpl& impl, bool hold) {
  auto* wrapper = static_cast<PyObject*>(impl.python_wrapper());
  if (!Py_IsInitialized() || _Py_IsFinalizing()) return;  // the interpreter is gone: leak
  if (PyGILState_Check()) {
    if (hold) {
      Py_INCREF(wrapper);
    } else {
      Py_DECREF(wrapper);  // may free the wrapper, and with it the impl
    }
    return;
  }
  GilState gil;
  if (hold) {
    Py_INCREF(wrapper);
  } else {
    Py_DECREF(wrapper);
  }
}

// The interpreter's main thread (threading.main_thread()), set at import.
unsigned long main_thread_ident = 0;
}  // namespace

bool is_hermetic() { return hermetic; }
void set_hermetic(bool on) { hermetic = on; }

WrapAs::WrapAs(PyTypeObject* type) : saved_(std::exchange(new_wrapper_type, type)) {}
WrapAs::~WrapAs() { new_wrapper_type = saved_; }

PyObject* wrap(Tensor t) {
  if (!t.defined()) Py_RETURN_NONE;
  TensorImpl* impl = t.impl();
  if (!hermetic) {
    if (void* existing = impl->python_wrapper()) {
      Py_INCREF(static_cast<PyObject*>(existing));
      return static_cast<PyObject*>(existing);
    }
  }
  PyTypeObject* type = new_wrapper_type ? new_wrapper_type : tensor_type;
  auto* self = reinterpret_cast<PyTensor*>(type->tp_alloc(type, 0));
  if (!self) return nullptr;
  // Python threads other than the main one often make tensors for another
  // thread and then sleep (worker pools); a tensor that such a thread owned
  // could not be freed elsewhere until it woke (Note [Biased reference counts]).
  if (PyThread_get_thread_ident() != main_thread_ident) impl->unbias_with_storage();
  new (&self->tensor) Tensor(std::move(t));
  self->device = nullptr;
  if (!hermetic) {
    // C++ holds more than the wrapper's reference: the impl holds the wrapper.
    // (A count that cannot be marked reads 0: the wrapper does not own then.)
    if (impl->keep_python_wrapper(self) > 1) Py_INCREF(self);
  }
  return reinterpret_cast<PyObject*>(self);
}

namespace {

PyTensor* as_tensor(PyObject* o) { return reinterpret_cast<PyTensor*>(o); }

void tensor_dealloc(PyObject* o) {
  PyTensor* self = as_tensor(o);
  PyTypeObject* type = Py_TYPE(o);
  PyObject_GC_UnTrack(o);
  if (self->weakrefs) PyObject_ClearWeakRefs(o);
  Py_CLEAR(self->dict);
  Py_CLEAR(self->device);
  // Only the wrapper's own reference is left (the impl held the wrapper while
  // there were more), so this drops the impl's last one: most often at once,
  // with no locked instruction; then the handle is forgotten, not dropped.
  if (TensorImpl* impl = self->tensor.impl(); impl && impl->python_wrapper() == o) {
    if (impl->release_python_wrapper()) new (&self->tensor) Tensor();
  }
  self->tensor.~Tensor();
  type->tp_free(o);
  Py_DECREF(type);
}

// Only the attribute dict can hold Python references: the C++ tensor holds none.
int tensor_traverse(PyObject* o, visitproc visit, void* arg) {
  Py_VISIT(as_tensor(o)->dict);
  Py_VISIT(Py_TYPE(o));
  return 0;
}

int tensor_clear(PyObject* o) {
  Py_CLEAR(as_tensor(o)->dict);
  return 0;
}

PyObject* tensor_new(PyTypeObject*, PyObject*, PyObject*) {
  PyErr_SetString(PyExc_TypeError,
                  "sy.Tensor cannot be constructed directly: use sy.tensor(data), sy.empty(...), "
                  "sy.zeros(...) or another factory");
  return nullptr;
}

PyObject* tensor_repr(PyObject* o) {
  return guarded<PyObject*>(nullptr, [&] {
    const std::string s = unwrap(o).to_string();
    return PyUnicode_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size()));
  });
}

Py_hash_t tensor_hash(PyObject* o) { return _Py_HashPointer(o); }

PyObject* size_tuple(IntArrayRef sizes) {
  PyObject* t = PyTuple_New(static_cast<Py_ssize_t>(sizes.size()));
  if (!t) return nullptr;
  for (size_t i = 0; i < sizes.size(); ++i) {
    PyTuple_SET_ITEM(t, static_cast<Py_ssize_t>(i), PyLong_FromLongLong(sizes[i]));
  }
  return t;
}

PyObject* scalar_to_python(const Scalar& s) {
  if (s.is_bool()) return PyBool_FromLong(s.to<bool>());
  if (s.is_integral()) return PyLong_FromLongLong(s.to<int64_t>());
  return PyFloat_FromDouble(s.to<double>());
}

// ---- properties ------------------------------------------------------------------------

PyObject* get_shape(PyObject* o, void*) {
  return guarded<PyObject*>(nullptr, [&] { return size_tuple(unwrap(o).sizes()); });
}
PyObject* get_dtype(PyObject* o, void*) {
  return guarded<PyObject*>(nullptr, [&] {
    PyObject* d = dtype_object(unwrap(o).dtype());
    Py_INCREF(d);
    return d;
  });
}
PyObject* get_device(PyObject* o, void*) {
  if (PyObject* d = as_tensor(o)->device) {  // a wrapper subclass's own device
    Py_INCREF(d);
    return d;
  }
  return guarded<PyObject*>(nullptr, [&] { return device_object(unwrap(o).device()); });
}
PyObject* get_requires_grad(PyObject* o, void*) {
  return guarded<PyObject*>(nullptr, [&] { return PyBool_FromLong(unwrap(o).requires_grad()); });
}
int set_requires_grad(PyObject* o, PyObject* value, void*) {
  if (!value || !PyBool_Check(value)) {
    PyErr_SetString(PyExc_TypeError, "requires_grad must be a bool");
    return -1;
  }
  return guarded<int>(-1, [&] {
    unwrap(o).requires_grad_(value == Py_True);
    return 0;
  });
}
PyObject* get_ndim(PyObject* o, void*) {
  return guarded<PyObject*>(nullptr, [&] { return PyLong_FromLongLong(unwrap(o).dim()); });
}
PyObject* get_is_meta(PyObject* o, void*) {
  if (PyObject* d = as_tensor(o)->device) {
    return PyBool_FromLong(device_of(d).value_or(kCPU).is_meta());
  }
  return guarded<PyObject*>(nullptr, [&] { return PyBool_FromLong(unwrap(o).is_meta()); });
}
PyObject* get_is_cuda(PyObject* o, void*) {
  return guarded<PyObject*>(
      nullptr, [&] { return PyBool_FromLong(unwrap(o).device().type() == DeviceType::CUDA); });
}

PyGetSetDef tensor_getset[] = {
    {"shape", get_shape, nullptr, "The sizes, as a tuple.", nullptr},
    {"dtype", get_dtype, nullptr, "The element type (sy.float32, ...).", nullptr},
    {"device", get_device, nullptr, "Where the data lives (sy.device).", nullptr},
    {"requires_grad", get_requires_grad, set_requires_grad,
     "Whether autograd records ops on this tensor.", nullptr},
    {"ndim", get_ndim, nullptr, "The number of dimensions.", nullptr},
    {"is_meta", get_is_meta, nullptr, "Whether the tensor is on the meta device.", nullptr},
    {"is_cuda", get_is_cuda, nullptr, "Whether the tensor is on a CUDA device.", nullptr},
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict,
     "The attributes set on this tensor object.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

// ---- methods ------------------------------------------------------------------------

PyObject* m_size(PyObject* o, PyObject* const* args, Py_ssize_t n) {
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    if (n == 0) return size_tuple(unwrap(o).sizes());
    const int64_t d = PyLong_AsLongLong(args[0]);
    if (d == -1 && PyErr_Occurred()) return nullptr;
    return PyLong_FromLongLong(unwrap(o).size(d));
  });
}
PyObject* m_stride(PyObject* o, PyObject* const* args, Py_ssize_t n) {
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    if (n == 0) return size_tuple(unwrap(o).strides());
    const int64_t d = PyLong_AsLongLong(args[0]);
    if (d == -1 && PyErr_Occurred()) return nullptr;
    return PyLong_FromLongLong(unwrap(o).stride(d));
  });
}
PyObject* m_dim(PyObject* o, PyObject*) { return get_ndim(o, nullptr); }
PyObject* m_numel(PyObject* o, PyObject*) {
  return guarded<PyObject*>(nullptr, [&] { return PyLong_FromLongLong(unwrap(o).numel()); });
}
PyObject* m_is_contiguous(PyObject* o, PyObject*) {
  return guarded<PyObject*>(nullptr, [&] { return PyBool_FromLong(unwrap(o).is_contiguous()); });
}
PyObject* m_is_inference(PyObject* o, PyObject*) {
  return guarded<PyObject*>(nullptr, [&] { return PyBool_FromLong(unwrap(o).is_inference()); });
}
PyObject* m_storage_offset(PyObject* o, PyObject*) {
  return guarded<PyObject*>(nullptr,
                            [&] { return PyLong_FromLongLong(unwrap(o).storage_offset()); });
}
PyObject* m_element_size(PyObject* o, PyObject*) {
  return guarded<PyObject*>(nullptr,
                            [&] { return PyLong_FromLongLong(element_size(unwrap(o).dtype())); });
}
PyObject* m_data_ptr(PyObject* o, PyObject*) {
  return guarded<PyObject*>(nullptr, [&] {
    return PyLong_FromVoidPtr(unwrap(o).device().is_meta() ? nullptr : unwrap(o).raw_data());
  });
}
PyObject* m_item(PyObject* o, PyObject*) {
  return guarded<PyObject*>(nullptr, [&] { return scalar_to_python(unwrap(o).item()); });
}
PyObject* m_requires_grad_(PyObject* o, PyObject* const* args, Py_ssize_t n) {
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    bool on = true;
    if (n > 0) {
      const int r = PyObject_IsTrue(args[0]);
      if (r < 0) return nullptr;
      on = r != 0;
    }
    unwrap(o).requires_grad_(on);
    Py_INCREF(o);
    return o;
  });
}

void check_host_data(const Tensor& t, const char* what) {
  SY_CHECK(t.device().is_cpu(), TypeError,
           "{}: the tensor is on {}; only cpu tensors have data Python can read (move it with "
           ".to('cpu') or .cpu())",
           what, t.device().str());
}

template <typename T>
PyObject* element_to_python(const T* p) {
  if constexpr (std::is_same_v<T, bool>) {
    return PyBool_FromLong(*p);
  } else if constexpr (is_floating_type_v<T>) {
    return PyFloat_FromDouble(static_cast<double>(*p));
  } else {
    return PyLong_FromLongLong(static_cast<long long>(*p));
  }
}

template <typename T>
PyObject* tolist_dim(const T* p, IntArrayRef sizes, IntArrayRef strides, size_t d) {
  if (d == sizes.size()) return element_to_python(p);
  PyObject* list = PyList_New(sizes[d]);
  if (!list) return nullptr;
  for (int64_t i = 0; i < sizes[d]; ++i) {
    PyObject* item = tolist_dim(p + i * strides[d], sizes, strides, d + 1);
    if (!item) {
      Py_DECREF(list);
      return nullptr;
    }
    PyList_SET_ITEM(list, i, item);
  }
  return list;
}

PyObject* m_tolist(PyObject* o, PyObject*) {
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    const Tensor& t = unwrap(o);
    check_host_data(t, "tolist()");
    return SY_DISPATCH_ALL_TYPES_AND_HALF(t.dtype(), "tolist", [&]() -> PyObject* {
      return tolist_dim(static_cast<const scalar_t*>(t.raw_data()), t.sizes(), t.strides(), 0);
    });
  });
}

PyObject* m_cuda(PyObject* o, PyObject* const*, Py_ssize_t) {
  PyErr_SetString(PyExc_RuntimeError,
                  "Tensor.cuda(): switchyard was built without CUDA, so there is no cuda device "
                  "(sy.cuda.is_available() is False). Use the cpu, or a backend registered at "
                  "PrivateUse1 (see examples/python/privateuse1_backend.py)");
  return nullptr;
}

// A wrapper (vmap's batched tensor) has no one value to convert: its error names
// the conversion (`if x.sum() > 0` is bool()) and the transform.
bool refuse_wrapper(PyObject* o, const char* conversion) {
  return guarded<bool>(true, [&] {
    const TensorImpl* t = unwrap(o).impl();
    if (t != nullptr && t->is_wrapper()) t->throw_wrapper_data_access(conversion);
    return false;
  });
}

PyObject* number_of(PyObject* o, PyObject* (*convert)(PyObject*), const char* conversion) {
  if (refuse_wrapper(o, conversion)) return nullptr;
  PyObject* item = m_item(o, nullptr);
  if (!item) return nullptr;
  PyObject* r = convert(item);
  Py_DECREF(item);
  return r;
}
PyObject* nb_float(PyObject* o) { return number_of(o, PyNumber_Float, "float()"); }
PyObject* nb_int(PyObject* o) { return number_of(o, PyNumber_Long, "int()"); }
int nb_bool(PyObject* o) {
  if (refuse_wrapper(o, "bool() (`if`, `while`, `and`, `or` on a tensor)")) return -1;
  const int64_t n = unwrap(o).numel();
  if (n != 1) {
    // As PyTorch (and numpy): `if t:` on many values has no one answer.
    set_python_error(std::make_exception_ptr(Error(fmt::format(
        "bool() of a tensor with {} is ambiguous; use t.any() or t.all(), or compare each "
        "element",
        n == 0 ? std::string("no values") : fmt::format("{} values", n)))));
    return -1;
  }
  PyObject* item = m_item(o, nullptr);
  if (!item) return -1;
  const int r = PyObject_IsTrue(item);
  Py_DECREF(item);
  return r;
}
Py_ssize_t sq_length(PyObject* o) {
  return guarded<Py_ssize_t>(-1, [&]() -> Py_ssize_t {
    const Tensor& t = unwrap(o);
    SY_CHECK(t.dim() > 0, TypeError, "len() of a 0-d tensor");
    return static_cast<Py_ssize_t>(t.sizes()[0]);
  });
}

// The subclass `cls` of sy.Tensor, or a TypeError naming `what`.
PyTypeObject* subclass_argument(PyObject* cls, const char* what) {
  SY_CHECK(
      PyType_Check(cls) && PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(cls), tensor_type),
      TypeError, "{}: expected a subclass of sy.Tensor, got {}", what,
      PyType_Check(cls) ? reinterpret_cast<PyTypeObject*>(cls)->tp_name : Py_TYPE(cls)->tp_name);
  return reinterpret_cast<PyTypeObject*>(cls);
}

// A new wrapper of type `type` around `t` (whose impl has no wrapper), with
// the Python key when the type defines __sy_dispatch__.
PyObject* new_wrapper_of_type(Tensor t, PyTypeObject* type) {
  t.impl()->set_python_dispatch(has_python_dispatch(type));
  WrapAs as(type);
  return wrap(std::move(t));
}

PyObject* m_as_subclass(PyObject* o, PyObject* cls) {
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    PyTypeObject* type = subclass_argument(cls, "as_subclass");
    const Tensor& t = unwrap(o);
    // A new impl over the same storage and geometry: one impl has one wrapper.
    const TensorImpl& src = *t.impl();
    Tensor alias(IntrusivePtr<TensorImpl>::make(src.storage(), src.dtype(), src.sizes(),
                                                src.strides(), src.storage_offset()));
    if (src.requires_grad()) alias.requires_grad_(true);
    return new_wrapper_of_type(std::move(alias), type);
  });
}

PyObject* m_make_wrapper_subclass(PyObject*, PyObject* args, PyObject* kwargs) {
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    static const char* names[] = {"cls",    "size",          "strides", "dtype",
                                  "device", "requires_grad", nullptr};
    PyObject *cls = nullptr, *size = nullptr, *strides = Py_None, *dtype = Py_None,
             *device = Py_None;
    int requires_grad = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|$OOOp", const_cast<char**>(names), &cls,
                                     &size, &strides, &dtype, &device, &requires_grad)) {
      return nullptr;
    }
    PyTypeObject* type = subclass_argument(cls, "_make_wrapper_subclass");
    auto ints = [](PyObject* seq, const char* what) {
      SY_CHECK(PyList_Check(seq) || PyTuple_Check(seq), TypeError,
               "_make_wrapper_subclass: {} must be a tuple or list of ints, got {}", what,
               Py_TYPE(seq)->tp_name);
      std::vector<int64_t> out;
      for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); ++i) {
        const long long v = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(seq, i));
        if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
        SY_CHECK(v >= 0, ValueError, "_make_wrapper_subclass: {} must not be negative, got {}",
                 what, v);
        out.push_back(v);
      }
      return out;
    };
    const std::vector<int64_t> sizes = ints(size, "size");
    std::optional<ScalarType> type_of =
        dtype == Py_None ? std::optional<ScalarType>(kFloat32) : dtype_of(dtype);
    SY_CHECK(type_of.has_value(), TypeError, "_make_wrapper_subclass: dtype must be a sy.dtype");
    Device dev = kCPU;
    if (device != Py_None) {
      auto d = device_of(device);
      SY_CHECK(d.has_value(), TypeError,
               "_make_wrapper_subclass: device must be a sy.device or a string");
      dev = *d;
    }
    // The wrapper's own impl holds no data: a meta tensor with the Python key,
    // so a call that skips the handler reaches Meta kernels, never memory.
    Tensor t = make_tensor(sizes, *type_of, Device("meta"));
    if (strides != Py_None) {
      const std::vector<int64_t> st = ints(strides, "strides");
      SY_CHECK(st.size() == sizes.size(), ValueError,
               "_make_wrapper_subclass: {} strides for {} sizes", st.size(), sizes.size());
      t.impl()->set_geometry(sizes, st, 0);
    }
    if (requires_grad) t.requires_grad_(true);
    PyObject* w = new_wrapper_of_type(std::move(t), type);
    if (w && !dev.is_meta()) as_tensor(w)->device = device_object(dev);
    return w;
  });
}

PyMethodDef tensor_methods[] = {
    {"as_subclass", m_as_subclass, METH_O,
     "as_subclass(cls): a `cls` instance sharing this tensor's data (a new impl over the same "
     "storage); with the Python key when `cls` defines __sy_dispatch__."},
    {"_make_wrapper_subclass",
     reinterpret_cast<PyCFunction>(reinterpret_cast<void*>(m_make_wrapper_subclass)),
     METH_VARARGS | METH_KEYWORDS | METH_STATIC,
     "_make_wrapper_subclass(cls, size, *, strides=None, dtype=None, device=None, "
     "requires_grad=False): a `cls` instance with that metadata and no data of its own, "
     "for subclasses that hold an inner tensor and handle every op in __sy_dispatch__."},
    {"size", reinterpret_cast<PyCFunction>(reinterpret_cast<void*>(m_size)), METH_FASTCALL,
     "size(dim=None): the sizes as a tuple, or the size of dimension `dim`."},
    {"stride", reinterpret_cast<PyCFunction>(reinterpret_cast<void*>(m_stride)), METH_FASTCALL,
     "stride(dim=None): the strides in elements, or the stride of dimension `dim`."},
    {"dim", m_dim, METH_NOARGS, "The number of dimensions."},
    {"numel", m_numel, METH_NOARGS, "The number of elements."},
    {"is_contiguous", m_is_contiguous, METH_NOARGS, "Whether the elements are row-major, dense."},
    {"is_inference", m_is_inference, METH_NOARGS, "Whether it was made in inference mode."},
    {"storage_offset", m_storage_offset, METH_NOARGS, "The offset into the storage, in elements."},
    {"element_size", m_element_size, METH_NOARGS, "Bytes per element."},
    {"data_ptr", m_data_ptr, METH_NOARGS, "The address of the first element."},
    {"item", m_item, METH_NOARGS, "The value of a one-element tensor as a Python number."},
    {"tolist", m_tolist, METH_NOARGS, "The elements as nested lists of Python numbers."},
    {"requires_grad_", reinterpret_cast<PyCFunction>(reinterpret_cast<void*>(m_requires_grad_)),
     METH_FASTCALL, "requires_grad_(requires_grad=True): sets requires_grad; returns self."},
    {"cuda", reinterpret_cast<PyCFunction>(reinterpret_cast<void*>(m_cuda)),
     METH_FASTCALL | METH_KEYWORDS, "Moves the tensor to CUDA (not available in this build)."},
    {nullptr, nullptr, 0, nullptr},
};

PyMemberDef tensor_members[] = {
    {"__dictoffset__", T_PYSSIZET, offsetof(PyTensor, dict), READONLY, nullptr},
    {"__weaklistoffset__", T_PYSSIZET, offsetof(PyTensor, weakrefs), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

// ---- the buffer protocol: numpy.asarray(t) views the data without copying ---------------

const char* buffer_format(ScalarType t) {
  switch (t) {
    case ScalarType::Bool: return "?";
    case ScalarType::UInt8: return "B";
    case ScalarType::Int32: return "i";
    case ScalarType::Int64: return "q";
    case ScalarType::Float32: return "f";
    case ScalarType::Float64: return "d";
    case ScalarType::Float16: return "e";
    case ScalarType::BFloat16: break;  // no buffer format (and no numpy dtype) exists
  }
  return nullptr;
}

int get_buffer(PyObject* o, Py_buffer* view, int flags) {
  return guarded<int>(-1, [&] {
    const Tensor& t = unwrap(o);
    check_host_data(t, "the buffer protocol (numpy(), memoryview)");
    SY_CHECK(buffer_format(t.dtype()) != nullptr, TypeError,
             "the buffer protocol (numpy(), memoryview): numpy has no {} dtype; convert first, "
             "e.g. t.float().numpy()",
             to_string(t.dtype()));
    const int64_t itemsize = element_size(t.dtype());
    const auto ndim = static_cast<size_t>(t.dim());
    // shape and strides in one allocation, freed by release_buffer.
    auto* dims = new Py_ssize_t[2 * ndim + 1];
    for (size_t i = 0; i < ndim; ++i) {
      dims[i] = static_cast<Py_ssize_t>(t.sizes()[i]);
      dims[ndim + i] = static_cast<Py_ssize_t>(t.strides()[i] * itemsize);
    }
    static char empty_data[64];
    void* data = t.raw_data();
    view->buf = data ? data : empty_data;
    view->obj = o;
    Py_INCREF(o);
    view->len = static_cast<Py_ssize_t>(t.numel() * itemsize);
    view->itemsize = static_cast<Py_ssize_t>(itemsize);
    view->readonly = 0;
    view->ndim = static_cast<int>(ndim);
    view->format = (flags & PyBUF_FORMAT) ? const_cast<char*>(buffer_format(t.dtype())) : nullptr;
    view->shape = dims;
    view->strides = dims + ndim;
    view->suboffsets = nullptr;
    view->internal = dims;
    return 0;
  });
}

void release_buffer(PyObject*, Py_buffer* view) {
  delete[] static_cast<Py_ssize_t*>(view->internal);
}

PyType_Slot tensor_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(tensor_dealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(tensor_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(tensor_clear)},
    {Py_tp_new, reinterpret_cast<void*>(tensor_new)},
    {Py_tp_repr, reinterpret_cast<void*>(tensor_repr)},
    {Py_tp_hash, reinterpret_cast<void*>(tensor_hash)},
    {Py_tp_getset, tensor_getset},
    {Py_tp_methods, tensor_methods},
    {Py_tp_members, tensor_members},
    {Py_nb_float, reinterpret_cast<void*>(nb_float)},
    {Py_nb_int, reinterpret_cast<void*>(nb_int)},
    {Py_nb_bool, reinterpret_cast<void*>(nb_bool)},
    {Py_sq_length, reinterpret_cast<void*>(sq_length)},
    {Py_mp_length, reinterpret_cast<void*>(sq_length)},
    {Py_bf_getbuffer, reinterpret_cast<void*>(get_buffer)},
    {Py_bf_releasebuffer, reinterpret_cast<void*>(release_buffer)},
    {Py_tp_doc,
     const_cast<char*>("A tensor: an n-dimensional array of one element type on one device.\n\n"
                       "Made by sy.tensor(data), the factories (sy.zeros, ...) and ops; never "
                       "directly.")},
    {0, nullptr},
};

PyType_Spec tensor_spec = {
    "switchyard.Tensor",
    sizeof(PyTensor),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    tensor_slots,
};

// ---- sy.tensor(data) (reading the data: tensor_data.cpp) -------------------------------

// Whether the PrivateUse1 allocator installed from Python hands out host memory
// (the toy backend of the examples), so sy.tensor can fill it directly.
bool privateuse1_is_host = false;

struct HostAllocator final : Allocator {
  DataPtr allocate(size_t nbytes) override {
    void* p = nbytes ? std::aligned_alloc(64, (nbytes + 63) / 64 * 64) : nullptr;
    return {p, [](void* data, void*) { std::free(data); }, nullptr};
  }
};

Tensor make_tensor_from_data(PyObject* data, std::optional<ScalarType> dtype, Device device) {
  SY_CHECK(device.type() != DeviceType::CUDA, Error,
           "sy.tensor(): switchyard was built without CUDA, so there is no device '{}'",
           device.str());
  if (dtype && is_reduced_float(*dtype)) {  // read in float32, rounded once
    return to(make_tensor_from_data(data, kFloat32, device), *dtype);
  }
  const bool host =
      device.is_cpu() || (device.type() == DeviceType::PrivateUse1 && privateuse1_is_host);
  Tensor t = tensor_from_data(data, dtype, host ? device : kCPU);
  if (t.device() != device) {
    // Another backend (meta included): its own copy kernel moves the data there.
    static auto to_device = Dispatcher::singleton().find_op("sy::to.device");
    Stack stack{IValue(t), IValue(device), IValue(), IValue(false), IValue(false)};
    to_device.call_boxed(stack);
    t = std::move(stack[0]).to_tensor();
  }
  return t;
}

}  // namespace

void init_tensor(py::module_& m) {
  main_thread_ident =
      py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
  tensor_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&tensor_spec));
  if (!tensor_type) throw py::error_already_set();
  m.add_object("Tensor", py::handle(reinterpret_cast<PyObject*>(tensor_type)));

  m.def(
      "tensor",
      [](py::handle data, py::handle dtype, py::handle device, bool requires_grad) {
        std::optional<ScalarType> type;
        if (!dtype.is_none()) {
          type = dtype_of(dtype.ptr());
          SY_CHECK(type.has_value(), TypeError, "sy.tensor(): dtype must be a sy.dtype, got {}",
                   Py_TYPE(dtype.ptr())->tp_name);
        }
        Device dev = kCPU;
        if (!device.is_none()) {
          auto d = device_of(device.ptr());
          SY_CHECK(d.has_value(), TypeError,
                   "sy.tensor(): device must be a sy.device or a string, got {}",
                   Py_TYPE(device.ptr())->tp_name);
          dev = *d;
        }
        if (is_tensor(data.ptr())) {
          // As torch.tensor(t): a copy, with a hint at the usual spelling.
          if (PyErr_WarnEx(PyExc_UserWarning,
                           "sy.tensor(t) of a tensor copies it; t.clone().detach() says so more "
                           "plainly",
                           1) != 0) {
            throw py::error_already_set();
          }
        }
        Tensor t = make_tensor_from_data(data.ptr(), type, dev);
        if (requires_grad) t.requires_grad_(true);
        return py::reinterpret_steal<py::object>(wrap(std::move(t)));
      },
      py::arg("data"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
      py::arg("requires_grad") = false,
      R"(A new tensor holding a copy of `data`.

Args:
  data: a Python number, nested lists/tuples of numbers (not ragged), a numpy
    array or scalar, a tensor (switchyard's, or any with __dlpack__ such as
    torch's), or lists of those arrays; always copied.
  dtype: the element type; by default bool for bools, int64 for ints, float32
    when any element is a float (as in PyTorch), an array's own dtype. Integers
    out of the dtype's range are a ValueError.
  device: "cpu" (the default), "meta", or "privateuse1".
  requires_grad: whether autograd records ops on it.)");

  m.def(
      "_privateuse1_use_host_memory",
      [] {
        static HostAllocator allocator;
        set_allocator(DeviceType::PrivateUse1, &allocator);
        privateuse1_is_host = true;
      },
      R"(Makes the PrivateUse1 device a toy backend whose memory is host memory, for
examples and tests of per-device kernels written in Python. Call before making
PrivateUse1 tensors.)");

  TensorImpl::set_python_wrapper_hook(&wrapper_count_edge);

  // A C++ list of tensors, for tests of tensors that only C++ holds for a while.
  static auto* stash = new std::vector<Tensor>;
  m.def(
      "_stash",
      [](py::handle t) {
        SY_CHECK(is_tensor(t.ptr()), TypeError, "_stash expects a tensor");
        stash->push_back(unwrap(t.ptr()));
      },
      "Keeps a C++ reference to the tensor in a C++ list (for tests).");
  m.def(
      "_unstash",
      [] {
        std::vector<Tensor> out = std::move(*stash);
        stash->clear();
        py::list result;
        for (Tensor& t : out) result.append(py::reinterpret_steal<py::object>(wrap(std::move(t))));
        return result;
      },
      "Empties the C++ list of _stash and returns its tensors (for tests).");
  m.def(
      "_unstash_on_pool",
      [] {
        auto taken = std::make_shared<std::vector<Tensor>>(std::move(*stash));
        stash->clear();
        py::gil_scoped_release nogil;
        launch([taken] { taken->clear(); }).get();
      },
      "Empties the C++ list of _stash on a pool thread, the GIL released (for tests).");
  m.def(
      "_copy_on_pool",
      [](py::handle t, int64_t n) {
        SY_CHECK(is_tensor(t.ptr()), TypeError, "_copy_on_pool expects a tensor");
        // Borrowed from the wrapper, which the caller's argument keeps alive: the
        // pool's copies cross one when only the wrapper holds the tensor.
        const Tensor& x = unwrap(t.ptr());
        py::gil_scoped_release nogil;
        launch([&x, n] {
          for (int64_t i = 0; i < n; ++i) {
            Tensor a = x;
            Tensor b = a;
          }
        }).get();
      },
      "Copies and drops the tensor n times on a pool thread, the GIL released (for tests).");
  m.def(
      "_refcount_of_wrapper",
      [](py::handle t) {
        SY_CHECK(is_tensor(t.ptr()), TypeError, "_refcount_of_wrapper expects a tensor");
        return Py_REFCNT(t.ptr()) - 1;  // without the argument's own reference
      },
      "The wrapper's Python reference count, less the call's own (for tests).");
  m.def(
      "_use_count",
      [](py::handle t) {
        SY_CHECK(is_tensor(t.ptr()), TypeError, "_use_count expects a tensor");
        return unwrap(t.ptr()).use_count();
      },
      "The number of C++ references to the tensor's impl (for tests).");
  m.def(
      "_has_kept_wrapper",
      [](py::handle t) {
        SY_CHECK(is_tensor(t.ptr()), TypeError, "_has_kept_wrapper expects a tensor");
        return unwrap(t.ptr()).impl()->python_wrapper() == t.ptr();
      },
      "Whether this wrapper is the one its tensor keeps (false for hermetic wrappers).");
}

}  // namespace sy::python
