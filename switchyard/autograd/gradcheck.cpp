#include "switchyard/autograd/gradcheck.h"

#include <cmath>
#include <string>

#include "switchyard/autograd/autograd.h"
#include "switchyard/autograd/forward_ad.h"
#include "switchyard/autograd/grad_mode.h"
#include "switchyard/ops/ops.h"

namespace sy::autograd {
namespace {

// A contiguous float64 copy of t's values.
std::vector<double> values(const Tensor& t) {
  const Tensor d = t.detach().to(kFloat64).contiguous();
  const double* p = d.data_ptr<double>();
  return std::vector<double>(p, p + d.numel());
}

// The storage offset of element `i` (in row-major order) of t.
int64_t offset_of(const Tensor& t, int64_t i) {
  int64_t off = 0;
  for (int64_t d = t.dim(); d-- > 0;) {
    const int64_t size = t.sizes()[d];
    off += (i % size) * t.strides()[d];
    i /= size;
  }
  return off;
}

// Element `i` of t, read and written without autograd or version counting
// (finite differences perturb the inputs themselves, as PyTorch's do).
double get(const Tensor& t, int64_t i) {
  const int64_t o = offset_of(t, i);
  return t.dtype() == kFloat64 ? static_cast<const double*>(t.raw_data())[o]
                               : static_cast<const float*>(t.raw_data())[o];
}
void set(const Tensor& t, int64_t i, double v) {
  const int64_t o = offset_of(t, i);
  if (t.dtype() == kFloat64) {
    static_cast<double*>(t.raw_data())[o] = v;
  } else {
    static_cast<float*>(t.raw_data())[o] = static_cast<float>(v);
  }
}

// A Jacobian block: rows are output elements, columns input elements.
struct Jacobian {
  int64_t rows = 0, cols = 0;
  std::vector<double> v;
  Jacobian(int64_t r, int64_t c) : rows(r), cols(c), v(static_cast<size_t>(r * c), 0.0) {}
  double& at(int64_t r, int64_t c) { return v[static_cast<size_t>(r * cols + c)]; }
  double at(int64_t r, int64_t c) const { return v[static_cast<size_t>(r * cols + c)]; }
};

std::string show(const Jacobian& j) {
  std::string s;
  const int64_t max_rows = std::min<int64_t>(j.rows, 8), max_cols = std::min<int64_t>(j.cols, 8);
  for (int64_t r = 0; r < max_rows; ++r) {
    s += "  [";
    for (int64_t c = 0; c < max_cols; ++c) s += fmt::format("{}{:.6g}", c ? ", " : "", j.at(r, c));
    s += j.cols > max_cols ? ", ...]\n" : "]\n";
  }
  if (j.rows > max_rows) s += "  ...\n";
  return s;
}

struct Setup {
  std::vector<size_t> wrt;      // inputs that require grad
  std::vector<size_t> outputs;  // floating-point outputs
  std::vector<Tensor> out;      // fn(inputs)
};

bool compare(const char* mode, const Jacobian& numerical, const Jacobian& analytical, size_t o,
             size_t i, const GradcheckOptions& opt) {
  for (int64_t r = 0; r < numerical.rows; ++r) {
    for (int64_t c = 0; c < numerical.cols; ++c) {
      const double n = numerical.at(r, c), a = analytical.at(r, c);
      if (std::fabs(a - n) <= opt.atol + opt.rtol * std::fabs(n)) continue;
      if (!opt.raise_exception) return false;
      SY_THROW(autograd::GradcheckError,
               "gradcheck: Jacobian mismatch for output {} with respect to input {} ({} mode), "
               "first at element ({}, {}): numerical {:.8g}, analytical {:.8g} (atol {}, rtol "
               "{})\nnumerical:\n{}analytical:\n{}",
               o, i, mode, r, c, n, a, opt.atol, opt.rtol, show(numerical), show(analytical));
    }
  }
  return true;
}

}  // namespace

bool gradcheck(const GradcheckFunction& fn, const std::vector<Tensor>& inputs,
               const GradcheckOptions& opt) {
  Setup s;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].requires_grad()) continue;
    SY_CHECK(inputs[i].device().is_cpu(), AutogradError,
             "gradcheck: input {} is on {}; finite differences need cpu tensors", i,
             inputs[i].device().str());
    s.wrt.push_back(i);
  }
  SY_CHECK(!s.wrt.empty(), AutogradError,
           "gradcheck: no input requires grad, so there is nothing to check");
  s.out = fn(inputs);
  for (size_t o = 0; o < s.out.size(); ++o) {
    if (s.out[o].defined() && is_floating_point(s.out[o].dtype())) s.outputs.push_back(o);
  }

  // Numerical Jacobians, by central differences: each element of each input
  // is perturbed in place, and restored.
  std::vector<std::vector<Jacobian>> numerical;  // [output][wrt]
  for (size_t o : s.outputs) {
    numerical.emplace_back();
    for (size_t i : s.wrt) numerical.back().emplace_back(s.out[o].numel(), inputs[i].numel());
  }
  for (size_t k = 0; k < s.wrt.size(); ++k) {
    const Tensor& x = inputs[s.wrt[k]];
    SY_CHECK(x.dtype() == kFloat64 || x.dtype() == kFloat32, AutogradError,
             "gradcheck: input {} has dtype {}; finite differences need float64 (or float32)",
             s.wrt[k], to_string(x.dtype()));
    for (int64_t j = 0; j < x.numel(); ++j) {
      const double orig = get(x, j);
      // Read each result right away: it may be a view of the input we perturb.
      auto eval = [&](double v) {
        set(x, j, v);
        const std::vector<Tensor> outs = fn(inputs);
        std::vector<std::vector<double>> vals;
        for (size_t o : s.outputs) vals.push_back(values(outs[o]));
        return vals;
      };
      std::vector<std::vector<double>> plus, minus;
      try {
        plus = eval(orig + opt.eps);
        minus = eval(orig - opt.eps);
      } catch (...) {
        set(x, j, orig);
        throw;
      }
      set(x, j, orig);
      for (size_t oi = 0; oi < s.outputs.size(); ++oi) {
        for (size_t r = 0; r < plus[oi].size(); ++r) {
          numerical[oi][k].at(static_cast<int64_t>(r), j) =
              (plus[oi][r] - minus[oi][r]) / (2 * opt.eps);
        }
      }
    }
  }

  if (opt.check_backward_ad) {
    std::vector<Tensor> wrt_inputs;
    for (size_t i : s.wrt) wrt_inputs.push_back(inputs[i]);
    for (size_t oi = 0; oi < s.outputs.size(); ++oi) {
      const Tensor& out = s.out[s.outputs[oi]];
      std::vector<Jacobian> analytical;
      for (size_t i : s.wrt) analytical.emplace_back(out.numel(), inputs[i].numel());
      if (out.requires_grad()) {
        for (int64_t r = 0; r < out.numel(); ++r) {
          Tensor grad_out = sy::zeros(out.sizes(), TensorOptions().dtype(out.dtype()));
          set(grad_out, r, 1.0);
          const std::vector<Tensor> grads =
              grad({out}, wrt_inputs, {grad_out}, /*retain_graph=*/true,
                   /*create_graph=*/false, /*allow_unused=*/true);
          for (size_t k = 0; k < grads.size(); ++k) {
            if (!grads[k].defined()) continue;
            SY_CHECK(grads[k].sizes() == wrt_inputs[k].sizes(), autograd::GradcheckError,
                     "gradcheck: the gradient of input {} has shape {}, the input {}", s.wrt[k],
                     to_string(grads[k].sizes()), to_string(wrt_inputs[k].sizes()));
            const std::vector<double> g = values(grads[k]);
            for (size_t c = 0; c < g.size(); ++c)
              analytical[k].at(r, static_cast<int64_t>(c)) = g[c];
          }
        }
      }
      for (size_t k = 0; k < s.wrt.size(); ++k) {
        if (!compare("backward", numerical[oi][k], analytical[k], s.outputs[oi], s.wrt[k], opt)) {
          return false;
        }
      }
    }
  }

  if (opt.check_forward_ad) {
    for (size_t k = 0; k < s.wrt.size(); ++k) {
      const size_t i = s.wrt[k];
      std::vector<Jacobian> analytical;
      for (size_t o : s.outputs) analytical.emplace_back(s.out[o].numel(), inputs[i].numel());
      for (int64_t j = 0; j < inputs[i].numel(); ++j) {
        forward_ad::DualLevel level;
        std::vector<Tensor> duals(inputs.size());
        for (size_t a = 0; a < inputs.size(); ++a) {
          duals[a] = inputs[a].defined() ? inputs[a].detach() : inputs[a];
        }
        Tensor tangent = sy::zeros(inputs[i].sizes(), TensorOptions().dtype(inputs[i].dtype()));
        set(tangent, j, 1.0);
        duals[i] = forward_ad::make_dual(duals[i], tangent);
        const std::vector<Tensor> outs = fn(duals);
        for (size_t oi = 0; oi < s.outputs.size(); ++oi) {
          const Tensor t = forward_ad::unpack_dual(outs[s.outputs[oi]]).tangent;
          if (!t.defined()) continue;
          const std::vector<double> tv = values(t);
          for (size_t r = 0; r < tv.size(); ++r)
            analytical[oi].at(static_cast<int64_t>(r), j) = tv[r];
        }
      }
      for (size_t oi = 0; oi < s.outputs.size(); ++oi) {
        if (!compare("forward", numerical[oi][k], analytical[oi], s.outputs[oi], i, opt)) {
          return false;
        }
      }
    }
  }
  return true;
}

