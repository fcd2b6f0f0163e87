// The building blocks of sy.func (python/switchyard/func.py): a vmap level as a
// context manager, moving a batch dim into and out of a batched tensor, the
// batch size check, and vmap's fallback counters. The structure handling
// (nested in_dims/out_dims, pytrees) is Python's.
#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "switchyard/ops/random.h"
#include "switchyard/python/bindings.h"

namespace sy::python {
namespace {

// A vmap level pushed on __enter__ and popped on __exit__; the Level stays
// readable afterwards, for remove_batch_dim.
struct PyVmapLevel {
  int64_t batch_size;
  func::Randomness randomness;
  func::Level level;
  std::unique_ptr<func::LevelGuard> guard;
};

// A grad or jvp level pushed on __enter__ and popped on __exit__.
struct PyTransformLevel {
  func::TransformKind kind;
  std::unique_ptr<func::LevelGuard> guard;
};

// The calling thread's random generator as it was at construction; restore()
// puts it back, so the draws made since are made again (vmap's chunks with
// randomness="same").
struct PyRngState {
  detail::PhiloxGenerator saved = detail::thread_generator();
  void restore() const { detail::thread_generator() = saved; }
};

py::object to_py(Tensor t) { return py::reinterpret_steal<py::object>(wrap(std::move(t))); }

}  // namespace

void init_func(py::module_& m) {
  py::class_<PyTransformLevel>(m, "_TransformLevel", "A grad or jvp level on the transform stack.")
      .def(py::init([](std::string_view kind) {
        SY_CHECK(kind == "grad" || kind == "jvp", ValueError,
                 "_TransformLevel: kind '{}' is not 'grad' or 'jvp'", kind);
        return PyTransformLevel{
            kind == "grad" ? func::TransformKind::Grad : func::TransformKind::Jvp, nullptr};
      }))
      .def(
          "__enter__",
          [](PyTransformLevel& l) -> PyTransformLevel& {
            l.guard = std::make_unique<func::LevelGuard>(l.kind);
            return l;
          },
          py::return_value_policy::reference)
      .def("__exit__", [](PyTransformLevel& l, py::args) {
        l.guard.reset();
        return false;
      });
  py::class_<PyRngState>(m, "_RngState",
                         "The calling thread's generator state, to replay its draws.")
      .def(py::init<>())
      .def("restore", &PyRngState::restore);
  m.def("_func_make_grad_input", [](py::handle t) {
    bool needs_graph = false;
    Tensor r = func::detail::make_grad_input(unwrap(t.ptr()), &needs_graph);
    return py::make_tuple(to_py(std::move(r)), needs_graph);
  });
  // grad's common case in one call (func.py, grad_and_value): argnums an int or a
  // non-empty tuple of distinct ints, each naming a tensor argument. Returns
  // (grads, value, aux, needs_graph), the value without graph unless an outer
  // level needs it (aux as fn returned it); None, without calling fn, when
  // argnums is otherwise (nested structures, errors: Python's general path).
  m.def("_func_grad_flat",
        [](py::handle fn, py::tuple args, py::dict kwargs, py::handle argnums,
           bool has_aux) -> py::object {
          const auto n = static_cast<int64_t>(args.size());
          std::vector<int64_t> nums;
          auto add = [&](PyObject* a) {
            if (!PyLong_Check(a)) return false;
            int64_t v = PyLong_AsLongLong(a);
            if (v < -n || v >= n) return false;
            v = v < 0 ? v + n : v;
            if (!is_tensor(PyTuple_GET_ITEM(args.ptr(), v))) return false;
            if (std::find(nums.begin(), nums.end(), v) != nums.end()) return false;
            nums.push_back(v);
            return true;
          };
          if (PyLong_Check(argnums.ptr())) {
            if (!add(argnums.ptr())) return py::none();
          } else if (PyTuple_Check(argnums.ptr()) && PyTuple_GET_SIZE(argnums.ptr()) > 0) {
            for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(argnums.ptr()); ++i) {
              if (!add(PyTuple_GET_ITEM(argnums.ptr(), i))) return py::none();
            }
          } else {
            return py::none();
          }
          bool needs_graph = func::detail::outer_levels_need_graph();
          py::tuple call_args(args.size());
          for (size_t i = 0; i < args.size(); ++i) call_args[i] = args[i];
          std::vector<Tensor> diff;
          for (int64_t v : nums) {
            diff.push_back(func::detail::make_grad_input(unwrap(args[v].ptr()), &needs_graph));
            call_args[v] = to_py(diff.back());
          }
          py::object out;
          {
            func::LevelGuard level(func::TransformKind::Grad);
            PyObject* r =
                PyObject_Call(fn.ptr(), call_args.ptr(), kwargs.empty() ? nullptr : kwargs.ptr());
            if (r == nullptr) throw py::error_already_set();
            out = py::reinterpret_steal<py::object>(r);
          }
          py::object aux = py::none();
          if (has_aux) {
            SY_CHECK(PyTuple_Check(out.ptr()) && PyTuple_GET_SIZE(out.ptr()) == 2, ValueError,
                     "grad: with has_aux=True the function must return a pair (loss, aux)");
            aux = out[py::int_(1)];
            out = out[py::int_(0)];
          }
          SY_CHECK(is_tensor(out.ptr()), ValueError,
                   "grad: the function must return a tensor (the loss), got a {}",
                   Py_TYPE(out.ptr())->tp_name);
          const Tensor loss = unwrap(out.ptr());
          py::list grads;
          for (Tensor& g : func::detail::grads_of(loss, diff, needs_graph))
            grads.append(to_py(std::move(g)));
          py::object value = needs_graph ? out : to_py(func::detail::without_graph(loss));
          return py::make_tuple(std::move(grads), std::move(value), std::move(aux), needs_graph);
        });
  m.def("_func_outer_levels_need_graph", &func::detail::outer_levels_need_graph);
  m.def("_func_grads_of", [](py::handle out, py::list inputs, bool create_graph) {
    std::vector<Tensor> ins;
    for (py::handle h : inputs) ins.push_back(unwrap(h.ptr()));
    std::vector<Tensor> gs = func::detail::grads_of(unwrap(out.ptr()), ins, create_graph);
    py::list r;
    for (Tensor& g : gs) r.append(to_py(std::move(g)));
    return r;
  });
  py::class_<func::detail::VjpBackward>(
      m, "_VjpBackward", "vjp's backward: cotangents to vector-Jacobian products (grad.h).")
      .def(py::init([](py::list outputs, py::list inputs, bool create_graph) {
        std::vector<Tensor> outs, ins;
        for (py::handle h : outputs) outs.push_back(unwrap(h.ptr()));
        for (py::handle h : inputs) ins.push_back(unwrap(h.ptr()));
        return func::detail::VjpBackward(outs, ins, create_graph);
      }))
      .def("__call__", [](const func::detail::VjpBackward& b, py::list cotangents) {
        std::vector<Tensor> cots;
        for (py::handle h : cotangents) cots.push_back(unwrap(h.ptr()));
        py::list r;
        for (Tensor& g : b(cots)) r.append(to_py(std::move(g)));
        return r;
      });
  m.def("_func_without_graph",
        [](py::handle t) { return to_py(func::detail::without_graph(unwrap(t.ptr()))); });
  m.def("_func_canonical_physical", [](py::handle t) {
    return to_py(func::physical_of(func::detail::canonical(unwrap(t.ptr()))));
  });
  m.def("_func_wrap_canonical",
        [](py::handle t) { return to_py(func::detail::wrap_canonical(unwrap(t.ptr()))); });

