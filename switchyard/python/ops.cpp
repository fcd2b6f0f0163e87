// sy.ops.<ns>.<op>: calling any registered op from Python.
//
// An OpOverloadPacket (sy.ops.sy.add) holds the overloads of one op name; an
// OpOverload (sy.ops.sy.add.Tensor, sy.ops.my_lib.f.default) holds one. A call
// parses its Python arguments against each overload's schema in turn
// (positional, keyword, defaults, keyword-only), strictly by type, boxes them
// on a Stack, and makes one boxed call; the first overload whose schema
// accepts the arguments runs. All of it is C++: the overload list and each
// overload's schema are cached and checked for changes with one load each.
// When no overload fits, the TypeError shows every schema and why it did not.
//
// Note [Unboxed Python calls]
// Boxing copies each tensor argument onto the stack. A tensor Python holds is
// counted atomically (Note [A wrapped object's count]), so each copy and drop
// is a locked instruction, plus the wrapper's hold taken and dropped as the
// count crosses one: most of a small call's cost on some machines. So tools/
// opgen emits, for each table op whose arguments are Tensor, Scalar, int,
// float, bool, str, ScalarType, Device (or optionals of those) and whose
// result is one Tensor, an unboxed entry (<build>/generated/python/
// unboxed_calls.cpp): it converts the Python values with unboxed_arg(), which
// from_python also uses, so both accept the same values; it borrows each
// tensor from its wrapper (`const Tensor&` to the wrapper's own handle, which
// never changes and lives while the caller holds the argument) and calls the
// op's typed handle. The dispatcher then does what it does for any call:
// kernels registered from Python, tracing, autograd and the rest are reached
// as before, boxed where their kernel is boxed. The overloads are tried in the
// same order, each either way, so the same overload wins. Calls that take
// Python-level steps around the dispatcher keep the boxed path: while a
// dispatch mode is active (the thread includes the Python key), or when an
// argument is a tensor subclass (the result type rule, __sy_dispatch__).
#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "switchyard/python/bindings.h"

namespace sy::python {

// ---- values --------------------------------------------------------------------------

PyObject* to_python(const IValue& v) {
  switch (v.tag()) {
    case IValue::Tag::None: Py_RETURN_NONE;
    case IValue::Tag::Bool: return PyBool_FromLong(v.to_bool());
    case IValue::Tag::Int: return PyLong_FromLongLong(v.to_int());
    case IValue::Tag::Double: return PyFloat_FromDouble(v.to_double());
    case IValue::Tag::String: {
      const std::string& s = v.to_string_ref();
      return PyUnicode_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size()));
    }
    case IValue::Tag::Tensor: return wrap(v.to_tensor());
    case IValue::Tag::ScalarType: {
      PyObject* d = dtype_object(v.to_scalar_type());
      Py_INCREF(d);
      return d;
    }
    case IValue::Tag::Device: return device_object(v.to_device());
    default: break;
  }
  auto make_list = [](const auto& values, auto convert) -> PyObject* {
    PyObject* list = PyList_New(static_cast<Py_ssize_t>(values.size()));
    if (!list) return nullptr;
    Py_ssize_t i = 0;
    for (const auto& x : values) {
      PyObject* item = convert(x);
      if (!item) {
        Py_DECREF(list);
        return nullptr;
      }
      PyList_SET_ITEM(list, i++, item);
    }
    return list;
  };
  switch (v.tag()) {
    case IValue::Tag::IntList:
      return make_list(v.to_int_list(), [](int64_t x) { return PyLong_FromLongLong(x); });
    case IValue::Tag::DoubleList:
      return make_list(v.to_double_list(), [](double x) { return PyFloat_FromDouble(x); });
    case IValue::Tag::BoolList:
      return make_list(v.to_bool_list(), [](bool x) { return PyBool_FromLong(x); });
    case IValue::Tag::TensorList:
      return make_list(v.to_tensor_list(), [](const Tensor& t) { return wrap(t); });
    default: break;
  }
  PyErr_SetString(PyExc_TypeError, "switchyard: a value of unknown type cannot reach Python");
  return nullptr;
}

namespace {

using Kind = SchemaType::Kind;

bool is_int(PyObject* o) {
  return (PyLong_Check(o) && !PyBool_Check(o)) ||
         (!PyFloat_Check(o) && !PyBool_Check(o) && !is_tensor(o) && PyIndex_Check(o));
}

// An int that does not fit int64 does not match (the mismatch message says
// why); an exception raised by __index__ propagates, as Python's own calls do.
bool int_of(PyObject* o, int64_t& out) {
  if (!is_int(o)) return false;
  int overflow = 0;
  long long v;
  if (PyLong_Check(o)) {
    v = PyLong_AsLongLongAndOverflow(o, &overflow);
  } else {
    py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(o));
    if (!index) throw py::error_already_set();
    v = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
  }
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  if (overflow != 0) return false;
  out = v;
  return true;
}

template <typename T, typename Convert>
bool list_of(PyObject* o, const SchemaType& type, std::vector<T>& out, Convert convert) {
  if (!PyList_Check(o) && !PyTuple_Check(o)) return false;
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(o);
  if (!type.list_size_fits(static_cast<size_t>(n))) return false;
  out.reserve(static_cast<size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    T x{};
    if (!convert(PySequence_Fast_GET_ITEM(o, i), x)) return false;
    out.push_back(std::move(x));
  }
  return true;
}

// Converts the value of an `Optional` schema type: None, or what `elem` accepts.
template <typename T>
bool optional_arg(PyObject* o, std::optional<T>& out) {
  if (o == Py_None) {
    out.reset();
    return true;
  }
  T v{};
  if (!unboxed_arg(o, v)) return false;
  out = std::move(v);
  return true;
}

}  // namespace

// ---- Python values as C++ arguments -------------------------------------------------------
// from_python boxes through these, so the boxed and the unboxed calls accept the same values.

