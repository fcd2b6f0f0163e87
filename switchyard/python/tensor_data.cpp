// sy.tensor(data): a new tensor holding a copy of nested Python sequences of
// numbers, numpy arrays and scalars, switchyard tensors, and other libraries'
// tensors (anything with __dlpack__, such as torch tensors).
//
// Note [Reading nested data]
// The data is read in three passes, none of which goes deeper than
// kMaxTensorDims, so a list nested 100,000 deep, or a list that contains
// itself, is an error rather than a stack overflow:
//  1. shape: follow the first item of each list down to the first leaf. A leaf
//     is a number, or an array (numpy array or scalar, tensor) whose own sizes
//     end the shape.
//  2. check: walk everything. A list at depth d has length sizes[d], and
//     leaves sit exactly at the depth where the lists end: a number beside a
//     list is "ragged". Unless a dtype is given, the dtype is the promotion of
//     the leaves' types: bool, int64 for ints, float32 for floats (as in
//     PyTorch), an array's own dtype.
//  3. fill: numbers by the checked conversion (an integer out of the dtype's
//     range is an error, as in PyTorch), arrays by a converting copy.
#include <vector>

#include "switchyard/ops/type_promotion.h"
#include "switchyard/python/bindings.h"

namespace sy::python {

namespace {

bool is_sequence(PyObject* o) { return PyList_Check(o) || PyTuple_Check(o); }

// numpy's ndarray and generic (scalar) types and asarray, once numpy is imported
// (an object cannot be a numpy object before that).
struct Numpy {
  PyTypeObject* ndarray = nullptr;
  PyTypeObject* generic = nullptr;
  PyObject* asarray = nullptr;
};

const Numpy* numpy() {
  static Numpy np;
  if (np.ndarray) return &np;
  py::object name = py::str("numpy");
  PyObject* module = PyImport_GetModule(name.ptr());
  if (!module) {
    PyErr_Clear();
    return nullptr;
  }
  py::object m = py::reinterpret_steal<py::object>(module);
  // Kept for the life of the process.
  np.generic = reinterpret_cast<PyTypeObject*>(py::object(m.attr("generic")).release().ptr());
  np.asarray = py::object(m.attr("asarray")).release().ptr();
  np.ndarray = reinterpret_cast<PyTypeObject*>(py::object(m.attr("ndarray")).release().ptr());
  return &np;
}

bool is_numpy(PyObject* o) {
  const Numpy* np = numpy();
  return np && (PyObject_TypeCheck(o, np->ndarray) || PyObject_TypeCheck(o, np->generic));
}

bool is_array(PyObject* o) {
  return is_tensor(o) || is_numpy(o) || PyObject_HasAttrString(o, "__dlpack__");
}

std::string type_name(PyObject* o) { return Py_TYPE(o)->tp_name; }

// A numpy array or scalar as a tensor sharing its memory (converted to `dtype`
// first when numpy's dtype has no switchyard counterpart).
Tensor numpy_to_tensor(PyObject* o, std::optional<ScalarType> dtype) {
  py::object array = py::handle(numpy()->asarray)(py::handle(o), py::arg("order") = "C");
  py::object np_dtype = array.attr("dtype");
  const auto name = py::str(np_dtype.attr("name")).cast<std::string>();
  const std::optional<ScalarType> own = parse_scalar_type(name);
  if (!own || to_string(*own) != name) {
    SY_CHECK(dtype.has_value(), TypeError,
             "sy.tensor(): numpy dtype {} has no switchyard dtype; pass dtype= (one of bool, "
             "uint8, int32, int64, float32, float64) or convert the array with .astype()",
             name);
    array = array.attr("astype")(std::string(to_string(*dtype)));
  } else if (!np_dtype.attr("isnative").cast<bool>()) {
    array = array.attr("astype")(name);  // native byte order
  }
  bool readonly = false;
  return tensor_from_buffer(array.ptr(), readonly);
}

// An array leaf as a cpu tensor (sharing memory where it can; pass 3 copies).
Tensor array_to_tensor(PyObject* o, std::optional<ScalarType> dtype) {
  if (is_tensor(o)) {
    const Tensor& t = unwrap(o);
    SY_CHECK(t.device().is_cpu(), ValueError,
             "sy.tensor(): a tensor in the data is on {}; only cpu tensors can be read (move it "
             "with .cpu() first)",
             t.device().str());
    return t;
  }
  if (is_numpy(o)) return numpy_to_tensor(o, dtype);
  return tensor_from_dlpack(py::handle(o));
}

enum class Leaf { Bool, Int, Float, Array };

Leaf classify(PyObject* o) {
  if (PyFloat_CheckExact(o)) return Leaf::Float;
  if (PyLong_CheckExact(o)) return Leaf::Int;
  if (PyBool_Check(o)) return Leaf::Bool;
  if (is_array(o)) return Leaf::Array;
  if (PyLong_Check(o) || (!PyFloat_Check(o) && PyIndex_Check(o))) return Leaf::Int;
  if (PyFloat_Check(o)) return Leaf::Float;
  SY_CHECK(!PyComplex_Check(o), TypeError,
           "sy.tensor(): complex numbers are not supported (switchyard has no complex dtype)");
  SY_CHECK(Py_TYPE(o)->tp_as_number && Py_TYPE(o)->tp_as_number->nb_float, TypeError,
           "sy.tensor(): expected numbers, lists or tuples of numbers, numpy arrays or tensors; "
           "got {}",
           type_name(o));
  return Leaf::Float;
}

std::string shape_string(const std::vector<int64_t>& sizes, size_t from) {
  return to_string(IntArrayRef(sizes.data() + from, sizes.size() - from));
}

struct Reader {
  std::optional<ScalarType> requested;
  std::vector<int64_t> sizes;
  size_t list_dims = 0;             // how many of `sizes` come from lists
  std::optional<ScalarType> dtype;  // the leaves' promoted type
  std::vector<Tensor> arrays;       // array leaves, in order

