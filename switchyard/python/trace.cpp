// sy.trace and the Graph it returns: tracing a Python function runs it once
// under the C++ tracer (switchyard/trace/tracer.h); the graph prints with str()
// and replays when called.
#include <utility>
#include <vector>

#include "switchyard/python/bindings.h"

namespace sy::python {

std::vector<Tensor> tensors_from(py::handle seq, const char* who, const char* what) {
  std::vector<Tensor> out;
  if (is_tensor(seq.ptr())) {
    out.push_back(unwrap(seq.ptr()));
    return out;
  }
  SY_CHECK(py::isinstance<py::tuple>(seq) || py::isinstance<py::list>(seq), TypeError,
           "{}: {} must be a tensor or a tuple or list of tensors, got {}", who, what,
           std::string(py::str(py::type::of(seq).attr("__name__"))));
  for (py::handle item : seq) {
    SY_CHECK(is_tensor(item.ptr()), TypeError, "{}: {} must hold only tensors, got a {}", who, what,
             std::string(py::str(py::type::of(item).attr("__name__"))));
    out.push_back(unwrap(item.ptr()));
  }
  return out;
}

py::object outputs_to_python(const std::vector<Tensor>& out) {
  if (out.size() == 1) return py::reinterpret_steal<py::object>(wrap(out[0]));
  py::tuple t(out.size());
  for (size_t i = 0; i < out.size(); ++i) {
    t[i] = py::reinterpret_steal<py::object>(wrap(out[i]));
  }
  return t;
}

void init_trace(py::module_& m) {
  py::class_<Graph, std::shared_ptr<Graph>>(m, "Graph",
                                            "A traced program: print it with str(), replay it "
                                            "by calling it with new inputs.")
      .def("__str__", &Graph::to_string)
      .def("__repr__", &Graph::to_string)
      .def(
          "__call__",
          [](const Graph& g, py::args args) {
            std::vector<Tensor> in = tensors_from(args, "trace", "the inputs");
            return outputs_to_python(g.run(in));
          },
          "Runs the graph on new inputs (tensors of the traced dtypes and ranks).")
      .def_property_readonly("num_nodes", &Graph::num_nodes)
      .def_property_readonly("warnings", &Graph::warnings,
                             "Notes made while tracing (tensors from outside became constants).")
      .def("check", &Graph::check, "Raises when the graph is not well formed.")
      .def(
          "eliminate_dead_code", [](Graph& g) { return eliminate_dead_code(g); },
          "Removes nodes nothing uses that write nothing; returns how many.")
      .def("save", &Graph::save, py::arg("path"), py::call_guard<py::gil_scoped_release>(),
           "Writes the graph and its constants to a file (docs/aot.md).")
      .def_static(
          "load", &Graph::load, py::arg("path"), py::call_guard<py::gil_scoped_release>(),
          "Reads a graph saved with save(); a ValueError says what is wrong with a bad file.")
      .def(
          "fold_constants", [](Graph& g) { return fold_constants(g); },
          "Runs nodes of constants once; returns how many were folded.");

  m.def(
      "_trace",
      [](py::function fn, py::handle example_inputs, bool decompose) {
        const std::vector<Tensor> inputs = tensors_from(example_inputs, "trace", "example_inputs");
        auto traced = [&fn](const std::vector<Tensor>& in) {
          py::tuple args(in.size());
          for (size_t i = 0; i < in.size(); ++i) {
            args[i] = py::reinterpret_steal<py::object>(wrap(in[i]));
          }
          py::object result;
          try {
            result =
                sleep_if_ended([&] { return fn(*args); });  // Note [Threads at interpreter exit]
          } catch (py::error_already_set& e) {
            e.restore();  // keep the Python exception (type, traceback) as it was raised
            throw PythonError::fetch();
          }
          return tensors_from(result, "trace", "the traced function's result");
        };
        return std::make_shared<Graph>(trace(traced, inputs, TraceOptions{decompose}));
      },
      py::arg("fn"), py::arg("example_inputs"), py::arg("decompose") = false,
      "Runs fn(*example_inputs) once, recording each op it calls; returns the Graph.");
  m.def("_is_tracing", &is_tracing, "Whether an op called now on this thread would be recorded.");
}

}  // namespace sy::python