bool unboxed_arg(PyObject* o, const Tensor*& out) {
  if (!is_tensor(o)) return false;
  out = &unwrap(o);
  return true;
}
bool unboxed_arg(PyObject* o, int64_t& out) { return int_of(o, out); }
bool unboxed_arg(PyObject* o, double& out) {
  if (PyFloat_Check(o)) {
    out = PyFloat_AS_DOUBLE(o);
    return true;
  }
  if (PyLong_Check(o) && !PyBool_Check(o)) {
    const double d = PyLong_AsDouble(o);
    if (d == -1.0 && PyErr_Occurred()) {
      PyErr_Clear();
      return false;
    }
    out = d;
    return true;
  }
  return false;
}
bool unboxed_arg(PyObject* o, bool& out) {
  if (!PyBool_Check(o)) return false;
  out = o == Py_True;
  return true;
}
bool unboxed_arg(PyObject* o, Scalar& out) {
  if (PyBool_Check(o)) {
    out = Scalar(o == Py_True);
    return true;
  }
  if (PyFloat_Check(o)) {
    out = Scalar(PyFloat_AS_DOUBLE(o));
    return true;
  }
  int64_t v;
  if (!int_of(o, v)) return false;
  out = Scalar(v);
  return true;
}
bool unboxed_arg(PyObject* o, ScalarType& out) {
  auto t = dtype_of(o);
  if (!t) return false;
  out = *t;
  return true;
}
bool unboxed_arg(PyObject* o, std::string_view& out) {
  if (!PyUnicode_Check(o)) return false;
  Py_ssize_t n = 0;
  const char* s = PyUnicode_AsUTF8AndSize(o, &n);  // kept by the str object
  if (!s) {
    PyErr_Clear();
    return false;
  }
  out = std::string_view(s, static_cast<size_t>(n));
  return true;
}
bool unboxed_arg(PyObject* o, Device& out) {
  auto d = device_of(o);
  if (!d) return false;
  out = *d;
  return true;
}
bool unboxed_arg(PyObject* o, std::optional<Tensor>& out) {
  if (o == Py_None) {
    out.reset();
    return true;
  }
  if (!is_tensor(o)) return false;
  out = unwrap(o);
  return true;
}
bool unboxed_arg(PyObject* o, std::optional<Scalar>& out) { return optional_arg(o, out); }
bool unboxed_arg(PyObject* o, std::optional<int64_t>& out) { return optional_arg(o, out); }
bool unboxed_arg(PyObject* o, std::optional<double>& out) { return optional_arg(o, out); }
bool unboxed_arg(PyObject* o, std::optional<bool>& out) { return optional_arg(o, out); }
bool unboxed_arg(PyObject* o, std::optional<ScalarType>& out) { return optional_arg(o, out); }
bool unboxed_arg(PyObject* o, std::optional<std::string_view>& out) { return optional_arg(o, out); }
bool unboxed_arg(PyObject* o, std::optional<Device>& out) { return optional_arg(o, out); }
bool unboxed_arg(PyObject* o, std::nullopt_t&) { return o == Py_None; }

bool from_python(PyObject* o, const SchemaType& type, IValue& out) {
  switch (type.kind()) {
    case Kind::Tensor:
      if (!is_tensor(o)) return false;
      out = IValue(unwrap(o));
      return true;
    case Kind::Int: {
      int64_t v;
      if (!unboxed_arg(o, v)) return false;
      out = IValue(v);
      return true;
    }
    case Kind::Float: {
      double d;
      if (!unboxed_arg(o, d)) return false;
      out = IValue(d);
      return true;
    }
    case Kind::Bool: {
      bool b;
      if (!unboxed_arg(o, b)) return false;
      out = IValue(b);
      return true;
    }
    case Kind::Scalar: {
      Scalar v;
      if (!unboxed_arg(o, v)) return false;
      out = IValue(v);
      return true;
    }
    case Kind::Str: {
      std::string_view s;
      if (!unboxed_arg(o, s)) return false;
      out = IValue(std::string(s));
      return true;
    }
    case Kind::ScalarType: {
      ScalarType t;
      if (!unboxed_arg(o, t)) return false;
      out = IValue(t);
      return true;
    }
    case Kind::Device: {
      Device d;
      if (!unboxed_arg(o, d)) return false;
      out = IValue(d);
      return true;
    }
    case Kind::Layout: {
      auto l = layout_of(o);
      if (!l) return false;
      out = IValue(static_cast<int64_t>(*l));
      return true;
    }
    case Kind::MemoryFormat: {
      auto f = memory_format_of(o);
      if (!f) return false;
      out = IValue(static_cast<int64_t>(*f));
      return true;
    }
    case Kind::Generator: return false;  // Generator? takes None, handled as an optional
    case Kind::Optional:
      if (o == Py_None) {
        out = IValue();
        return true;
      }
      return from_python(o, type.elem(), out);
    case Kind::List: {
      const SchemaType& elem = type.elem();
      bool ok = false;
      switch (elem.kind()) {
        case Kind::Int: {
          std::vector<int64_t> v;
          int64_t single;
          if (int_of(o, single)) {  // PyTorch accepts `dim=0` for `int[1] dim`
            v.assign(static_cast<size_t>(type.fixed_size().value_or(1)), single);
            ok = true;
          } else {
            ok = list_of(o, type, v, int_of);
          }
          if (ok) out = IValue(std::move(v));
          break;
        }
        case Kind::Float: {
          std::vector<double> v;
          ok = list_of(o, type, v, [](PyObject* x, double& d) {
            if (PyFloat_Check(x)) return d = PyFloat_AS_DOUBLE(x), true;
            int64_t i;
            if (!int_of(x, i)) return false;
            return d = static_cast<double>(i), true;
          });
          if (ok) out = IValue(std::move(v));
          break;
        }
        case Kind::Bool: {
          std::vector<PyObject*> items;
          ok = list_of(o, type, items,
                       [](PyObject* x, PyObject*& r) { return r = x, PyBool_Check(x); });
          if (ok) {
            std::vector<bool> v;
            for (PyObject* x : items) v.push_back(x == Py_True);
            out = IValue(std::move(v));
          }
          break;
        }
        case Kind::Tensor: {
          std::vector<Tensor> v;
          ok = list_of(o, type, v, [](PyObject* x, Tensor& t) {
            if (!is_tensor(x)) return false;
            return t = unwrap(x), true;
          });
          if (ok) out = IValue(std::move(v));
          break;
        }
        case Kind::Optional: {
          // Tensor?[]: boxed as a tensor list whose missing entries are undefined.
          if (!elem.elem().is_tensor()) break;
          std::vector<Tensor> v;
          ok = list_of(o, type, v, [](PyObject* x, Tensor& t) {
            if (x == Py_None) return t = Tensor(), true;
            if (!is_tensor(x)) return false;
            return t = unwrap(x), true;
          });
          if (ok) out = IValue(std::move(v));
          break;
        }
        default: break;
      }
      return ok;
    }
  }
  return false;
}

