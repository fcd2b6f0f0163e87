// The foundation's ops on CPU and Meta.
#include <gtest/gtest.h>

#include "switchyard/switchyard.h"

namespace sy {
namespace {

TEST(Factories, OnesZerosFullAndEmptyHaveTheRequestedShapeAndValues) {
  Tensor o = ones({2, 3});
  EXPECT_EQ(o.sizes(), IntArrayRef({2, 3}));
  EXPECT_EQ(o.dtype(), kFloat32);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(o.data_ptr<float>()[i], 1.0f);
  Tensor z = zeros({4}, TensorOptions().dtype(kInt64));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(z.data_ptr<int64_t>()[i], 0);
  Tensor f = full({2}, 7);
  EXPECT_EQ(f.dtype(), kInt64) << "an int fill value gives an int64 tensor, as in PyTorch";
  EXPECT_EQ(f.data_ptr<int64_t>()[1], 7);
  EXPECT_EQ(full({1}, 2.5).dtype(), kFloat32);
  EXPECT_EQ(empty({3, 0}).numel(), 0);
}

TEST(Factories, MetaDeviceGivesShapesWithoutData) {
  Tensor m = ones({5, 6}, TensorOptions().device(Device("meta")));
  EXPECT_TRUE(m.is_meta());
  EXPECT_EQ(m.numel(), 30);
  EXPECT_EQ(m.raw_data(), nullptr);
}

TEST(Add, AddsSameShapeAndBroadcastShapes) {
  Tensor a = full({2, 3}, 1.5);
  Tensor b = ones({3});
  Tensor c = sy::add(a, b, 2);
  EXPECT_EQ(c.sizes(), IntArrayRef({2, 3}));
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(c.data_ptr<float>()[i], 3.5f);
  EXPECT_FLOAT_EQ(a.add(a).data_ptr<float>()[0], 3.0f);
}

TEST(Add, InPlaceAndOutVariantsWriteTheirTarget) {
  Tensor a = ones({2, 2});
  a.add_(ones({2}));
  EXPECT_FLOAT_EQ(a.data_ptr<float>()[3], 2.0f);
  Tensor out = empty({2, 2});
  const Tensor& r = add_out(out, a, a);
  EXPECT_TRUE(r.is_same(out));
  EXPECT_FLOAT_EQ(out.data_ptr<float>()[0], 4.0f);
}

TEST(Add, NonContiguousInputs) {
  Tensor base = make_tensor({2, 3}, kFloat32, kCPU);
  for (int i = 0; i < 6; ++i) base.data_ptr<float>()[i] = static_cast<float>(i);
  // The transpose of base: shape [3, 2], strides [1, 3].
  Tensor t = make_view(base, {3, 2}, {1, 3}, 0);
  EXPECT_FALSE(t.is_contiguous());
  Tensor r = sy::add(t, zeros({3, 2}));
  const float expected[] = {0, 3, 1, 4, 2, 5};
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(r.data_ptr<float>()[i], expected[i]);
}

TEST(Add, MetaKernelGivesTheCpuResultShape) {
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> cases = {
      {{2, 3}, {3}}, {{4, 1, 5}, {3, 1}}, {{}, {2}}, {{1}, {1}}, {{0, 2}, {1, 2}}};
  for (const auto& [sa, sb] : cases) {
    Tensor cpu = sy::add(ones(sa), ones(sb));
    Tensor meta =
        sy::add(ones(sa, TensorOptions().device(kMeta)), ones(sb, TensorOptions().device(kMeta)));
    EXPECT_EQ(meta.sizes(), cpu.sizes());
    EXPECT_EQ(meta.dtype(), cpu.dtype());
  }
}

TEST(Add, ShapeMismatchIsAValueErrorNamingBothShapes) {
  try {
    sy::add(ones({2, 3}), ones({4}));
    FAIL() << "expected a ValueError";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3] and [4]"), std::string::npos) << e.what();
  }
}

TEST(Add, InPlaceCannotGrowSelf) { EXPECT_THROW(ones({3}).add_(ones({2, 3})), ValueError); }

TEST(Add, MixedDtypesPromote) {
  Tensor r = sy::add(ones({2}), ones({2}, TensorOptions().dtype(kInt64)));
  EXPECT_EQ(r.dtype(), kFloat32);
  EXPECT_EQ(r.data_ptr<float>()[1], 2.0f);
  EXPECT_THROW(ones({2}, TensorOptions().dtype(kInt64)).add_(ones({2})), TypeError)
      << "a float result cannot be written into an int64 self";
}

TEST(Fill, FillsANonContiguousView) {
  Tensor base = zeros({2, 3});
  Tensor col = make_view(base, {2}, {3}, 1);  // column 1
  col.fill_(5);
  EXPECT_FLOAT_EQ(base.data_ptr<float>()[1], 5.0f);
  EXPECT_FLOAT_EQ(base.data_ptr<float>()[4], 5.0f);
  EXPECT_FLOAT_EQ(base.data_ptr<float>()[0], 0.0f);
}

}  // namespace
}  // namespace sy
