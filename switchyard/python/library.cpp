// switchyard._C._Library: the C++ side of switchyard.library.Library, and Python
// kernels.
//
// A Python kernel is a boxed kernel that holds the callable. It takes the GIL,
// turns the op's arguments into Python values (tensors keep their wrappers, see
// Note [One wrapper per tensor]), calls the callable (positional arguments
// positionally, keyword-only ones by keyword), and pushes what it returns as
// the schema's returns. An exception it raises travels through C++ as a
// PythonError and comes out of the sy.ops call as it was raised.
//
// A _Library takes part in Python's garbage collection: it reports the
// callables of its kernels, and clearing it destroys it. So a cycle such as
// kernel -> closure -> Library -> kernel is collected, and removes its
// registrations, instead of keeping them for the life of the process.
#include <memory>
#include <vector>

#include "switchyard/python/bindings.h"

namespace sy::python {

namespace {

struct PythonKernel final : OperatorKernel {
  PythonKernel(PyObject* f, bool fallback, DispatchKey k, bool herm)
      : fn(f), is_fallback(fallback), key(k), hermetic(herm) {
    Py_INCREF(fn);
  }
  // Runs when the last table using the kernel is freed, on any thread.
  ~PythonKernel() override {
    if (!Py_IsInitialized() || _Py_IsFinalizing()) return;  // the interpreter is gone: leak
    PyGILState_STATE g = ensure_gil();
    Py_DECREF(fn);
    PyGILState_Release(g);
  }

  static void call(OperatorKernel* k, const OperatorHandle& op, DispatchKeySet, Stack* stack);

  PyObject* fn;
  bool is_fallback;  // called as fn(op, *args, **kwargs) with its key excluded
  DispatchKey key;
  bool hermetic;  // runs with the hermetic flag set
};

// Sets the hermetic flag for a kernel that asked for it, and restores it.
class HermeticGuard {
 public:
  explicit HermeticGuard(bool on) : on_(on), saved_(on && is_hermetic()) {
    if (on_) set_hermetic(true);
  }
  ~HermeticGuard() {
    if (on_) set_hermetic(saved_);
  }
  HermeticGuard(const HermeticGuard&) = delete;
  HermeticGuard& operator=(const HermeticGuard&) = delete;

 private:
  bool on_;
  bool saved_;
};

// Owned references to the arguments of one Python call, with room in front
// for PY_VECTORCALL_ARGUMENTS_OFFSET; inline for the usual few arguments.
class PyArgs {
 public:
  explicit PyArgs(size_t capacity) {
    if (capacity + 1 > kInline) {
      heap_.resize(capacity + 1);
      values_ = heap_.data();
    }
    values_[0] = nullptr;
  }
  ~PyArgs() {
    for (size_t i = 1; i <= size_; ++i) Py_DECREF(values_[i]);
  }
  PyArgs(const PyArgs&) = delete;
  PyArgs& operator=(const PyArgs&) = delete;
  void push(PyObject* o) {
    if (!o) throw PythonError::fetch();
    values_[++size_] = o;
  }
  // The arguments, with one writable slot before them.
  PyObject** data() { return values_ + 1; }
  size_t size() const { return size_; }