namespace {

std::string type_name_of(PyObject* o) {
  if (is_tensor(o)) return "Tensor";
  if (o == Py_None) return "None";
  return Py_TYPE(o)->tp_name;
}

bool overflows_int64(PyObject* o) {
  if (!PyLong_Check(o) || PyBool_Check(o)) return false;
  int overflow = 0;
  PyLong_AsLongLongAndOverflow(o, &overflow);
  return overflow != 0;
}

std::string repr_of(PyObject* o) {
  py::object r = py::reinterpret_steal<py::object>(PyObject_Repr(o));
  if (!r) {
    PyErr_Clear();
    return type_name_of(o);
  }
  std::string text = py::str(r).cast<std::string>();
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

constexpr const char* kInt64Range = "integers lie in [-2**63, 2**63 - 1]";

}  // namespace

std::optional<std::string> explain_mismatch(PyObject* value, const SchemaType& type) {
  const SchemaType& t = type.kind() == Kind::Optional ? type.elem() : type;
  const bool int_like = t.kind() == Kind::Int || t.kind() == Kind::Scalar ||
                        (t.kind() == Kind::List && t.elem().kind() == Kind::Int);
  if (int_like && overflows_int64(value)) {
    return fmt::format("{} overflows int64 ({})", repr_of(value), kInt64Range);
  }
  if (t.kind() == Kind::Str && PyUnicode_Check(value)) {
    return fmt::format("the str {} cannot be encoded as UTF-8 (it holds a lone surrogate)",
                       repr_of(value));
  }
  if (t.kind() == Kind::Tensor && !is_tensor(value) &&
      PyObject_HasAttrString(value, "__dlpack__")) {
    py::handle cls(reinterpret_cast<PyObject*>(Py_TYPE(value)));
    std::string name = py::str(cls.attr("__module__")).cast<std::string>() + "." +
                       py::str(cls.attr("__qualname__")).cast<std::string>();
    return fmt::format(
        "it is a {} from another library, not a switchyard Tensor (convert it "
        "with sy.from_dlpack)",
        name);
  }
  if (t.kind() == Kind::List && (PyList_Check(value) || PyTuple_Check(value))) {
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(value);
    if (!t.list_size_fits(static_cast<size_t>(n))) {
      return fmt::format("it has {} values, and {} holds {} (or one value that stands for all)", n,
                         type.to_string(), *t.fixed_size());
    }
    for (Py_ssize_t i = 0; i < n; ++i) {
      PyObject* item = PySequence_Fast_GET_ITEM(value, i);
      IValue ignored;
      if (from_python(item, t.elem(), ignored)) continue;
      if (auto why = explain_mismatch(item, t.elem())) {
        return fmt::format("its element {}: {}", i, *why);
      }
      return fmt::format("its element {} is {}", i, type_name_of(item));
    }
  }
  return std::nullopt;
}

namespace {

// Why `value` does not fit argument `a` (from_python said no), for the TypeError.
std::string mismatch_reason(const Argument& a, PyObject* value) {
  if (auto why = explain_mismatch(value, a.type)) {
    return fmt::format("argument '{}' must be {}, but {}", a.name, a.type.to_string(), *why);
  }
  return fmt::format("argument '{}' must be {}, not {}", a.name, a.type.to_string(),
                     type_name_of(value));
}

// ---- one overload ---------------------------------------------------------------------

// An overload of an op, with the parts of its schema a call from Python needs,
// re-read when the op's definition changes.
struct Overload {
  OperatorHandle handle;
  std::string overload_name;
  uint32_t generation = 0;                       // of the table the cached schema came from
  std::shared_ptr<const FunctionSchema> schema;  // null while the op is not defined
  std::vector<py::object> names;                 // interned argument names
  size_t num_positional = 0;
  bool varargs_int_list = false;  // the last positional is int[]: view(2, 3) as view([2, 3])
  // A table op's unboxed entry (Note [Unboxed Python calls]), or null; with it,
  // each argument's default as a Python object (null where there is none).
  UnboxedEntry unboxed = nullptr;
  std::vector<py::object> defaults;

  explicit Overload(OperatorHandle h, std::string overload)
      : handle(h), overload_name(std::move(overload)) {}