  py::class_<PyVmapLevel>(m, "_VmapLevel", "A vmap level on the calling thread's transform stack.")
      .def(py::init([](int64_t batch_size, std::string_view randomness) {
             return PyVmapLevel{batch_size, func::parse_randomness(randomness), {}, nullptr};
           }),
           py::arg("batch_size"), py::arg("randomness"))
      .def(
          "__enter__",
          [](PyVmapLevel& l) -> PyVmapLevel& {
            SY_CHECK(!l.guard, ValueError, "vmap: a level is entered once");
            l.guard = std::make_unique<func::LevelGuard>(func::TransformKind::Vmap, l.batch_size,
                                                         l.randomness);
            l.level = l.guard->level();
            return l;
          },
          py::return_value_policy::reference)
      .def("__exit__",
           [](PyVmapLevel& l, py::args) {
             l.guard.reset();
             return false;
           })
      .def_property_readonly("number", [](const PyVmapLevel& l) { return l.level.number; });

  // vmap's common case in one call: positional args, in_dims an int or a tuple
  // with one entry (None or an int) per arg; a batched arg must be a tensor.
  // Returns (result, None) when every output was a tensor or a tuple of tensors
  // and out_dims an int; (raw output, level) for Python to take the output
  // apart; (None, False) without calling fn when an argument is a tuple, list or
  // dict or the in_dims count does not match (Python's general path).
  m.def("_func_vmap_flat", [](py::handle fn, py::tuple args, py::dict kwargs, py::handle in_dims,
                              std::string_view randomness, py::handle out_dims) {
    const size_t n = args.size();
    const bool one_dim = PyLong_Check(in_dims.ptr());
    if (!one_dim && !(PyTuple_Check(in_dims.ptr()) &&
                      static_cast<size_t>(PyTuple_GET_SIZE(in_dims.ptr())) == n)) {
      return py::make_tuple(py::none(), false);
    }
    std::vector<Tensor> tensors;
    std::vector<std::optional<int64_t>> tdims;
    tensors.reserve(n);
    tdims.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      PyObject* a = PyTuple_GET_ITEM(args.ptr(), i);
      if (PyTuple_Check(a) || PyList_Check(a) || PyDict_Check(a)) {
        return py::make_tuple(py::none(), false);
      }
      PyObject* d = one_dim ? in_dims.ptr() : PyTuple_GET_ITEM(in_dims.ptr(), i);
      if (d == Py_None) continue;
      const int64_t dim = py::cast<int64_t>(py::handle(d));
      SY_CHECK(is_tensor(a), ValueError,
               "vmap: input {} has in_dim {} but is a {}, not a tensor; only tensors can be "
               "batched (give it in_dim None)",
               i, dim, Py_TYPE(a)->tp_name);
      tensors.push_back(unwrap(a));
      tdims.push_back(dim);
    }
    const int64_t batch = func::vmap_batch_size(tensors, tdims);
    PyVmapLevel level{batch, func::parse_randomness(randomness), {}, nullptr};
    py::object out;
    {
      func::LevelGuard guard(func::TransformKind::Vmap, batch, level.randomness);
      level.level = guard.level();
      py::tuple batched(n);
      size_t k = 0;
      for (size_t i = 0; i < n; ++i) {
        PyObject* d = one_dim ? in_dims.ptr() : PyTuple_GET_ITEM(in_dims.ptr(), i);
        if (d == Py_None) {
          batched[i] = py::reinterpret_borrow<py::object>(args[i]);
        } else {
          batched[i] = to_py(func::add_batch_dim(tensors[k], *tdims[k], level.level));
          ++k;
        }
      }
      PyObject* r = PyObject_Call(fn.ptr(), batched.ptr(), kwargs.empty() ? nullptr : kwargs.ptr());
      if (r == nullptr) throw py::error_already_set();
      out = py::reinterpret_steal<py::object>(r);
    }
    if (py::isinstance<py::int_>(out_dims)) {
      const int64_t od = py::cast<int64_t>(out_dims);
      if (is_tensor(out.ptr())) {
        return py::make_tuple(to_py(func::remove_batch_dim(unwrap(out.ptr()), level.level, od, 0)),
                              py::none());
      }
      if (PyTuple_CheckExact(out.ptr())) {
        py::tuple t = out.cast<py::tuple>();
        bool all_tensors = true;
        for (py::handle h : t) all_tensors = all_tensors && is_tensor(h.ptr());
        if (all_tensors) {
          py::tuple r(t.size());
          for (size_t i = 0; i < t.size(); ++i) {
            r[i] = to_py(func::remove_batch_dim(unwrap(t[i].ptr()), level.level, od, i));
          }
          return py::make_tuple(std::move(r), py::none());
        }
      }
    }
    return py::make_tuple(std::move(out), py::cast(std::move(level)));
  });
  m.def(
      "_func_add_batch_dim",
      [](py::handle t, int64_t in_dim, const PyVmapLevel& l) {
        return py::reinterpret_steal<py::object>(
            wrap(func::add_batch_dim(unwrap(t.ptr()), in_dim, l.level)));
      },
      "The tensor's dim `in_dim` made the batch dim of the level (no copy).");
  m.def(
      "_func_remove_batch_dim",
      [](py::handle t, const PyVmapLevel& l, std::optional<int64_t> out_dim, size_t index) {
        return py::reinterpret_steal<py::object>(
            wrap(func::remove_batch_dim(unwrap(t.ptr()), l.level, out_dim, index)));
      },
      "A result of the level's function with its batch dim at out_dim.");
  m.def(
      "_func_batch_size",
      [](py::list tensors, std::vector<std::optional<int64_t>> in_dims) {
        std::vector<Tensor> ts;
        for (py::handle h : tensors) ts.push_back(unwrap(h.ptr()));
        return func::vmap_batch_size(ts, in_dims);
      },
      "The common batch size of the tensors at their in_dims (checked).");
  m.def("_func_is_batched",
        [](py::handle t) { return func::maybe_batched(unwrap(t.ptr())) != nullptr; });
  m.def("_func_transform_stack", &func::describe_transform_stack,
        "The calling thread's transforms, innermost first: 'vmap(level 2) > grad(level 1)'.");
  m.def("_func_vmap_fallback_counts", &func::vmap_fallback_counts);
  m.def("_func_reset_vmap_fallback_counts", &func::reset_vmap_fallback_counts);
  m.def("_func_set_vmap_fallback_error", &func::set_vmap_fallback_error);
  m.def("_func_vmap_fallback_error", &func::vmap_fallback_error);
}

}  // namespace sy::python