 private:
  static constexpr size_t kInline = 8;
  PyObject* inline_[kInline];
  std::vector<PyObject*> heap_;
  PyObject** values_ = inline_;
  size_t size_ = 0;
};

void PythonKernel::call(OperatorKernel* k, const OperatorHandle& op, DispatchKeySet, Stack* stack) {
  auto* self = static_cast<PythonKernel*>(k);
  const std::shared_ptr<const FunctionSchema> schema_ptr = op.current_schema();
  const FunctionSchema& schema = *schema_ptr;
  const auto& arguments = schema.arguments();
  const size_t n = arguments.size();
  std::optional<ExcludeDispatchKeyGuard> below;
  if (self->is_fallback) below.emplace(self->key);
  GilState gil;
  try {
    check_stack_depth("a Python kernel");
  } catch (py::error_already_set& e) {
    e.restore();
    throw PythonError::fetch();
  }
  HermeticGuard hermetic(self->hermetic);

  PyArgs args(n + 1);
  if (self->is_fallback) args.push(overload_object(op));
  IValue* base = stack->data() + (stack->size() - n);
  size_t num_kw = 0;
  for (size_t i = 0; i < n; ++i) {
    args.push(to_python(base[i]));
    num_kw += arguments[i].kwarg_only;
  }
  py::object kwnames;
  if (num_kw > 0) {
    kwnames = py::reinterpret_steal<py::object>(PyTuple_New(static_cast<Py_ssize_t>(num_kw)));
    size_t j = 0;
    for (const Argument& a : arguments) {
      if (a.kwarg_only) {
        PyTuple_SET_ITEM(kwnames.ptr(), static_cast<Py_ssize_t>(j++),
                         PyUnicode_FromString(a.name.c_str()));
      }
    }
  }
  const size_t npos = args.size() - num_kw;
  PyObject* result = sleep_if_ended([&] {
    return PyObject_Vectorcall(self->fn, args.data(), npos | PY_VECTORCALL_ARGUMENTS_OFFSET,
                               kwnames.ptr());
  });
  if (!result) throw PythonError::fetch();
  auto owned = py::reinterpret_steal<py::object>(result);

  store_results(result, schema, op, n, *stack, "the Python kernel", self->fn);
}

std::optional<DispatchKey> key_of(const std::string& name, const char* what) {
  if (name.empty()) return std::nullopt;
  auto k = parse_dispatch_key(name);
  SY_CHECK(k.has_value(), ValueError,
           "{}: '{}' is not a dispatch key (for example CPU, Meta, PrivateUse1, Autograd, "
           "CompositeImplicitAutograd, CompositeExplicitAutograd, Python)",
           what, name);
  return k;
}

Library::Kind kind_of(const std::string& kind) {
  if (kind == "DEF") return Library::DEF;
  if (kind == "IMPL") return Library::IMPL;
  if (kind == "FRAGMENT") return Library::FRAGMENT;
  SY_THROW(ValueError, "Library kind must be \"DEF\", \"IMPL\" or \"FRAGMENT\", not \"{}\"", kind);
}

class PyLibrary {
 public:
  PyLibrary(const std::string& ns, const std::string& kind, const std::string& key,
            std::string file, int line)
      : library_(std::make_unique<Library>(kind_of(kind), ns, key_of(key, "Library"),
                                           std::move(file), line)) {}

  void define(const std::string& schema, const std::string& file, int line,
              const std::vector<Tag>& tags) {
    TagSet set;
    for (Tag t : tags) set = set.add(t);
    live().def(schema, set, SourceLocation{file.c_str(), line});
    bump_registration_epoch();
  }

  void impl(const std::string& name, py::handle fn, const std::string& key, bool hermetic,
            const std::string& file, int line) {
    Library& lib = live();
    const SourceLocation where{file.c_str(), line};
    CppFunction f = make_kernel(fn, false, DispatchKey::Undefined, hermetic);
    if (auto k = key_of(key, "Library.impl")) {
      lib.impl(name, *k, std::move(f), where);
    } else {
      lib.impl(name, std::move(f), where);
    }
    callables_.push_back(fn.ptr());
  }

  void impl_fallthrough(const std::string& name, const std::string& key, const std::string& file,
                        int line) {
    Library& lib = live();
    const SourceLocation where{file.c_str(), line};
    if (auto k = key_of(key, "Library.impl")) {
      lib.impl(name, *k, CppFunction::fallthrough(), where);
    } else {
      lib.impl(name, CppFunction::fallthrough(), where);
    }
  }

