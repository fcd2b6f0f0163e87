// sy.dtype (sy.float32, sy.int64, ...), sy.device, and sy.layout and
// sy.memory_format (sy.strided, sy.contiguous_format, ...), which schemas of
// PyTorch's ops take.
#include <array>

#include "switchyard/python/bindings.h"

namespace sy::python {

namespace {
// One Python object per element type, so `t.dtype is sy.float32` holds.
struct DType {
  ScalarType type;
};
std::array<PyObject*, kNumScalarTypes> dtype_objects{};
PyTypeObject* device_type = nullptr;

// One Python object per Layout / MemoryFormat value, as for dtypes.
struct LayoutValue {
  Layout value;
};
struct MemoryFormatValue {
  MemoryFormat value;
};
std::array<PyObject*, 1> layout_objects{};
std::array<PyObject*, 4> memory_format_objects{};

template <typename E, size_t N>
std::optional<E> find_object(const std::array<PyObject*, N>& objects, PyObject* o) {
  for (size_t i = 0; i < N; ++i) {
    if (objects[i] == o) return static_cast<E>(i);
  }
  return std::nullopt;
}
}  // namespace

std::optional<Layout> layout_of(PyObject* o) { return find_object<Layout>(layout_objects, o); }
std::optional<MemoryFormat> memory_format_of(PyObject* o) {
  return find_object<MemoryFormat>(memory_format_objects, o);
}

PyObject* dtype_object(ScalarType t) { return dtype_objects[static_cast<int>(t)]; }

std::optional<ScalarType> dtype_of(PyObject* o) {
  for (int i = 0; i < kNumScalarTypes; ++i) {
    if (dtype_objects[i] == o) return static_cast<ScalarType>(i);
  }
  return std::nullopt;
}

PyObject* device_object(Device d) { return py::cast(d).release().ptr(); }

std::optional<Device> device_of(PyObject* o) {
  if (PyUnicode_Check(o)) {
    const char* text = PyUnicode_AsUTF8(o);
    if (!text) throw py::error_already_set();
    return Device(std::string_view(text));
  }
  if (device_type && PyObject_TypeCheck(o, device_type)) return py::cast<Device>(o);
  return std::nullopt;
}

void init_dtypes(py::module_& m) {
  py::class_<DType>(m, "dtype",
                    "An element type: sy.bool, sy.uint8, sy.int32, sy.int64, "
                    "sy.float16, sy.bfloat16, sy.float32, sy.float64.")
      .def("__repr__", [](const DType& d) { return "sy." + std::string(to_string(d.type)); })
      .def_property_readonly("is_floating_point",
                             [](const DType& d) { return is_floating_point(d.type); })
      .def_property_readonly("itemsize", [](const DType& d) { return element_size(d.type); })
      .def("__reduce__", [](const DType& d) { return std::string(to_string(d.type)); });
  for (int i = 0; i < kNumScalarTypes; ++i) {
    const auto t = static_cast<ScalarType>(i);
    py::object obj = py::cast(DType{t});
    dtype_objects[i] = obj.inc_ref().ptr();  // kept for the life of the process
    m.add_object(std::string(to_string(t)).c_str(), obj);
  }
  // PyTorch's aliases.
  m.attr("float") = m.attr("float32");
  m.attr("double") = m.attr("float64");
  m.attr("long") = m.attr("int64");
  m.attr("int") = m.attr("int32");
  m.attr("half") = m.attr("float16");

  auto device = py::class_<Device>(m, "device", R"(Where a tensor's data lives.

Args:
  type: "cpu", "meta", "privateuse1" or "cuda", optionally with ":index".
  index: the device index, when not given in `type`.)");
  device
      .def(py::init([](const std::string& text, std::optional<int> index) {
             Device d(text);
             if (index) d = Device(d.type(), static_cast<int8_t>(*index));
             return d;
           }),
           py::arg("type"), py::arg("index") = py::none())
      .def_property_readonly("type",
                             [](const Device& d) { return std::string(to_string(d.type())); })
      .def_property_readonly("index",
                             [](const Device& d) -> py::object {
                               if (d.index() < 0) return py::none();
                               return py::int_(d.index());
                             })
      .def("__str__", &Device::str)
      .def("__repr__",
           [](const Device& d) {
             std::string s = "device(type='" + std::string(to_string(d.type())) + "'";
             if (d.index() >= 0) s += ", index=" + std::to_string(d.index());
             return s + ")";
           })
      .def("__eq__",
           [](const Device& d, py::handle other) {
             std::optional<Device> o;
             try {
               o = device_of(other.ptr());
             } catch (const sy::Error&) {
               return false;
             }
             return o && *o == d;
           })
      .def("__hash__", [](const Device& d) { return py::hash(py::str(d.str())); });
  device_type = reinterpret_cast<PyTypeObject*>(device.ptr());

  py::class_<LayoutValue>(m, "layout", "A tensor layout: sy.strided (every switchyard tensor).")
      .def("__repr__",
           [](const LayoutValue& l) { return "sy." + std::string(to_string(l.value)); });
  for (size_t i = 0; i < layout_objects.size(); ++i) {
    const auto l = static_cast<Layout>(i);
    py::object obj = py::cast(LayoutValue{l});
    layout_objects[i] = obj.inc_ref().ptr();
    m.add_object(std::string(to_string(l)).c_str(), obj);
  }
  py::class_<MemoryFormatValue>(m, "memory_format",
                                "How an op lays out the tensor it makes: sy.contiguous_format, "
                                "sy.preserve_format, sy.channels_last, sy.channels_last_3d.")
      .def("__repr__",
           [](const MemoryFormatValue& f) { return "sy." + std::string(to_string(f.value)); });
  for (size_t i = 0; i < memory_format_objects.size(); ++i) {
    const auto f = static_cast<MemoryFormat>(i);
    py::object obj = py::cast(MemoryFormatValue{f});
    memory_format_objects[i] = obj.inc_ref().ptr();
    m.add_object(std::string(to_string(f)).c_str(), obj);
  }
}

}  // namespace sy::python