  // Whether the op is defined now; re-reads the schema when it changed.
  bool refresh() {
    const uint32_t now = handle.definition_generation();
    if (SY_LIKELY(now == generation)) return schema != nullptr;
    // A definition made between the two reads only makes the next call read again.
    generation = now;
    schema = handle.current_schema();
    names.clear();
    num_positional = 0;
    varargs_int_list = false;
    unboxed = nullptr;
    defaults.clear();
    if (!schema) return false;
    for (const Argument& a : schema->arguments()) {
      names.push_back(
          py::reinterpret_steal<py::object>(PyUnicode_InternFromString(a.name.c_str())));
      if (!a.kwarg_only) ++num_positional;
    }
    if (num_positional > 0) {
      const SchemaType& last = schema->arguments()[num_positional - 1].type;
      varargs_int_list = last.kind() == Kind::List && last.elem().kind() == Kind::Int;
    }
    if (!varargs_int_list) unboxed = find_unboxed_entry(handle.name(), names.size());
    if (unboxed != nullptr) {
      for (const Argument& a : schema->arguments()) {
        py::object d;
        if (a.default_value) {
          d = py::reinterpret_steal<py::object>(to_python(*a.default_value));
          if (!d) throw py::error_already_set();
        }
        defaults.push_back(std::move(d));
      }
    }
    return true;
  }

  // Binds a vectorcall's arguments to the schema's as parse() does (positional,
  // keyword, defaults), without converting them: values[i] is argument i's
  // object. False exactly when parse() fails for a reason other than a value's
  // type. Only for overloads with an unboxed entry (no gathered varargs).
  bool bind(PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames, PyObject** values) const {
    const size_t n = names.size();
    if (static_cast<size_t>(nargs) > num_positional) return false;
    for (size_t i = 0; i < n; ++i)
      values[i] = static_cast<Py_ssize_t>(i) < nargs ? args[i] : nullptr;
    const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; ++k) {
      PyObject* key = PyTuple_GET_ITEM(kwnames, k);
      size_t i = 0;
      while (i < n && key != names[i].ptr()) ++i;
      if (i == n) {
        i = 0;
        while (i < n && PyUnicode_Compare(key, names[i].ptr()) != 0) ++i;
        if (i == n) return false;  // an unexpected keyword
      }
      if (values[i] != nullptr) return false;  // given twice
      values[i] = args[nargs + k];
    }
    for (size_t i = 0; i < n; ++i) {
      if (values[i] == nullptr) {
        values[i] = defaults[i].ptr();
        if (values[i] == nullptr) return false;  // missing
      }
    }
    return true;
  }

  // Sort key: overloads taking more tensors positionally are tried first (so
  // add.Tensor before add.Scalar), then those needing fewer keyword-only values.
  std::pair<int, int> order() const {
    if (!schema) return {1 << 20, 0};
    int tensors = 0, required_kw = 0;
    for (const Argument& a : schema->arguments()) {
      if (!a.kwarg_only && a.type.kind() == Kind::Tensor) ++tensors;
      if (a.kwarg_only && !a.default_value) ++required_kw;
    }
    return {-tensors, required_kw};
  }

  // Parses a vectorcall's arguments onto `stack`. On a mismatch returns false,
  // with the reason in *why when it is given.
  bool parse(PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames, Stack& stack,
             std::string* why) const {
    const auto& arguments = schema->arguments();
    const size_t base = stack.size();
    // The reason is formatted only when asked for (the TypeError's pass).
    auto fail = [&](std::string_view format, const auto&... parts) {
      stack.resize(base);
      if (why) *why = fmt::vformat(format, fmt::make_format_args(parts...));
      return false;
    };
    const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    bool gathered = false;  // varargs collected into the last positional int[]
    if (static_cast<size_t>(nargs) > num_positional) {
      if (!varargs_int_list) {
        return fail("takes {} positional argument{} but {} were given", num_positional,
                    num_positional == 1 ? "" : "s", nargs);
      }
      gathered = true;
    }
    Py_ssize_t kw_used = 0;
    for (size_t i = 0; i < arguments.size(); ++i) {
      const Argument& a = arguments[i];
      PyObject* value = nullptr;
      py::object holder;
      if (gathered && i == num_positional - 1) {
        const Py_ssize_t first = static_cast<Py_ssize_t>(i);
        holder = py::reinterpret_steal<py::object>(PyTuple_New(nargs - first));
        for (Py_ssize_t j = first; j < nargs; ++j) {
          Py_INCREF(args[j]);
          PyTuple_SET_ITEM(holder.ptr(), j - first, args[j]);
        }
        value = holder.ptr();
      } else if (i < num_positional && static_cast<Py_ssize_t>(i) < nargs) {
        value = args[i];  // never a keyword-only argument, nor one after gathered varargs
      }
      for (Py_ssize_t k = 0; k < nkw; ++k) {
        PyObject* key = PyTuple_GET_ITEM(kwnames, k);
        if (key == names[i].ptr() || PyUnicode_Compare(key, names[i].ptr()) == 0) {
          if (value) return fail("got multiple values for argument '{}'", a.name);
          value = args[nargs + k];
          ++kw_used;
          break;
        }
      }
      if (!value) {
        if (a.default_value) {
          stack.push_back(*a.default_value);
          continue;
        }
        return fail("missing argument '{}' ({})", a.name, a.type.to_string());
      }
      IValue v;
      if (!from_python(value, a.type, v)) {
        if (!why) return fail("");
        return fail("{}", mismatch_reason(a, value));
      }
      stack.push_back(std::move(v));
    }
    if (kw_used != nkw) {
      for (Py_ssize_t k = 0; k < nkw; ++k) {
        PyObject* key = PyTuple_GET_ITEM(kwnames, k);
        bool known = false;
        for (const auto& n : names) known = known || PyUnicode_Compare(key, n.ptr()) == 0;
        if (!known) return fail("unexpected keyword argument '{}'", PyUnicode_AsUTF8(key));
      }
    }
    return true;
  }
};

// The type of an op's named results (max.dim's (values, indices)): a
// structseq, as PyTorch's torch.return_types.max, made once per op name and
// field names and kept for the life of the process.
PyTypeObject* named_results_type(const std::string& op_name, const std::vector<Return>& returns) {
  struct Kept {
    std::string type_name;
    std::vector<std::string> names;
    std::vector<PyStructSequence_Field> fields;
    PyStructSequence_Desc desc{};
    PyTypeObject* type = nullptr;
  };
  static std::vector<std::unique_ptr<Kept>> kept;  // under the GIL
  std::vector<std::string> names;
  for (const Return& r : returns) names.push_back(r.name);
  const std::string type_name = "switchyard.return_types." + op_name;
  for (const auto& k : kept) {
    if (k->type_name == type_name && k->names == names) return k->type;
  }
  auto k = std::make_unique<Kept>();
  k->type_name = type_name;
  k->names = names;
  for (const std::string& n : k->names) k->fields.push_back({n.c_str(), nullptr});
  k->fields.push_back({nullptr, nullptr});
  k->desc = {k->type_name.c_str(), nullptr, k->fields.data(), static_cast<int>(names.size())};
  k->type = PyStructSequence_NewType(&k->desc);
  if (!k->type) throw py::error_already_set();
  kept.push_back(std::move(k));
  return kept.back()->type;
}

// The type results of a call take (PyTorch's rule for subclasses without a
// dispatch handler): the most derived sy.Tensor subclass among the tensor
// arguments; null when all are sy.Tensor. Two unrelated subclasses in one call
// are a TypeError, as in PyTorch. A subclass with __sy_dispatch__ decides its
// results itself.
template <typename Name>
PyTypeObject* result_subclass(PyObject* const* args, Py_ssize_t n, const Name& op_name) {
  PyTypeObject* best = nullptr;
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyTypeObject* t = Py_TYPE(args[i]);
    if (SY_LIKELY(t == tensor_type) || !is_tensor(args[i]) || has_python_dispatch(t)) continue;
    if (best == nullptr || PyType_IsSubtype(t, best)) {
      best = t;
    } else if (!PyType_IsSubtype(best, t)) {
      SY_THROW(TypeError,
               "{}(): no result type for tensor subclasses {} and {}: neither is a subclass of "
               "the other (convert one with .as_subclass())",
               op_name(), best->tp_name, t->tp_name);
    }
  }
  return best;
}