  void too_deep() const {
    SY_THROW(ValueError,
             "sy.tensor(): the data is nested more than {} deep, and a tensor has at most {} "
             "dimensions (a list that contains itself nests without end)",
             kMaxTensorDims, kMaxTensorDims);
  }

  // Pass 1.
  void find_shape(PyObject* o) {
    while (is_sequence(o)) {
      if (static_cast<int64_t>(sizes.size()) >= kMaxTensorDims) too_deep();
      const Py_ssize_t n = PySequence_Fast_GET_SIZE(o);
      sizes.push_back(n);
      if (n == 0) break;
      o = PySequence_Fast_GET_ITEM(o, 0);
    }
    list_dims = sizes.size();
    if (is_sequence(o) || classify(o) != Leaf::Array) return;
    const Tensor first = array_to_tensor(o, requested);
    if (static_cast<int64_t>(sizes.size()) + first.dim() > kMaxTensorDims) too_deep();
    for (int64_t s : first.sizes()) sizes.push_back(s);
  }

  void add_type(ScalarType t) { dtype = dtype ? promote_types(*dtype, t) : t; }

  // Pass 2.
  void check(PyObject* o, size_t depth) {
    if (depth < list_dims) {
      SY_CHECK(is_sequence(o), ValueError,
               "sy.tensor(): the data is ragged: at depth {} a {} where a list of length {} was "
               "expected",
               depth, type_name(o), sizes[depth]);
      const Py_ssize_t n = PySequence_Fast_GET_SIZE(o);
      SY_CHECK(n == sizes[depth], ValueError,
               "sy.tensor(): the data is ragged: at depth {} a list of length {} where one of "
               "length {} was expected",
               depth, n, sizes[depth]);
      for (Py_ssize_t i = 0; i < n; ++i) check(PySequence_Fast_GET_ITEM(o, i), depth + 1);
      return;
    }
    const bool numbers_here = list_dims == sizes.size();
    SY_CHECK(!is_sequence(o), ValueError,
             "sy.tensor(): the data is ragged: at depth {} a list where {} was expected", depth,
             numbers_here ? std::string("a number")
                          : "an array of shape " + shape_string(sizes, list_dims));
    switch (classify(o)) {
      case Leaf::Bool: add_type(kBool); break;
      case Leaf::Int: add_type(kInt64); break;
      case Leaf::Float: add_type(kFloat32); break;
      case Leaf::Array: {
        Tensor t = array_to_tensor(o, requested);
        SY_CHECK(t.sizes() == IntArrayRef(sizes.data() + list_dims, sizes.size() - list_dims),
                 ValueError,
                 "sy.tensor(): the data is ragged: at depth {} an array of shape {} where {} was "
                 "expected",
                 depth, to_string(t.sizes()),
                 numbers_here ? std::string("a number")
                              : "an array of shape " + shape_string(sizes, list_dims));
        add_type(t.dtype());
        arrays.push_back(std::move(t));
        return;
      }
    }
    SY_CHECK(numbers_here, ValueError,
             "sy.tensor(): the data is ragged: at depth {} a number where an array of shape {} "
             "was expected",
             depth, shape_string(sizes, list_dims));
  }

