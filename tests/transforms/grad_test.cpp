// grad and jvp levels, alone and composed with vmap and each other, against
// closed forms and autograd run by hand; the check hooks' refusals.
#include <gtest/gtest.h>

#include "switchyard/switchyard.h"
#include "transform_helpers.h"

namespace sy {
namespace {

using func::TensorFunction;

using testing_transforms::one;

bool same(const Tensor& a, const Tensor& b, double tol = 1e-5) {
  return a.sizes() == b.sizes() && allclose(a, b, tol, tol);
}

Tensor values(std::vector<int64_t> sizes, double scale = 0.1) {
  int64_t n = 1;
  for (int64_t s : sizes) n *= s;
  return (arange(n, TensorOptions().dtype(kFloat64)) * scale - 0.7).sin().reshape(sizes);
}

TEST(Grad, OfASumOfSquaresIsTwiceTheInput) {
  const Tensor x = values({2});
  const auto g =
      func::grad(one([](const std::vector<Tensor>& in) { return (in[0] * in[0]).sum(); }))({x});
  EXPECT_TRUE(same(g[0], x * 2));
  EXPECT_FALSE(g[0].requires_grad());
  EXPECT_FALSE(x.requires_grad());
}

TEST(Grad, ArgnumsHasAuxAndValue) {
  const Tensor x = values({3}), y = values({3}, 0.3);
  auto f = [](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{(in[0] * in[1]).sum(), in[0] + 1};
  };
  const auto g = func::grad_and_value(f, {0, 1}, /*has_aux=*/true)({x, y});
  ASSERT_EQ(g.size(), 4u);
  EXPECT_TRUE(same(g[0], y));
  EXPECT_TRUE(same(g[1], x));
  EXPECT_TRUE(same(g[2], (x * y).sum()));
  EXPECT_TRUE(same(g[3], x + 1));
  EXPECT_THROW(func::grad(f)({x, y}), ValueError);  // two outputs without has_aux
  EXPECT_THROW(func::grad(one([](const std::vector<Tensor>& in) { return in[0] * 2; }))({x}),
               ValueError);  // not one element
}

// vjp: the products with each cotangent against closed forms, called twice,
// inside vmap, and refusing cotangents of the wrong count or shape.
TEST(Vjp, GivesVectorJacobianProductsAndCanBeCalledAgain) {
  const Tensor x = values({3}), y = values({3}, 0.3);
  auto f = [](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{in[0] * in[1], in[0].sin().sum()};
  };
  auto [out, vjp_fn] = func::vjp(f, {x, y});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(same(out[0], x * y));
  EXPECT_FALSE(out[0].requires_grad());
  const Tensor c = values({3}, 0.5), s = full({}, 2.0, TensorOptions().dtype(kFloat64));
  for (int call = 0; call < 2; ++call) {
    const auto g = vjp_fn({c, s});
    ASSERT_EQ(g.size(), 2u);
    EXPECT_TRUE(same(g[0], c * y + x.cos() * 2));
    EXPECT_TRUE(same(g[1], c * x));
  }
  EXPECT_THROW(vjp_fn({c}), ValueError);
  EXPECT_THROW(vjp_fn({c, values({2})}), ValueError);
  // Per example inside vmap: each row's products.
  const Tensor xs = values({4, 3}), cs = values({4, 3}, 0.2);
  const auto rows = func::vmap([](const std::vector<Tensor>& in) {
    auto [o, fn] = func::vjp(
        [](const std::vector<Tensor>& a) { return std::vector<Tensor>{a[0] * a[0]}; }, {in[0]});
    return fn({in[1]});
  })({xs, cs});
  EXPECT_TRUE(same(rows[0], xs * cs * 2));
}

// f(x) = (x.sin() * x.sum(), x * x) and its Jacobian's blocks, by hand.
std::vector<Tensor> two_outputs(const std::vector<Tensor>& in) {
  return {in[0].sin() * in[0].sum(), in[0] * in[0]};
}
std::pair<Tensor, Tensor> two_outputs_jacobian(const Tensor& x) {
  const int64_t n = x.size(0);
  const Tensor eye_n = eye(n, TensorOptions().dtype(x.dtype()));
  const Tensor j0 = eye_n * (x.cos() * x.sum()).unsqueeze(0) + x.sin().unsqueeze(1).expand({n, n});
  return {j0, eye_n * (x * 2).unsqueeze(0)};
}

// vmap over vjp_fn: cotangents batched by a level newer than vjp's go through one
// backward, so the rows of the identity give the Jacobian (jacrev's idiom).
TEST(Vjp, VmapOverVjpFnGivesTheJacobianAlsoInsideAnotherVmap) {
  const Tensor x = values({3});
  const auto [j0, j1] = two_outputs_jacobian(x);
  const Tensor e = eye(3, TensorOptions().dtype(kFloat64));
  const Tensor zero = zeros({3, 3}, TensorOptions().dtype(kFloat64));
  {
    auto [out, vjp_fn] = func::vjp(two_outputs, {x});
    // Rows of the first output's Jacobian, then of the second's, from one call each.
    EXPECT_TRUE(same(func::vmap(vjp_fn)({e, zero})[0], j0));
    EXPECT_TRUE(same(
        func::vmap(vjp_fn, {std::nullopt, 0})({zeros({3}, TensorOptions().dtype(kFloat64)), e})[0],
        j1));
  }
  // Inside vmap: vjp per example, then a vmap of its own over the basis.
  const Tensor xs = values({4, 3}, 0.37);
  const auto jacobians = func::vmap([&](const std::vector<Tensor>& in) {
    auto [out, vjp_fn] = func::vjp(two_outputs, {in[0]});
    return func::vmap(vjp_fn)({e, zero});
  })({xs});
  ASSERT_EQ(jacobians.size(), 1u);
  ASSERT_EQ(jacobians[0].sizes(), (IntArrayRef{4, 3, 3}));
  for (int64_t b = 0; b < 4; ++b) {
    EXPECT_TRUE(same(jacobians[0].select(0, b), two_outputs_jacobian(xs.select(0, b)).first))
        << "example " << b;
  }
  // Cotangents batched at vjp's level too, and two vmaps around vjp_fn.
  const Tensor cs = values({4, 2, 5, 3}, 0.11);
  const auto products = func::vmap([](const std::vector<Tensor>& in) {
    auto [out, vjp_fn] = func::vjp(two_outputs, {in[0]});
    auto inner = func::vmap(func::vmap([&](const std::vector<Tensor>& c) {
      return vjp_fn({c[0], c[0] * 2});
    }));
    return inner({in[1]});
  })({xs, cs});
  for (int64_t b = 0; b < 4; ++b) {
    const auto [a0, a1] = two_outputs_jacobian(xs.select(0, b));
    const Tensor want = matmul(cs.select(0, b), a0) + matmul(cs.select(0, b) * 2, a1);
    EXPECT_TRUE(same(products[0].select(0, b), want)) << "example " << b;
  }
  // vjp_fn outside the vmap vjp ran in: its level is gone.
  func::VjpFunction escaped;
  func::vmap(one([&](const std::vector<Tensor>& in) {
    escaped = func::vjp(two_outputs, {in[0]}).second;
    return in[0];
  }))({xs});
  EXPECT_THROW(escaped({values({3}), values({3})}), ValueError);
  EXPECT_TRUE(func::transform_stack().empty());
}

// Per-sample gradients of a linear least-squares loss: vmap(grad(f)) against a
// loop of autograd::grad, one example at a time.
TEST(Grad, UnderVmapGivesPerSampleGradientsOfSharedWeights) {
  const Tensor w = values({4, 3}), xs = values({5, 4}, 0.37), ys = values({5, 3}, 0.21);
  auto loss = one([](const std::vector<Tensor>& in) {
    const Tensor d = matmul(in[1], in[0]) - in[2];
    return (d * d).sum();
  });
  const Tensor per_sample = func::vmap(func::grad(loss), {std::nullopt, 0, 0})({w, xs, ys})[0];
  ASSERT_EQ(per_sample.sizes(), IntArrayRef({5, 4, 3}));
  for (int64_t b = 0; b < 5; ++b) {
    const Tensor wl = w.detach().requires_grad_(true);
    const Tensor d = matmul(xs.select(0, b), wl) - ys.select(0, b);
    const Tensor want = autograd::grad({(d * d).sum()}, {wl})[0];
    EXPECT_TRUE(same(per_sample.select(0, b), want)) << b;
  }
}

TEST(Grad, OfAVmappedFunction) {
  const Tensor x = values({4, 3});
  auto inner =
      func::vmap(one([](const std::vector<Tensor>& in) { return (in[0].sin() * in[0]).sum(); }));
  const Tensor g =
      func::grad(one([&](const std::vector<Tensor>& in) { return inner(in)[0].sum(); }))({x})[0];
  EXPECT_TRUE(same(g, x.cos() * x + x.sin()));
}

TEST(Grad, OfGradIsTheSecondDerivative) {
  const Tensor x = values({3});
  auto f = one([](const std::vector<Tensor>& in) { return (in[0] * in[0] * in[0]).sum(); });
  auto df = func::grad(f);
  const Tensor d2 =
      func::grad(one([&](const std::vector<Tensor>& in) { return df(in)[0].sum(); }))({x})[0];
  EXPECT_TRUE(same(d2, x * 6));
}

TEST(Jvp, MatchesTheClosedFormAloneUnderVmapAndOverGrad) {
  const Tensor x = values({3}), v = values({3}, 0.5);
  auto f = one([](const std::vector<Tensor>& in) { return in[0].sin() * in[0]; });
  auto [out, t] = func::jvp(f, {x}, {v});
  EXPECT_TRUE(same(out[0], x.sin() * x));
  EXPECT_TRUE(same(t[0], (x.cos() * x + x.sin()) * v));
  // vmap over tangents: a Jacobian, column by column.
  const Tensor basis = eye(3, TensorOptions().dtype(kFloat64));
  const Tensor jac = func::vmap(
      [&](const std::vector<Tensor>& in) { return func::jvp(f, {x}, {in[0]}).second; })({basis})[0];
  EXPECT_TRUE(same(jac, basis * (x.cos() * x + x.sin())));
  // jvp of grad: a Hessian-vector product; the Hessian of sum(x^3) is diag(6x).
  auto df =
      func::grad(one([](const std::vector<Tensor>& in) { return (in[0] * in[0] * in[0]).sum(); }));
  EXPECT_TRUE(same(func::jvp(df, {x}, {v}).second[0], x * 6 * v));
}

// x.sin() * w with hand-written backward and jvp, which see one example's values.
struct MulSin : autograd::Function<MulSin> {
  static Tensor forward(autograd::AutogradContext* ctx, const Tensor& x, const Tensor& w) {
    ctx->save_for_backward({x, w});
    return x.sin() * w;
  }
  static autograd::variable_list backward(autograd::AutogradContext* ctx,
                                          const autograd::variable_list& g) {
    const auto saved = ctx->get_saved_variables();
    return {g[0] * saved[0].cos() * saved[1], g[0] * saved[0].sin()};
  }
  static autograd::variable_list jvp(autograd::AutogradContext* ctx,
                                     const autograd::variable_list& t) {
    const auto saved = ctx->get_saved_variables();
    return {t[0] * saved[0].cos() * saved[1] + saved[0].sin() * t[1]};
  }
};

// The same compositions over MulSin and over its ops agree (PyTorch refuses C++
// Functions inside its transforms; here their calls on batched tensors are lowered).
TEST(CustomFunction, UnderVmapGradJvpAndTheirCompositionsEqualsItsOps) {
  const Tensor xs = values({4, 3}), w = values({3}, 0.3), vs = values({4, 3}, 0.7);
  auto run = [&](bool custom) {
    auto mul_sin = [custom](const Tensor& x, const Tensor& w) {
      return custom ? MulSin::apply(x, w) : x.sin() * w;
    };
    auto f = [=](const std::vector<Tensor>& in) {
      return std::vector<Tensor>{mul_sin(in[0], in[1])};
    };
    auto loss =
        one([=](const std::vector<Tensor>& in) { return (mul_sin(in[0], in[1]) * in[0]).sum(); });
    std::vector<Tensor> out;
    for (const Tensor& t : func::vmap(f, {0, std::nullopt})({xs, w})) out.push_back(t);
    for (const Tensor& t : func::vmap(func::grad(loss, {0, 1}), {0, std::nullopt})({xs, w})) {
      out.push_back(t);
    }
    auto batched_loss = one([=](const std::vector<Tensor>& in) {
      return func::vmap(f, {0, std::nullopt})(in)[0].sin().sum();
    });
    for (const Tensor& t : func::grad(batched_loss, {0, 1})({xs, w})) out.push_back(t);
    auto tangent = [=](const std::vector<Tensor>& in) {
      return func::jvp(
                 [=](const std::vector<Tensor>& x) {
                   return f({x[0], w});
                 },
                 {in[0]}, {in[1]})
          .second;
    };
    out.push_back(func::vmap(tangent)({xs, vs})[0]);
    out.push_back(func::jvp(
                      [&](const std::vector<Tensor>& x) {
                        return func::vmap(f, {0, std::nullopt})({x[0], w});
                      },
                      {xs}, {vs})
                      .second[0]);
    auto second = one([=](const std::vector<Tensor>& in) {
      return func::grad(loss)({in[0], w})[0].sin().sum();
    });
    out.push_back(func::vmap(func::grad(second))({xs})[0]);
    return out;
  };
  const std::vector<Tensor> got = run(true), want = run(false);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(same(got[i], want[i])) << "result " << i;
  EXPECT_TRUE(func::transform_stack().empty());
}

TEST(TransformVetoes, NameTheHookTheStackAndWhatToDoInstead) {
  const Tensor x = values({2, 3});
  auto f = one([](const std::vector<Tensor>& in) {
    zeros({2}).requires_grad_(true);
    return in[0].sum();
  });
  try {
    func::vmap(func::grad(f))({x});
    ADD_FAILURE();
  } catch (const ValueError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("requires_grad_() inside grad(level 2) > vmap(level 1)"), std::string::npos)
        << m;
    EXPECT_NE(m.find("argnums"), std::string::npos) << m;
  }
  auto g = one([](const std::vector<Tensor>& in) {
    const Tensor y = in[0] * 2;
    y.retain_grad();
    return y.sum();
  });
  try {
    func::grad(g)({values({3})});
    ADD_FAILURE();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("retain_grad() inside grad(level 1)"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(func::transform_stack().empty());
  // Outside a grad transform both are allowed.
  zeros({2}).requires_grad_(true);
}

}  // namespace
}  // namespace sy