// Runs a parsed call: the arguments are on `stack`; returns the results as a
// Python value (None, one value, a tuple, or a structseq when the schema
// names every result). New wrappers of tensor results get type `result_type`
// when it is given.
PyObject* run(const Overload& ov, Stack& stack, PyTypeObject* result_type = nullptr) {
  int64_t elements = 0;
  for (const IValue& v : stack) {
    if (v.is_tensor() && v.tensor_impl_unchecked()) elements += v.tensor_impl_unchecked()->numel();
  }
  maybe_without_gil(elements >= kReleaseGilElements, [&] { ov.handle.call_boxed(stack); });
  const size_t n = stack.size();
  if (n == 0) Py_RETURN_NONE;
  std::optional<WrapAs> as;
  if (SY_UNLIKELY(result_type != nullptr)) as.emplace(result_type);
  if (n == 1) {
    if (stack[0].is_tensor()) return wrap(std::move(stack[0]).to_tensor());
    return to_python(stack[0]);
  }
  const auto& returns = ov.schema->returns();
  const bool named =
      returns.size() == n &&
      std::all_of(returns.begin(), returns.end(), [](const Return& r) { return !r.name.empty(); });
  PyObject* tuple = named ? PyStructSequence_New(named_results_type(ov.schema->name(), returns))
                          : PyTuple_New(static_cast<Py_ssize_t>(n));
  if (!tuple) return nullptr;
  for (size_t i = 0; i < n; ++i) {
    PyObject* item = to_python(stack[i]);
    if (!item) {
      Py_DECREF(tuple);
      return nullptr;
    }
    if (named) {
      PyStructSequence_SetItem(tuple, static_cast<Py_ssize_t>(i), item);
    } else {
      PyTuple_SET_ITEM(tuple, static_cast<Py_ssize_t>(i), item);
    }
  }
  return tuple;
}

// ---- the Python objects -------------------------------------------------------------

struct OpState {
  std::string ns;
  std::string name;  // without overload
  // For an OpOverload: its overload name ("" for .default); unused for packets.
  std::optional<std::string> overload;
  uint64_t epoch = ~uint64_t{0};
  std::vector<std::shared_ptr<Overload>> overloads;

  std::string qualified() const { return ns + "::" + name; }
  std::string python_name() const {
    std::string s = "sy.ops." + ns + "." + name;
    if (overload) s += "." + (overload->empty() ? std::string("default") : *overload);
    return s;
  }

  // Finds the op's overloads in the dispatcher (or the one overload).
  void discover() {
    epoch = registration_epoch();
    std::vector<std::shared_ptr<Overload>> found;
    auto& d = Dispatcher::singleton();
    const std::string prefix = qualified();
    for (const std::string& full : d.op_names()) {
      if (full.compare(0, prefix.size(), prefix) != 0) continue;
      if (full.size() > prefix.size() && full[prefix.size()] != '.') continue;
      std::string ov = full.size() > prefix.size() ? full.substr(prefix.size() + 1) : "";
      if (overload && ov != *overload) continue;
      // Keep the existing object (and its cached schema) when there is one.
      auto same = std::find_if(overloads.begin(), overloads.end(),
                               [&](const auto& o) { return o->overload_name == ov; });
      if (same != overloads.end()) {
        found.push_back(*same);
      } else {
        found.push_back(std::make_shared<Overload>(d.find_op(full), ov));
      }
    }
    if (overload && found.empty() && !overloads.empty()) found = overloads;  // removed: keep handle
    for (auto& o : found) o->refresh();
    std::stable_sort(found.begin(), found.end(),
                     [](const auto& a, const auto& b) { return a->order() < b->order(); });
    overloads = std::move(found);
  }