  // Pass 3.
  template <typename T>
  void fill(PyObject* o, size_t depth, const Tensor& out, int64_t& offset, size_t& next_array,
            ScalarType type) {
    if (depth < list_dims) {
      const Py_ssize_t n = PySequence_Fast_GET_SIZE(o);
      for (Py_ssize_t i = 0; i < n; ++i) {
        fill<T>(PySequence_Fast_GET_ITEM(o, i), depth + 1, out, offset, next_array, type);
      }
      return;
    }
    if (list_dims < sizes.size() || classify(o) == Leaf::Array) {
      const Tensor& src = arrays[next_array++];
      const Tensor dst = make_view(out, src.sizes(), contiguous_strides(src.sizes()),
                                   out.storage_offset() + offset);
      copy_(dst, src);
      offset += src.numel();
      return;
    }
    static_cast<T*>(out.raw_data())[offset++] = number_to<T>(o, type);
  }

  template <typename T>
  static T number_to(PyObject* o, ScalarType type) {
    if constexpr (std::is_same_v<T, bool>) {
      const int r = PyObject_IsTrue(o);
      if (r < 0) throw py::error_already_set();
      return r != 0;
    } else if constexpr (!std::is_integral_v<T>) {
      const double v = PyFloat_AsDouble(o);
      if (v == -1.0 && PyErr_Occurred()) throw py::error_already_set();
      return static_cast<T>(v);  // beyond the type's range: ±inf, as in PyTorch
    } else {
      Scalar s;
      if (PyFloat_Check(o) || !PyIndex_Check(o)) {
        const double v = PyFloat_AsDouble(o);
        if (v == -1.0 && PyErr_Occurred()) throw py::error_already_set();
        s = Scalar(v);
      } else {
        py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(o));
        if (!index) throw py::error_already_set();
        int overflow = 0;
        const long long v = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
        if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
        SY_CHECK(overflow == 0, ValueError,
                 "sy.tensor(): {} overflows int64 (the widest integer dtype), so it cannot be "
                 "converted to {}",
                 py::repr(index).cast<std::string>(), to_string(type));
        s = Scalar(static_cast<int64_t>(v));
      }
      SY_CHECK(!s.overflows(type), ValueError,
               "sy.tensor(): the value {} cannot be converted to {} without overflow", s.str(),
               to_string(type));
      return s.to<T>();
    }
  }
};

}  // namespace

Tensor tensor_from_data(PyObject* data, std::optional<ScalarType> dtype, Device alloc_device) {
  Reader r;
  r.requested = dtype;
  r.find_shape(data);
  r.check(data, 0);
  const ScalarType type = dtype.value_or(r.dtype.value_or(kFloat32));
  // Arrays are copied by copy_, which the cpu has a kernel for.
  Tensor out = make_tensor(r.sizes, type, r.arrays.empty() ? alloc_device : kCPU);
  int64_t offset = 0;
  size_t next_array = 0;
  SY_DISPATCH_ALL_TYPES(type, "sy.tensor",
                        [&] { r.fill<scalar_t>(data, 0, out, offset, next_array, type); });
  return out;
}

}  // namespace sy::python
