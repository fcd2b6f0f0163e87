// Advanced indexing, scatter, sorting and scans through the C++ API: the
// results PyTorch gives for the same calls, and the errors for bad input.
// (tests/python/test_advanced_indexing.py and test_sort_scan.py compare many
// more cases with PyTorch itself.)
#include <gtest/gtest.h>

#include <vector>

#include "switchyard/switchyard.h"

namespace sy {
namespace {

std::vector<float> floats(const Tensor& t) {
  const Tensor c = t.to(kFloat32).contiguous();
  const float* p = c.data_ptr<float>();
  return std::vector<float>(p, p + c.numel());
}
std::vector<int64_t> longs(const Tensor& t) {
  const Tensor c = t.to(kInt64).contiguous();
  const int64_t* p = c.data_ptr<int64_t>();
  return std::vector<int64_t>(p, p + c.numel());
}
std::vector<int64_t> shape(const Tensor& t) { return t.sizes().vec(); }

Tensor grid() { return arange(12, TensorOptions().dtype(kFloat32)).reshape({3, 4}); }

template <typename E, typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "no error";
}

TEST(AdvancedIndex, IntegerTensorPicksRows) {
  const Tensor r = grid().index({tensor({2, 0})});
  EXPECT_EQ(shape(r), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(floats(r), (std::vector<float>{8, 9, 10, 11, 0, 1, 2, 3}));
}

TEST(AdvancedIndex, UndefinedEntryTakesTheDimWhole) {
  const Tensor r = index(grid(), {Tensor(), tensor({3, -4})});
  EXPECT_EQ(shape(r), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(floats(r), (std::vector<float>{3, 0, 7, 4, 11, 8}));
}

TEST(AdvancedIndex, IndicesBroadcastTogether) {
  // grid[[[0], [2]], [1, 3]] -> [[g[0,1], g[0,3]], [g[2,1], g[2,3]]]
  const Tensor r = grid().index({tensor({{0}, {2}}), tensor({1, 3})});
  EXPECT_EQ(shape(r), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(floats(r), (std::vector<float>{1, 3, 9, 11}));
}

TEST(AdvancedIndex, BoolMaskSelectsElements) {
  const Tensor g = grid();
  const Tensor r = g.index({g.gt(6)});
  EXPECT_EQ(floats(r), (std::vector<float>{7, 8, 9, 10, 11}));
  EXPECT_EQ(floats(masked_select(g, g.lt(2))), (std::vector<float>{0, 1}));
}

TEST(AdvancedIndex, MaskOfTheWrongShapeIsAnIndexError) {
  const std::string msg = error_of<IndexError>([] { grid().index({tensor({true, false})}); });
  EXPECT_NE(msg.find("index: the shape of the mask [2] at index 0 does not match the shape of "
                     "the indexed tensor [3, 4]"),
            std::string::npos)
      << msg;
}

TEST(AdvancedIndex, IndexOutOfRangeIsAnIndexErrorNamingTheValue) {
  const std::string msg = error_of<IndexError>([] { grid().index({tensor({1, 3})}); });
  EXPECT_NE(msg.find("index: index 3 is out of bounds for dimension 0 with size 3"),
            std::string::npos)
      << msg;
}

TEST(IndexPut, WritesAndAccumulates) {
  Tensor g = zeros({4});
  g.index_put_({tensor({0, 2, 0})}, tensor({1.0f, 2.0f, 3.0f}), /*accumulate=*/true);
  EXPECT_EQ(floats(g), (std::vector<float>{4, 0, 2, 0}));
  g.index_put_({g.gt(1)}, full({}, -1.0));
  EXPECT_EQ(floats(g), (std::vector<float>{-1, 0, -1, 0}));
  const Tensor copy = index_put(g, {tensor({1})}, tensor({7.0f}));
  EXPECT_EQ(floats(copy), (std::vector<float>{-1, 7, -1, 0}));
  EXPECT_EQ(floats(g), (std::vector<float>{-1, 0, -1, 0}));
}

TEST(IndexPut, BadIndexLeavesSelfUnchanged) {
  Tensor g = zeros({3});
  EXPECT_THROW(g.index_put_({tensor({0, 5})}, tensor({1.0f, 1.0f})), IndexError);
  EXPECT_EQ(floats(g), (std::vector<float>{0, 0, 0}));
}

TEST(MaskedFill, FillsWhereTheMaskHolds) {
  const Tensor g = grid();
  const Tensor r = g.masked_fill(tensor({true, false, false, true}), -1);
  EXPECT_EQ(floats(r), (std::vector<float>{-1, 1, 2, -1, -1, 5, 6, -1, -1, 9, 10, -1}));
  EXPECT_THROW(g.masked_fill(tensor({1.0f}), 0), TypeError);
}

TEST(Nonzero, GivesCoordinatesInOrder) {
  const Tensor r = nonzero(tensor({{0, 1, 0}, {2, 0, 3}}));
  EXPECT_EQ(shape(r), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(longs(r), (std::vector<int64_t>{0, 1, 1, 0, 1, 2}));
}

TEST(Scatter, SrcValueAndAdd) {
  const Tensor index = tensor({{0, 1, 2, 0}});
  const Tensor src = tensor({{1.0f, 2.0f, 3.0f, 4.0f}});
  EXPECT_EQ(floats(zeros({3, 4}).scatter(0, index, src)),
            (std::vector<float>{1, 0, 0, 4, 0, 2, 0, 0, 0, 0, 3, 0}));
  EXPECT_EQ(floats(zeros({2}).scatter_add(0, tensor({1, 1, 0}), tensor({1.0f, 2.0f, 3.0f}))),
            (std::vector<float>{3, 3}));
  EXPECT_EQ(floats(zeros({3}).scatter(0, tensor({2}), 5)), (std::vector<float>{0, 0, 5}));
}

TEST(Scatter, IndexOutOfRangeIsAnIndexErrorAndWritesNothing) {
  Tensor t = zeros({3});
  const std::string msg = error_of<IndexError>([&] {
    t.scatter_(0, tensor({1, 7}), tensor({1.0f, 1.0f}));
  });
  EXPECT_NE(msg.find("scatter_: index 7 is out of bounds for dimension 0 with size 3"),
            std::string::npos)
      << msg;
  EXPECT_EQ(floats(t), (std::vector<float>{0, 0, 0}));
}

TEST(Sort, StableWithNaNLast) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto [values, indices] = sort(tensor({3.0f, nan, 1.0f, 3.0f}));
  EXPECT_EQ(longs(indices), (std::vector<int64_t>{2, 0, 3, 1}));
  auto [dv, di] = tensor({3.0f, nan, 1.0f, 3.0f}).sort(-1, /*descending=*/true);
  EXPECT_EQ(longs(di), (std::vector<int64_t>{1, 0, 3, 2}));
  EXPECT_EQ(longs(argsort(tensor({5, 4, 6}))), (std::vector<int64_t>{1, 0, 2}));
}

TEST(Topk, LargestAndSmallest) {
  auto [v, i] = tensor({5, 1, 9, 3}).topk(2);
  EXPECT_EQ(longs(v), (std::vector<int64_t>{9, 5}));
  EXPECT_EQ(longs(i), (std::vector<int64_t>{2, 0}));
  auto [sv, si] = topk(tensor({5, 1, 9, 3}), 3, 0, /*largest=*/false);
  EXPECT_EQ(longs(sv), (std::vector<int64_t>{1, 3, 5}));
  EXPECT_THROW(topk(tensor({1, 2}), 3), IndexError);
}

TEST(Scan, CumsumAndCumprod) {
  EXPECT_EQ(floats(grid().cumsum(1)),
            (std::vector<float>{0, 1, 3, 6, 4, 9, 15, 22, 8, 17, 27, 38}));
  const Tensor p = tensor({1, 2, 3, 4}).to(kInt32).cumprod(0);
  EXPECT_EQ(p.dtype(), kInt64);
  EXPECT_EQ(longs(p), (std::vector<int64_t>{1, 2, 6, 24}));
}

TEST(Layout, RepeatTAndMT) {
  EXPECT_EQ(floats(tensor({1.0f, 2.0f}).repeat({2, 2})),
            (std::vector<float>{1, 2, 1, 2, 1, 2, 1, 2}));
  const Tensor x = zeros({2, 3, 4});
  EXPECT_EQ(shape(x.T()), (std::vector<int64_t>{4, 3, 2}));
  EXPECT_EQ(shape(x.mT()), (std::vector<int64_t>{2, 4, 3}));
}

TEST(Detach, SharesStorageWithoutGrad) {
  const Tensor x = ones({3}, TensorOptions().requires_grad(true));
  const Tensor d = x.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.raw_data(), x.raw_data());
}

TEST(Logic, AnyAllIsclose) {
  EXPECT_TRUE(tensor({0, 0, 2}).any().item<bool>());
  EXPECT_FALSE(tensor({0, 0, 2}).all().item<bool>());
  EXPECT_EQ(tensor({1, 2}).to(kUInt8).all().dtype(), kUInt8);
  EXPECT_TRUE(allclose(tensor({1.0f, 2.0f}), tensor({1.0f, 2.0000001f})));
  EXPECT_FALSE(tensor({1.0f}).allclose(tensor({1.1f})));
}

TEST(Conditional, WhereWithNumbersAndClampWithTensors) {
  const Tensor c = tensor({true, false});
  const Tensor w = where(c, tensor({1, 2}), 0.5);
  EXPECT_EQ(w.dtype(), kFloat32);
  EXPECT_EQ(floats(w), (std::vector<float>{1, 0.5}));
  EXPECT_EQ(where(c, 1, 0).dtype(), kInt64);
  const Tensor r = clamp(tensor({1.0f, 5.0f}), tensor({2.0f, 2.0f}), tensor({3.0f, 3.0f}));
  EXPECT_EQ(floats(r), (std::vector<float>{2, 3}));
}

TEST(Norm, VectorNorms) {
  const Tensor x = tensor({3.0f, -4.0f});
  EXPECT_FLOAT_EQ(x.norm().item<float>(), 5.0f);
  EXPECT_FLOAT_EQ(norm(x, 1).item<float>(), 7.0f);
  EXPECT_FLOAT_EQ(linalg_vector_norm(x, std::numeric_limits<double>::infinity()).item<float>(),
                  4.0f);
}

}  // namespace
}  // namespace sy

namespace sy {
namespace {

// index_select copies rows of every size (one element, 8 bytes, multiples of 32
// bytes, odd sizes) and blocks of outer rows; each result row is checked
// against the source row it names.
TEST(IndexSelect, RowsOfEverySizeAndNegativeIndices) {
  for (int64_t inner : {1, 2, 3, 8, 64, 100}) {
    for (ScalarType dtype : {kFloat32, kInt64, kUInt8, kFloat16}) {
      const Tensor x =
          arange(5 * 7 * inner, TensorOptions().dtype(kInt64)).reshape({5, 7, inner}).to(dtype);
      const Tensor index = tensor({6, -1, 0, 3, 3, -7, 2, 5, 1, 4});
      const Tensor r = index_select(x, 1, index);
      ASSERT_EQ(shape(r), (std::vector<int64_t>{5, 10, inner}));
      const std::vector<int64_t> got = longs(r), all = longs(x), idx = longs(index);
      for (int64_t o = 0; o < 5; ++o) {
        for (int64_t i = 0; i < 10; ++i) {
          const int64_t v = idx[i] < 0 ? idx[i] + 7 : idx[i];
          for (int64_t k = 0; k < inner; ++k) {
            ASSERT_EQ(got[(o * 10 + i) * inner + k], all[(o * 7 + v) * inner + k])
                << to_string(dtype) << " inner " << inner;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace sy