  [[noreturn]] void throw_no_match(PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    bool any_defined = false;
    std::string lines;
    Stack scratch;
    for (auto& ov : overloads) {
      if (!ov->refresh()) continue;
      any_defined = true;
      std::string why;
      ov->parse(args, nargs, kwnames, scratch, &why);
      scratch.clear();
      lines += fmt::format("\n  {}\n      {}", ov->schema->to_string(), why);
    }
    if (!any_defined) {
      SY_THROW(DispatchError,
               "{}(): the op {} was removed (the Library that defined it was destroyed), so "
               "it cannot be called; define it again to call it",
               python_name(),
               overload ? qualified() + (overload->empty() ? "" : "." + *overload) : qualified());
    }
    std::string given;
    for (Py_ssize_t i = 0; i < nargs; ++i) given += (i ? ", " : "") + type_name_of(args[i]);
    const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; ++k) {
      given += fmt::format("{}{}={}", nargs + k ? ", " : "",
                           PyUnicode_AsUTF8(PyTuple_GET_ITEM(kwnames, k)),
                           type_name_of(args[nargs + k]));
    }
    SY_THROW(TypeError, "{}(): no overload accepts the arguments ({}). The schemas:{}",
             python_name(), given, lines);
  }

  // Picks the overload for a call and parses its arguments onto the stack
  // that `stack()` returns (asked for only when an overload is parsed). With
  // `unboxed_result`, an overload that has an unboxed entry is tried through
  // it instead: when it matches, it has run the call and stored its result
  // there, and *unboxed_done is set (Note [Unboxed Python calls]).
  template <typename GetStack>
  const Overload& resolve(PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
                          GetStack&& stack, Tensor* unboxed_result = nullptr,
                          bool* unboxed_done = nullptr) {
    if (SY_UNLIKELY(epoch != registration_epoch())) discover();
    for (int attempt = 0; attempt < 2; ++attempt) {
      for (auto& ov : overloads) {
        if (SY_UNLIKELY(!ov->refresh())) continue;
        if (unboxed_result != nullptr && ov->unboxed != nullptr) {
          PyObject* values[kMaxUnboxedArgs];
          if (ov->bind(args, nargs, kwnames, values) && ov->unboxed(values, *unboxed_result)) {
            *unboxed_done = true;
            return *ov;
          }
          continue;
        }
        if (ov->parse(args, nargs, kwnames, stack(), nullptr)) return *ov;
      }
      if (attempt == 0) discover();  // registered from C++ since we last looked?
    }
    throw_no_match(args, nargs, kwnames);
  }
};

// Whether a call with these arguments may take an unboxed entry: no dispatch
// mode is active on the calling thread and no argument is a tensor subclass
// (Note [Unboxed Python calls]).
bool may_call_unboxed(PyObject* const* args, Py_ssize_t n) {
  if (tls_is_dispatch_key_included(DispatchKey::Python)) return false;
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyTypeObject* t = Py_TYPE(args[i]);
    if (SY_UNLIKELY(t != tensor_type) && is_tensor(args[i])) return false;
  }
  return true;
}

struct PyOp {
  PyObject_HEAD vectorcallfunc vectorcall;
  OpState* state;
};

PyTypeObject* packet_type = nullptr;
PyTypeObject* overload_type = nullptr;

PyObject* op_vectorcall(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  return guarded<PyObject*>(nullptr, [&] {
    check_stack_depth("a call of a switchyard op");
    OpState* state = reinterpret_cast<PyOp*>(self)->state;
    const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    std::optional<detail::PooledStack> pooled;  // taken only for a boxed call
    auto stack = [&]() -> Stack& {
      if (!pooled) pooled.emplace();
      return pooled->stack;
    };
    Tensor result;
    bool done = false;
    const bool unboxed = may_call_unboxed(args, nargs + nkw);
    const Overload& ov =
        state->resolve(args, nargs, kwnames, stack, unboxed ? &result : nullptr, &done);
    if (done) return wrap(std::move(result));
    PyTypeObject* result_type =
        result_subclass(args, nargs + nkw, [&] { return state->python_name(); });
    return run(ov, stack(), result_type);
  });
}

PyObject* make_op(PyTypeObject* type, std::unique_ptr<OpState> state) {
  auto* self = PyObject_New(PyOp, type);
  if (!self) throw py::error_already_set();
  self->vectorcall = op_vectorcall;
  self->state = state.release();
  return reinterpret_cast<PyObject*>(self);
}

void op_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  delete reinterpret_cast<PyOp*>(self)->state;
  PyObject_Free(self);
  Py_DECREF(type);
}

// Ops stored on a class (Tensor.add = sy.ops.sy.add) bind like functions.
PyObject* op_descr_get(PyObject* self, PyObject* obj, PyObject*) {
  if (obj == nullptr || obj == Py_None) {
    Py_INCREF(self);
    return self;
  }
  return PyMethod_New(self, obj);
}

PyObject* op_repr(PyObject* self) {
  const std::string s = "<op " + reinterpret_cast<PyOp*>(self)->state->python_name() + ">";
  return PyUnicode_FromString(s.c_str());
}

PyObject* make_overload(const OpState& packet, const std::string& overload) {
  auto state = std::make_unique<OpState>();
  state->ns = packet.ns;
  state->name = packet.name;
  state->overload = overload;
  state->discover();
  if (state->overloads.empty()) return nullptr;
  return make_op(overload_type, std::move(state));
}

// One OpOverload object per op, made on first use and kept for the life of the
// process, so `func is sy.ops.sy.mm.default` holds in a dispatch handler.
// Keyed by the op's name string, which lives as long as its entry (forever).
std::unordered_map<const std::string*, PyObject*>& overload_cache() {
  static auto* cache = new std::unordered_map<const std::string*, PyObject*>;
  return *cache;
}

PyObject* packet_getattro(PyObject* self, PyObject* name) {
  PyObject* r = PyObject_GenericGetAttr(self, name);
  if (r || !PyErr_ExceptionMatches(PyExc_AttributeError)) return r;
  const char* text = PyUnicode_AsUTF8(name);
  if (!text || text[0] == '_') return nullptr;
  PyErr_Clear();
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    const OpState& state = *reinterpret_cast<PyOp*>(self)->state;
    const std::string overload = std::strcmp(text, "default") == 0 ? "" : text;
    std::string full = state.qualified();
    if (!overload.empty()) full += "." + overload;
    if (auto handle = Dispatcher::singleton().find_op_or_null(full)) {
      return overload_object(*handle);
    }
    if (PyObject* op = make_overload(state, overload)) return op;
    PyErr_Format(PyExc_AttributeError, "%s has no overload '%s'", state.python_name().c_str(),
                 text);
    return nullptr;
  });
}