bool gradgradcheck(const GradcheckFunction& fn, const std::vector<Tensor>& inputs,
                   const GradcheckOptions& opt) {
  std::vector<size_t> wrt;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].defined() && inputs[i].requires_grad()) wrt.push_back(i);
  }
  SY_CHECK(!wrt.empty(), AutogradError,
           "gradgradcheck: no input requires grad, so there is nothing to check");
  const std::vector<Tensor> outs = fn(inputs);
  std::vector<size_t> diff;
  std::vector<Tensor> all = inputs;
  for (size_t o = 0; o < outs.size(); ++o) {
    if (!outs[o].defined() || !outs[o].requires_grad()) continue;
    diff.push_back(o);
    Tensor g = sy::randn(outs[o].sizes(), TensorOptions().dtype(outs[o].dtype()));
    g.requires_grad_(true);
    all.push_back(g);
  }
  SY_CHECK(!diff.empty(), AutogradError, "gradgradcheck: no output of the function requires grad");
  const size_t n = inputs.size();
  // The vector-Jacobian products of fn, as a function of the inputs and the
  // output gradients.
  auto vjp = [&](const std::vector<Tensor>& args) {
    const std::vector<Tensor> ins(args.begin(), args.begin() + static_cast<ptrdiff_t>(n));
    const std::vector<Tensor> o = fn(ins);
    std::vector<Tensor> outputs, grad_outputs, wrt_inputs;
    for (size_t d = 0; d < diff.size(); ++d) {
      if (!o[diff[d]].requires_grad()) continue;
      outputs.push_back(o[diff[d]]);
      grad_outputs.push_back(args[n + d]);
    }
    for (size_t i : wrt) wrt_inputs.push_back(ins[i]);
    std::vector<Tensor> grads;
    if (!outputs.empty()) {
      grads = grad(outputs, wrt_inputs, grad_outputs, true, /*create_graph=*/true, true);
    }
    grads.resize(wrt_inputs.size());
    for (size_t k = 0; k < grads.size(); ++k) {
      if (!grads[k].defined()) grads[k] = sy::zeros_like(wrt_inputs[k]);
    }
    return grads;
  };
  GradcheckOptions inner = opt;
  inner.check_forward_ad = false;
  return gradcheck(vjp, all, inner);
}

}  // namespace sy::autograd
