// Sharing memory with other libraries: sy.from_numpy (any object with the buffer
// protocol), and DLPack both ways (Tensor.__dlpack__, __dlpack_device__,
// sy.from_dlpack). Nothing here copies data: the tensor and the other object
// share it, and each keeps the other's memory alive as long as it needs it.
#include <dlpack/dlpack.h>

#include <vector>

#include "switchyard/python/bindings.h"

namespace sy::python {

namespace {

// DLPack 0.6 has no bool code; 0.8 and PyTorch use 6.
constexpr uint8_t kDLBoolCode = 6;

// Storage memory owned by a Python object: released under the GIL, from
// whichever thread drops the last tensor reference.
struct HeldBuffer {
  Py_buffer view;
};

void release_held_buffer(void*, void* context) {
  auto* held = static_cast<HeldBuffer*>(context);
  if (Py_IsInitialized() && !_Py_IsFinalizing()) {
    PyGILState_STATE g = ensure_gil();
    PyBuffer_Release(&held->view);
    PyGILState_Release(g);
  }
  delete held;
}

std::optional<ScalarType> type_from_format(const char* format, Py_ssize_t itemsize) {
  if (!format) return kUInt8;
  if (*format == '<' || *format == '=' || *format == '@' || *format == '|') ++format;
  if (format[0] == '\0' || format[1] != '\0') return std::nullopt;
  switch (format[0]) {
    case '?': return kBool;
    case 'B': return kUInt8;
    case 'f': return kFloat32;
    case 'd': return kFloat64;
    case 'e': return kFloat16;
    case 'i':
    case 'l':
    case 'q':
      if (itemsize == 4) return kInt32;
      if (itemsize == 8) return kInt64;
      return std::nullopt;
    default: return std::nullopt;
  }
}

// The bytes a tensor of `sizes`/`strides` (in elements) spans.
size_t extent_bytes(IntArrayRef sizes, IntArrayRef strides, int64_t itemsize) {
  int64_t last = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == 0) return 0;
    last += (sizes[i] - 1) * strides[i];
  }
  return static_cast<size_t>((last + 1) * itemsize);
}

}  // namespace

Tensor tensor_from_buffer(PyObject* obj, bool& readonly) {
  auto* held = new HeldBuffer;
  if (PyObject_GetBuffer(obj, &held->view, PyBUF_RECORDS_RO) != 0) {
    delete held;
    throw py::error_already_set();
  }
  Py_buffer& v = held->view;
  // From here on, the storage (or this guard, on error) releases the buffer.
  Storage storage;
  auto release_on_error = std::unique_ptr<HeldBuffer, void (*)(HeldBuffer*)>(
      held, [](HeldBuffer* h) { release_held_buffer(nullptr, h); });
  const auto type = type_from_format(v.format, v.itemsize);
  SY_CHECK(type.has_value() && element_size(*type) == v.itemsize, TypeError,
           "sy.from_numpy(): unsupported element format '{}' (itemsize {}); supported: bool, "
           "uint8, int32, int64, float32, float64",
           v.format ? v.format : "B", v.itemsize);
  std::vector<int64_t> sizes(v.shape, v.shape + v.ndim);
  std::vector<int64_t> strides(static_cast<size_t>(v.ndim));
  for (int i = 0; i < v.ndim; ++i) {
    const Py_ssize_t s = v.strides ? v.strides[i] : 0;
    SY_CHECK(s >= 0 && s % v.itemsize == 0, ValueError,
             "sy.from_numpy(): stride {} of dimension {} is negative or not a multiple of the "
             "element size {}; make a copy first (numpy.ascontiguousarray)",
             s, i, v.itemsize);
    strides[static_cast<size_t>(i)] = s / v.itemsize;
  }
  if (!v.strides) strides = IntArrayRef(contiguous_strides(sizes)).vec();
  const size_t nbytes = extent_bytes(sizes, strides, v.itemsize);
  SY_CHECK(static_cast<int64_t>(sizes.size()) <= kMaxTensorDims, ValueError,
           "sy.from_numpy(): the array has {} dimensions; a tensor has at most {}", sizes.size(),
           kMaxTensorDims);
  readonly = v.readonly != 0;
  storage = Storage::make(DataPtr{v.buf, &release_held_buffer, held}, nbytes, kCPU);
  release_on_error.release();
  return Tensor(IntrusivePtr<TensorImpl>::make(std::move(storage), *type, sizes, strides, 0));
}