PyObject* get_name(PyObject* self, void*) {
  return PyUnicode_FromString(reinterpret_cast<PyOp*>(self)->state->name.c_str());
}
PyObject* get_qualified(PyObject* self, void*) {
  const OpState& s = *reinterpret_cast<PyOp*>(self)->state;
  std::string q = s.qualified();
  if (s.overload && !s.overload->empty()) q += "." + *s.overload;
  return PyUnicode_FromString(q.c_str());
}
PyObject* get_schema(PyObject* self, void*) {
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    OpState& s = *reinterpret_cast<PyOp*>(self)->state;
    if (s.overloads.empty() || !s.overloads[0]->refresh()) {
      SY_THROW(DispatchError, "{} is not defined (its library was destroyed)", s.python_name());
    }
    return PyUnicode_FromString(s.overloads[0]->schema->to_string().c_str());
  });
}
PyObject* m_overloads(PyObject* self, PyObject*) {
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    OpState& s = *reinterpret_cast<PyOp*>(self)->state;
    s.discover();
    py::list out;
    for (auto& ov : s.overloads) {
      if (ov->schema) out.append(ov->overload_name.empty() ? "default" : ov->overload_name);
    }
    return out.release().ptr();
  });
}

// Docstrings of the built-in ops (the op table's, installed at import by
// switchyard._tensor_methods): op name in namespace sy -> text.
py::dict* op_docs = nullptr;

PyObject* get_doc(PyObject* self, void*) {
  const OpState& s = *reinterpret_cast<PyOp*>(self)->state;
  if (op_docs != nullptr && s.ns == "sy") {
    if (PyObject* doc = PyDict_GetItemString(op_docs->ptr(), s.name.c_str())) {
      Py_INCREF(doc);
      return doc;
    }
  }
  const std::string text = "The op " + s.qualified() + " (see its overloads' schemas).";
  return PyUnicode_FromString(text.c_str());
}

PyGetSetDef op_getset[] = {
    {"__name__", get_name, nullptr, nullptr, nullptr},
    {"__doc__", get_doc, nullptr,
     const_cast<char*>("All overloads of one op: calls pick the overload whose schema accepts "
                       "the arguments; .default and .<overload> name one. The docstring of a "
                       "built-in op is its op table entry."),
     nullptr},
    {"_qualified_op_name", get_qualified, nullptr, "\"ns::name[.overload]\"", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};
PyObject* get_tags(PyObject* self, void*) {
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    const OpState& s = *reinterpret_cast<PyOp*>(self)->state;
    py::list out;
    if (!s.overloads.empty()) {
      for (Tag t : s.overloads[0]->handle.tags().tags()) out.append(py::cast(t));
    }
    return out.release().ptr();
  });
}

// "sy::add.Tensor", as PyTorch's OpOverload.name() gives "aten::add.Tensor".
PyObject* m_name(PyObject* self, PyObject*) { return get_qualified(self, nullptr); }

// sy.ops.<ns>.<name>: the packet this overload belongs to.
PyObject* get_overloadpacket(PyObject* self, void*) {
  const OpState& s = *reinterpret_cast<PyOp*>(self)->state;
  PyObject* module = PyImport_ImportModule("switchyard.ops");
  if (!module) return nullptr;
  PyObject* ops = PyObject_GetAttrString(module, "ops");
  Py_DECREF(module);
  if (!ops) return nullptr;
  PyObject* ns = PyObject_GetAttrString(ops, s.ns.c_str());
  Py_DECREF(ops);
  if (!ns) return nullptr;
  PyObject* packet = PyObject_GetAttrString(ns, s.name.c_str());
  Py_DECREF(ns);
  return packet;
}

// "sy.add.Tensor", as str() of PyTorch's gives "aten.add.Tensor".
PyObject* overload_str(PyObject* self) {
  const OpState& s = *reinterpret_cast<PyOp*>(self)->state;
  std::string text = s.ns + "." + s.name + "." +
                     (!s.overload || s.overload->empty() ? std::string("default") : *s.overload);
  return PyUnicode_FromString(text.c_str());
}

