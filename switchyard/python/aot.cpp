// sy.aot: models compiled from traced graphs (switchyard/aot/model.h), called
// from Python. A call converts its arguments with the GIL held, then releases
// it while the model runs, so other Python threads run meanwhile (and threads
// calling one model run it in parallel).
#include <string>
#include <utility>
#include <vector>

#include "switchyard/python/bindings.h"

namespace sy::python {

void init_aot(py::module_& m) {
  py::class_<aot::Model>(m, "AotModel",
                         "A compiled model: call it with input tensors; outputs are new tensors.")
      .def(
          "__call__",
          [](const aot::Model& model, py::args args) {
            const std::vector<Tensor> in = tensors_from(args, "aot.Model", "the inputs");
            std::vector<Tensor> out;
            {
              py::gil_scoped_release release;
              out = model.run(in);
            }
            return outputs_to_python(out);
          },
          "Runs the model on input tensors (their dtypes and shapes as traced; the first dim "
          "of batch inputs may vary when the model allows it).")
      .def_property_readonly("num_inputs", &aot::Model::num_inputs)
      .def_property_readonly("num_outputs", &aot::Model::num_outputs)
      .def_property_readonly(
          "input_shapes",
          [](const aot::Model& model) {
            py::list shapes;
            for (size_t i = 0; i < model.num_inputs(); ++i) {
              const aot::TensorSpec& s = model.input(i);
              py::list sizes;
              for (size_t d = 0; d < s.sizes.size(); ++d) {
                if (d == 0 && s.first_dim_varies) {
                  sizes.append(py::none());
                } else {
                  sizes.append(s.sizes[d]);
                }
              }
              shapes.append(py::tuple(sizes));
            }
            return shapes;
          },
          "Each input's shape as traced, with None for a first dim that may vary.")
      .def(
          "weights",
          [](const aot::Model& model) {
            py::list out;
            for (const Tensor& w : model.weights())
              out.append(py::reinterpret_steal<py::object>(wrap(w)));
            return out;
          },
          "The weights (the traced function's captured tensors), in the order the trace met them.")
      .def(
          "swap_weights",
          [](const aot::Model& model, py::handle weights) {
            const std::vector<Tensor> w =
                tensors_from(weights, "aot.Model.swap_weights", "weights");
            py::gil_scoped_release release;
            model.swap_weights(w);
          },
          py::arg("weights"),
          "Publishes new weights (a copy); runs that start afterwards use them, runs in flight "
          "finish with the old ones.");

  m.def(
      "_aot_load",
      [](const std::string& path) {
        py::gil_scoped_release release;
        return aot::Model::load(path);
      },
      py::arg("path"), "Loads a model saved with Graph.save or sy.aot.compile.");
  m.def(
      "_aot_compile_graph",
      [](const Graph& graph) {
        py::gil_scoped_release release;
        return aot::Model::compile(graph);
      },
      py::arg("graph"), "Compiles a graph in memory.");
}

}  // namespace sy::python
