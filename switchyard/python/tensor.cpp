// sy.Tensor: the Python wrapper of a C++ tensor, and sy.tensor(data).
//
// Note [One wrapper per tensor]
// A TensorImpl has at most one kept Python wrapper, which it points at with a
// non-owning pointer (TensorImpl::python_wrapper). The wrapper owns one C++
// reference; when Python drops the wrapper, its dealloc clears the pointer and
// drops that reference. So wrapping a tensor whose wrapper lives returns that
// very object (identity and attributes survive a trip through C++), no
// reference cycle crosses the language boundary, and neither side ever
// resurrects the other. The cost of this simple rule: a tensor that only C++
// holds gets a new wrapper the next time it reaches Python (attributes set on
// the old one are gone with it). Under the per-thread hermetic flag, wrap()
// makes a fresh wrapper and does not store it; a dealloc clears the pointer
// only when it is its own. All of this happens under the GIL.
#include <cstring>
#include <vector>

#include "switchyard/python/bindings.h"

namespace sy::python {

PyTypeObject* tensor_type = nullptr;

namespace {
thread_local bool hermetic = false;
// The interpreter's main thread (threading.main_thread()), set at import.
unsigned long main_thread_ident = 0;
}  // namespace

bool is_hermetic() { return hermetic; }
void set_hermetic(bool on) { hermetic = on; }

PyObject* wrap(Tensor t) {
  if (!t.defined()) Py_RETURN_NONE;
  TensorImpl* impl = t.impl();
  if (!hermetic) {
    if (void* existing = impl->python_wrapper()) {
      Py_INCREF(static_cast<PyObject*>(existing));
      return static_cast<PyObject*>(existing);
    }
  }
  auto* self = reinterpret_cast<PyTensor*>(tensor_type->tp_alloc(tensor_type, 0));
  if (!self) return nullptr;
  // Python threads other than the main one often make tensors for another
  // thread and then sleep (worker pools); a tensor that such a thread owned
  // could not be freed elsewhere until it woke (Note [Biased reference counts]).
  if (PyThread_get_thread_ident() != main_thread_ident) impl->unbias_with_storage();
  new (&self->tensor) Tensor(std::move(t));
  if (!hermetic) impl->set_python_wrapper(self);
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
  if (TensorImpl* impl = self->tensor.impl(); impl && impl->python_wrapper() == o) {
    impl->set_python_wrapper(nullptr);
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
  return guarded<PyObject*>(nullptr, [&] { return PyBool_FromLong(unwrap(o).is_meta()); });
}
PyObject* get_is_cuda(PyObject* o, void*) {
  return guarded<PyObject*>(nullptr, [&] {
    return PyBool_FromLong(unwrap(o).device().type() == DeviceType::CUDA);
  });
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

PyObject* number_of(PyObject* o, PyObject* (*convert)(PyObject*)) {
  PyObject* item = m_item(o, nullptr);
  if (!item) return nullptr;
  PyObject* r = convert(item);
  Py_DECREF(item);
  return r;
}
PyObject* nb_float(PyObject* o) { return number_of(o, PyNumber_Float); }
PyObject* nb_int(PyObject* o) { return number_of(o, PyNumber_Long); }
int nb_bool(PyObject* o) {
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

PyMethodDef tensor_methods[] = {
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

void release_buffer(PyObject*, Py_buffer* view) { delete[] static_cast<Py_ssize_t*>(view->internal); }

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
    {Py_tp_doc, const_cast<char*>(
                    "A tensor: an n-dimensional array of one element type on one device.\n\n"
                    "Made by sy.tensor(data), the factories (sy.zeros, ...) and ops; never "
                    "directly.")},
    {0, nullptr},
};

PyType_Spec tensor_spec = {
    "switchyard.Tensor",
    sizeof(PyTensor),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
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
  const bool host = device.is_cpu() || (device.type() == DeviceType::PrivateUse1 && privateuse1_is_host);
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
      py::arg("data"), py::kw_only(), py::arg("dtype") = py::none(),
      py::arg("device") = py::none(), py::arg("requires_grad") = false,
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

  m.def("_use_count", [](py::handle t) {
    SY_CHECK(is_tensor(t.ptr()), TypeError, "_use_count expects a tensor");
    return unwrap(t.ptr()).use_count();
  }, "The number of C++ references to the tensor's impl (for tests).");
  m.def("_has_kept_wrapper", [](py::handle t) {
    SY_CHECK(is_tensor(t.ptr()), TypeError, "_has_kept_wrapper expects a tensor");
    return unwrap(t.ptr()).impl()->python_wrapper() == t.ptr();
  }, "Whether this wrapper is the one its tensor keeps (false for hermetic wrappers).");
}

}  // namespace sy::python