  void fallback(py::handle fn, const std::string& key, const std::string& file, int line) {
    Library& lib = live();
    SY_CHECK(!key.empty() || lib.key(), ValueError,
             "Library.fallback: give the dispatch key (this library has none)");
    const DispatchKey k = key.empty() ? *lib.key() : *key_of(key, "Library.fallback");
    SY_CHECK(!lib.key() || *lib.key() == k, ValueError,
             "Library.fallback: this IMPL library registers at {}, not {}", to_string(*lib.key()),
             to_string(k));
    CppFunction f = fn.is_none() ? CppFunction::fallthrough() : make_kernel(fn, true, k, false);
    lib.fallback(std::move(f), SourceLocation{file.c_str(), line});
    if (!fn.is_none()) callables_.push_back(fn.ptr());
  }

  // Removes every registration now. Safe to call twice.
  void destroy() {
    callables_.clear();
    if (library_) {
      library_.reset();
      bump_registration_epoch();
    }
  }

  bool alive() const { return library_ != nullptr; }
  const std::vector<PyObject*>& callables() const { return callables_; }

 private:
  Library& live() {
    SY_CHECK(library_ != nullptr, Error,
             "this Library was destroyed; make a new one to register more");
    return *library_;
  }

  static CppFunction make_kernel(py::handle fn, bool fallback, DispatchKey key, bool hermetic) {
    SY_CHECK(PyCallable_Check(fn.ptr()), TypeError, "a kernel must be callable, got {}",
             Py_TYPE(fn.ptr())->tp_name);
    auto kernel = std::make_shared<PythonKernel>(fn.ptr(), fallback, key, hermetic);
    KernelFunction k{&PythonKernel::call, nullptr, kernel.get()};
    return CppFunction::from_kernel(k, std::move(kernel), std::nullopt);
  }

  std::unique_ptr<Library> library_;
  // The callables our kernels hold (borrowed: each kernel holds one reference),
  // reported to the garbage collector while our registrations exist.
  std::vector<PyObject*> callables_;
};

}  // namespace

void init_library(py::module_& m) {
  py::class_<PyLibrary>(m, "_Library", py::custom_type_setup([](PyHeapTypeObject* heap_type) {
                          auto* type = &heap_type->ht_type;
                          type->tp_flags |= Py_TPFLAGS_HAVE_GC;
                          type->tp_traverse = [](PyObject* self, visitproc visit,
                                                 void* arg) -> int {
                            auto* inst = reinterpret_cast<py::detail::instance*>(self);
                            if (inst->owned || inst->simple_holder_constructed) {
                              auto& lib = py::cast<PyLibrary&>(py::handle(self));
                              for (PyObject* f : lib.callables()) Py_VISIT(f);
                            }
                            Py_VISIT(Py_TYPE(self));
                            return 0;
                          };
                          type->tp_clear = [](PyObject* self) -> int {
                            auto& lib = py::cast<PyLibrary&>(py::handle(self));
                            lib.destroy();
                            return 0;
                          };
                        }))
      .def(py::init<const std::string&, const std::string&, const std::string&, std::string, int>(),
           py::arg("ns"), py::arg("kind"), py::arg("dispatch_key"), py::arg("file"),
           py::arg("line"))
      .def("define", &PyLibrary::define, py::arg("schema"), py::arg("file"), py::arg("line"),
           py::arg("tags"))
      .def("impl", &PyLibrary::impl, py::arg("name"), py::arg("fn"), py::arg("dispatch_key"),
           py::arg("hermetic"), py::arg("file"), py::arg("line"))
      .def("impl_fallthrough", &PyLibrary::impl_fallthrough, py::arg("name"),
           py::arg("dispatch_key"), py::arg("file"), py::arg("line"))
      .def("fallback", &PyLibrary::fallback, py::arg("fn"), py::arg("dispatch_key"),
           py::arg("file"), py::arg("line"))
      .def("destroy", &PyLibrary::destroy)
      .def_property_readonly("alive", &PyLibrary::alive);
}

}  // namespace sy::python
