// What pickle and copy.deepcopy of tensors need from C++ (the protocol itself
// is in python/switchyard/_serialization.py): a tensor's storage seen as
// bytes, an identity for that storage, and a tensor of any dtype and geometry
// made over a byte tensor's storage. Also sy.manual_seed and sy.initial_seed.
#include "switchyard/python/bindings.h"

namespace sy::python {

namespace {

const Tensor& tensor_arg(py::handle o, const char* what) {
  SY_CHECK(is_tensor(o.ptr()), TypeError, "{}: expected a tensor, got {}", what,
           Py_TYPE(o.ptr())->tp_name);
  return unwrap(o.ptr());
}

}  // namespace

void init_serialization(py::module_& m) {
  m.def(
      "_storage_key",
      [](py::handle t) {
        return reinterpret_cast<uintptr_t>(tensor_arg(t, "_storage_key").impl()->storage().get());
      },
      py::arg("tensor"),
      "An integer naming the tensor's storage: tensors that share memory have the same key "
      "(while one of them lives).");
  m.def(
      "_storage_bytes",
      [](py::handle t) {
        const Tensor& x = tensor_arg(t, "_storage_bytes");
        const Storage& s = x.impl()->storage();
        const int64_t n = static_cast<int64_t>(s->nbytes());
        const int64_t sizes[] = {n};
        const int64_t strides[] = {1};
        Tensor bytes(IntrusivePtr<TensorImpl>::make(s, kUInt8, IntArrayRef(sizes, 1),
                                                    IntArrayRef(strides, 1), 0));
        return py::reinterpret_steal<py::object>(wrap(std::move(bytes)));
      },
      py::arg("tensor"), "The whole storage of `tensor` as a 1-d uint8 tensor sharing its memory.");
  m.def(
      "_view_storage",
      [](py::handle bytes, py::handle dtype, std::vector<int64_t> sizes,
         std::vector<int64_t> strides, int64_t offset) {
        const Tensor& b = tensor_arg(bytes, "_view_storage");
        const auto type = dtype_of(dtype.ptr());
        SY_CHECK(type.has_value(), TypeError, "_view_storage: dtype must be a sy.dtype");
        SY_CHECK(sizes.size() == strides.size() && offset >= 0, ValueError,
                 "_view_storage: sizes {} and strides {} must have one length, offset {} >= 0",
                 to_string(IntArrayRef(sizes)), to_string(IntArrayRef(strides)), offset);
        // The last element it can reach must lie inside the storage.
        int64_t last = offset;
        bool empty = false;
        for (size_t i = 0; i < sizes.size(); ++i) {
          SY_CHECK(sizes[i] >= 0 && strides[i] >= 0, ValueError,
                   "_view_storage: negative size or stride in {} / {}",
                   to_string(IntArrayRef(sizes)), to_string(IntArrayRef(strides)));
          empty = empty || sizes[i] == 0;
          if (sizes[i] > 0) last += (sizes[i] - 1) * strides[i];
        }
        const Storage& s = b.impl()->storage();
        SY_CHECK(empty || (last + 1) * element_size(*type) <= static_cast<int64_t>(s->nbytes()),
                 ValueError,
                 "_view_storage: sizes {}, strides {} and offset {} reach past the storage's {} "
                 "bytes",
                 to_string(IntArrayRef(sizes)), to_string(IntArrayRef(strides)), offset,
                 s->nbytes());
        Tensor t(IntrusivePtr<TensorImpl>::make(s, *type, IntArrayRef(sizes), IntArrayRef(strides),
                                                offset));
        return py::reinterpret_steal<py::object>(wrap(std::move(t)));
      },
      py::arg("bytes"), py::arg("dtype"), py::arg("sizes"), py::arg("strides"), py::arg("offset"),
      "A tensor of `dtype` and this geometry (in elements) over the storage of `bytes`.");

  m.def(
      "manual_seed",
      [](py::int_ seed) {
        // Any Python int, taken modulo 2**64 (negative seeds too, as in PyTorch).
        const unsigned long long v = PyLong_AsUnsignedLongLongMask(seed.ptr());
        if (v == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
          throw py::error_already_set();
        }
        manual_seed(static_cast<uint64_t>(v));
      },
      py::arg("seed"),
      R"(Seeds the random generator of the calling thread (rand, randn, rand_like, ...):
the same seed gives the same numbers. Other threads keep their own generators.)");
  m.def(
      "initial_seed", [] { return py::int_(static_cast<unsigned long long>(initial_seed())); },
      "The seed the calling thread's generator started from.");
}

}  // namespace sy::python