namespace {

// ---- DLPack export -----------------------------------------------------------------

struct ExportedTensor {
  Tensor tensor;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;
  DLManagedTensor managed;
};

DLDataType dl_type(ScalarType t) {
  switch (t) {
    case ScalarType::Bool: return {kDLBoolCode, 8, 1};
    case ScalarType::UInt8: return {kDLUInt, 8, 1};
    case ScalarType::Int32: return {kDLInt, 32, 1};
    case ScalarType::Int64: return {kDLInt, 64, 1};
    case ScalarType::Float32: return {kDLFloat, 32, 1};
    case ScalarType::Float64: return {kDLFloat, 64, 1};
    case ScalarType::Float16: return {kDLFloat, 16, 1};
    case ScalarType::BFloat16: return {kDLBfloat, 16, 1};
  }
  return {kDLUInt, 8, 1};
}

std::optional<ScalarType> from_dl_type(DLDataType t) {
  if (t.lanes != 1) return std::nullopt;
  if (t.code == kDLBoolCode && t.bits == 8) return kBool;
  if (t.code == kDLUInt && t.bits == 8) return kUInt8;
  if (t.code == kDLInt && t.bits == 32) return kInt32;
  if (t.code == kDLInt && t.bits == 64) return kInt64;
  if (t.code == kDLFloat && t.bits == 32) return kFloat32;
  if (t.code == kDLFloat && t.bits == 64) return kFloat64;
  if (t.code == kDLFloat && t.bits == 16) return kFloat16;
  if (t.code == kDLBfloat && t.bits == 16) return kBFloat16;
  return std::nullopt;
}

void dlpack_capsule_destructor(PyObject* capsule) {
  // A consumer that took the tensor renamed the capsule and owns it now.
  if (!PyCapsule_IsValid(capsule, "dltensor")) return;
  auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, "dltensor"));
  if (managed && managed->deleter) managed->deleter(managed);
}

py::object to_dlpack(const Tensor& t) {
  SY_CHECK(t.device().is_cpu(), TypeError,
           "__dlpack__: only cpu tensors can be shared through DLPack; this one is on {}",
           t.device().str());
  auto* exported = new ExportedTensor{t, t.sizes().vec(), t.strides().vec(), {}};
  DLTensor& dl = exported->managed.dl_tensor;
  dl.data = t.raw_data();
  dl.device = {kDLCPU, 0};
  dl.ndim = static_cast<int32_t>(t.dim());
  dl.dtype = dl_type(t.dtype());
  dl.shape = exported->shape.data();
  dl.strides = exported->strides.data();
  dl.byte_offset = 0;
  exported->managed.manager_ctx = exported;
  exported->managed.deleter = [](DLManagedTensor* self) {
    delete static_cast<ExportedTensor*>(self->manager_ctx);
  };
  PyObject* capsule = PyCapsule_New(&exported->managed, "dltensor", dlpack_capsule_destructor);
  if (!capsule) {
    delete exported;
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::object>(capsule);
}

// ---- DLPack import -----------------------------------------------------------------

void release_dlpack(void*, void* context) {
  auto* managed = static_cast<DLManagedTensor*>(context);
  if (!managed->deleter) return;
  // The producer's deleter may touch Python objects (numpy's does).
  if (Py_IsInitialized() && !_Py_IsFinalizing()) {
    PyGILState_STATE g = ensure_gil();
    managed->deleter(managed);
    PyGILState_Release(g);
  }
}

}  // namespace