PyMethodDef overload_methods[] = {
    {"name", m_name, METH_NOARGS,
     "The qualified name, \"ns::op.overload\" (\"ns::op\" for default)."},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef overload_getset[] = {
    {"overloadpacket", get_overloadpacket, nullptr, "The packet of all the op's overloads.",
     nullptr},
    {"__name__", get_name, nullptr, nullptr, nullptr},
    {"tags", get_tags, nullptr, "The op's tags (sy.Tag), as it was defined with.", nullptr},
    {"_qualified_op_name", get_qualified, nullptr, "\"ns::name[.overload]\"", nullptr},
    {"_schema", get_schema, nullptr, "The schema, as text.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};
PyMethodDef packet_methods[] = {
    {"overloads", m_overloads, METH_NOARGS, "The names of the op's overloads (\"default\", ...)."},
    {nullptr, nullptr, 0, nullptr},
};
PyMemberDef op_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(PyOp, vectorcall), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

PyType_Slot packet_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(op_dealloc)},
    {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
    {Py_tp_descr_get, reinterpret_cast<void*>(op_descr_get)},
    {Py_tp_repr, reinterpret_cast<void*>(op_repr)},
    {Py_tp_getattro, reinterpret_cast<void*>(packet_getattro)},
    {Py_tp_getset, op_getset},
    {Py_tp_methods, packet_methods},
    {Py_tp_members, op_members},
    // No Py_tp_doc: it would replace the __doc__ getter of op_getset in the type's dict.
    {0, nullptr},
};
PyType_Slot overload_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(op_dealloc)},
    {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
    {Py_tp_descr_get, reinterpret_cast<void*>(op_descr_get)},
    {Py_tp_repr, reinterpret_cast<void*>(op_repr)},
    {Py_tp_getset, overload_getset},
    {Py_tp_methods, overload_methods},
    {Py_tp_str, reinterpret_cast<void*>(overload_str)},
    {Py_tp_members, op_members},
    {Py_tp_doc, const_cast<char*>("One overload of an op.")},
    {0, nullptr},
};
PyType_Spec packet_spec = {"switchyard._C.OpOverloadPacket", sizeof(PyOp), 0,
                           Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL, packet_slots};
PyType_Spec overload_spec = {"switchyard._C.OpOverload", sizeof(PyOp), 0,
                             Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL, overload_slots};

// The vectorcall form of (args, kwargs), for the pybind11 entry points below.
struct VectorArgs {
  std::vector<PyObject*> values;
  py::object kwnames;
  Py_ssize_t nargs = 0;
  VectorArgs(const py::args& args, const py::kwargs& kwargs) {
    for (auto a : args) values.push_back(a.ptr());
    nargs = static_cast<Py_ssize_t>(values.size());
    if (kwargs.size() > 0) {
      py::tuple names(kwargs.size());
      size_t i = 0;
      for (auto [k, v] : kwargs) {
        names[i++] = k;
        values.push_back(v.ptr());
      }
      kwnames = names;
    }
  }
};

}  // namespace

PyObject* find_op_packet(const std::string& ns, const std::string& name) {
  auto state = std::make_unique<OpState>();
  state->ns = ns;
  state->name = name;
  state->discover();
  if (state->overloads.empty()) return nullptr;
  return make_op(packet_type, std::move(state));
}

namespace {
PyObject* new_overload_object(const OperatorHandle& op) {
  const OperatorName n = parse_operator_name(op.name());
  auto state = std::make_unique<OpState>();
  state->ns = n.ns;
  state->name = n.name;
  state->overload = n.overload;
  state->overloads.push_back(std::make_shared<Overload>(op, n.overload));
  state->overloads[0]->refresh();
  state->epoch = registration_epoch();
  return make_op(overload_type, std::move(state));
}
}  // namespace

// The OpOverload of `op` (for Python fallbacks and dispatch handlers), cached.
PyObject* overload_object(const OperatorHandle& op) {
  PyObject*& cached = overload_cache()[&op.name()];
  if (cached == nullptr) cached = new_overload_object(op);
  Py_INCREF(cached);
  return cached;
}

void init_ops(py::module_& m) {
  auto tag = py::enum_<Tag>(m, "Tag", "A fact about an op (switchyard/dispatch/op_tag.h).");
  for (int i = 0; i < kNumTags; ++i) {
    const auto t = static_cast<Tag>(i);
    tag.value(std::string(to_string(t)).c_str(), t);
  }
  packet_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&packet_spec));
  overload_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&overload_spec));
  if (!packet_type || !overload_type) throw py::error_already_set();
  m.add_object("OpOverloadPacket", py::handle(reinterpret_cast<PyObject*>(packet_type)));
  m.add_object("OpOverload", py::handle(reinterpret_cast<PyObject*>(overload_type)));

  m.def(
      "_find_op",
      [](const std::string& ns, const std::string& name) -> py::object {
        if (PyObject* p = find_op_packet(ns, name)) return py::reinterpret_steal<py::object>(p);
        throw py::attribute_error("sy.ops." + ns + " has no op '" + name + "' (no " + ns +
                                  "::" + name + " is defined)");
      },
      py::arg("ns"), py::arg("name"), "The OpOverloadPacket of ns::name; AttributeError if none.");
  m.def(
      "_set_op_docs",
      [](py::dict docs) {
        if (op_docs == nullptr) op_docs = new py::dict();  // lives as long as the module
        *op_docs = std::move(docs);
      },
      py::arg("docs"), "Sets the docstrings of the sy ops' packets: {op name: text}.");
  m.def(
      "_op_exists",
      [](const std::string& name) {
        return Dispatcher::singleton().find_op_or_null(name).has_value();
      },
      py::arg("name"), "Whether \"ns::name[.overload]\" is defined now.");
  m.def(
      "_op_names", [] { return Dispatcher::singleton().op_names(); },
      "Every defined op's full name, sorted.");
  m.def(
      "_dispatch_dump", [](const std::string& name) { return Dispatcher::singleton().dump(name); },
      py::arg("name"), "An op's registrations, as text.");
  m.def(
      "_dispatch_dump_table",
      [](const std::string& name) { return Dispatcher::singleton().dump_table(name); },
      py::arg("name"), "An op's computed dispatch table, as text.");
  m.def(
      "_dispatch_explain",
      [](const std::string& name, const py::args& args, const py::kwargs& kwargs) {
        const OperatorName n = parse_operator_name(name);
        auto state = std::make_unique<OpState>();
        state->ns = n.ns;
        state->name = n.name;
        if (name.find('.') != std::string::npos) state->overload = n.overload;
        state->discover();
        SY_CHECK(!state->overloads.empty(), DispatchError, "_dispatch_explain: no op named {}",
                 name);
        VectorArgs va(args, kwargs);
        Stack stack;
        const Overload& ov = state->resolve(va.values.data(), va.nargs, va.kwnames.ptr(),
                                            [&]() -> Stack& { return stack; });
        return explain_dispatch(ov.handle, stack);
      },
      py::arg("name"),
      R"(Why a call of op `name` with these arguments, on the calling thread, runs the
kernel it runs: the keys from the tensors, the thread's included and excluded
keys, the fallthrough keys skipped, the chosen kernel and where it was registered.

Args:
  name: "ns::op" (the overload is picked from the arguments) or "ns::op.overload".)");
}

}  // namespace sy::python