Tensor tensor_from_dlpack(py::handle obj) {
  py::object capsule;
  if (PyCapsule_CheckExact(obj.ptr())) {
    capsule = py::reinterpret_borrow<py::object>(obj);
  } else {
    SY_CHECK(py::hasattr(obj, "__dlpack__"), TypeError,
             "sy.from_dlpack(): expected an object with __dlpack__ or a DLPack capsule, got {}",
             Py_TYPE(obj.ptr())->tp_name);
    if (py::hasattr(obj, "__dlpack_device__")) {
      auto dev = obj.attr("__dlpack_device__")().cast<std::pair<int, int>>();
      SY_CHECK(dev.first == kDLCPU, TypeError,
               "sy.from_dlpack(): the tensor is on DLPack device type {}; switchyard reads only "
               "cpu memory (device type 1)",
               dev.first);
    }
    capsule = obj.attr("__dlpack__")();
  }
  auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor"));
  if (!managed) throw py::error_already_set();
  const DLTensor& dl = managed->dl_tensor;
  SY_CHECK(dl.device.device_type == kDLCPU, TypeError,
           "sy.from_dlpack(): device type {} is not cpu", static_cast<int>(dl.device.device_type));
  const auto type = from_dl_type(dl.dtype);
  SY_CHECK(type.has_value(), TypeError,
           "sy.from_dlpack(): unsupported DLPack dtype (code {}, bits {}, lanes {})",
           static_cast<int>(dl.dtype.code), static_cast<int>(dl.dtype.bits),
           static_cast<int>(dl.dtype.lanes));
  std::vector<int64_t> sizes(dl.shape, dl.shape + dl.ndim);
  std::vector<int64_t> strides;
  if (dl.strides) {
    strides.assign(dl.strides, dl.strides + dl.ndim);
  } else {
    strides = IntArrayRef(contiguous_strides(sizes)).vec();
  }
  SY_CHECK(dl.ndim >= 0 && dl.ndim <= kMaxTensorDims, ValueError,
           "sy.from_dlpack(): the tensor has {} dimensions; a tensor has at most {}", dl.ndim,
           kMaxTensorDims);
  // Taken: from now on the storage calls the producer's deleter.
  if (PyCapsule_SetName(capsule.ptr(), "used_dltensor") != 0) throw py::error_already_set();
  void* data = static_cast<char*>(dl.data) + dl.byte_offset;
  const size_t nbytes = extent_bytes(sizes, strides, element_size(*type));
  auto storage = Storage::make(DataPtr{data, &release_dlpack, managed}, nbytes, kCPU);
  return Tensor(IntrusivePtr<TensorImpl>::make(std::move(storage), *type, sizes, strides, 0));
}

void init_interop(py::module_& m) {
  m.def(
      "from_numpy",
      [](py::handle array) {
        bool readonly = false;
        Tensor t = tensor_from_buffer(array.ptr(), readonly);
        // A tensor is always writable, so a read-only buffer (bytes, a numpy
        // array with writeable=False) is copied rather than shared.
        if (readonly) t = clone(t);
        return py::reinterpret_steal<py::object>(wrap(std::move(t)));
      },
      py::arg("array"),
      R"(A tensor sharing memory with `array` (no copy): writes to either show in both.
A read-only buffer (bytes, an array with writeable=False) is copied instead,
since tensors are always writable.

Args:
  array: a numpy array, or any object with the buffer protocol, of bool, uint8,
    int32, int64, float32 or float64 elements and non-negative strides.)");
  m.def(
      "from_dlpack",
      [](py::handle obj) {
        return py::reinterpret_steal<py::object>(wrap(tensor_from_dlpack(obj)));
      },
      py::arg("ext_tensor"),
      R"(A tensor sharing memory with `ext_tensor` (no copy), through DLPack.

Args:
  ext_tensor: an object with __dlpack__ (numpy arrays, torch tensors) or a
    DLPack capsule; its memory must be on the cpu.)");
  py::handle tensor(reinterpret_cast<PyObject*>(tensor_type));
  tensor.attr("__dlpack__") = py::cpp_function(
      [](py::handle self, py::handle stream) { return to_dlpack(unwrap(self.ptr())); },
      py::is_method(tensor), py::arg("stream") = py::none(),
      "A DLPack capsule sharing this tensor's memory (cpu only).");
  tensor.attr("__dlpack_device__") = py::cpp_function(
      [](py::handle self) {
        SY_CHECK(unwrap(self.ptr()).device().is_cpu(), TypeError,
                 "__dlpack_device__: only cpu tensors can be shared through DLPack");
        return py::make_tuple(static_cast<int>(kDLCPU), 0);
      },
      py::is_method(tensor), "(device type, index) in DLPack's terms: (1, 0) for the cpu.");
}

}  // namespace sy::python
