// After the first call of a given shape, a thread's borrowed and into-buffer
// runs of a model allocate nothing. This program replaces malloc and its
// relatives (which operator new calls too) with counting versions over glibc's
// own, and counts the calling thread's allocations during runs. Sanitizer
// builds intercept malloc themselves, so there the tests are skipped.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "switchyard/switchyard.h"
#include "test_tensors.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SY_COUNT_ALLOCATIONS 0
#else
#define SY_COUNT_ALLOCATIONS 1
#endif

namespace {
thread_local bool tls_counting = false;
thread_local int64_t tls_allocations = 0;
}  // namespace

#if SY_COUNT_ALLOCATIONS
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);

static inline void note_allocation() {
  if (tls_counting) ++tls_allocations;
}
void* malloc(size_t n) {
  note_allocation();
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t size) {
  note_allocation();
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t n) {
  note_allocation();
  return __libc_realloc(p, n);
}
void* memalign(size_t alignment, size_t n) {
  note_allocation();
  return __libc_memalign(alignment, n);
}
void* aligned_alloc(size_t alignment, size_t n) {
  note_allocation();
  return __libc_memalign(alignment, n);
}
int posix_memalign(void** out, size_t alignment, size_t n) {
  note_allocation();
  void* p = __libc_memalign(alignment, n);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
void free(void* p) { __libc_free(p); }
}
#endif

namespace sy::aot {
namespace {

using testing_tensors::random_uniform;

// Counts the calling thread's allocations while it lives.
class CountAllocations {
 public:
  CountAllocations() {
    tls_allocations = 0;
    tls_counting = true;
  }
  ~CountAllocations() { tls_counting = false; }
  int64_t count() const { return tls_allocations; }
};

// The benchmark's MLP: 64 -> 128 -> 10, as torch.nn.Linear computes it.
Model mlp_model(int64_t batch) {
  const Tensor w1 = random_uniform({64, 128}, 1), b1 = random_uniform({128}, 2),
               w2 = random_uniform({128, 10}, 3), b2 = random_uniform({10}, 4);
  return Model::compile(trace(
      [&](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{addmm(b2, relu(addmm(b1, in[0], w1)), w2)};
      },
      {random_uniform({batch, 64}, 5)}));
}

// The benchmark's small model: sum(relu(mm(x, w) + b)) on 4x4.
Model small_model() {
  const Tensor w = random_uniform({4, 4}, 6), b = random_uniform({4, 4}, 7);
  return Model::compile(trace(
      [&](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{relu(add(mm(in[0], w), b)).sum()};
      },
      {random_uniform({4, 4}, 8)}));
}

class AotAllocations : public testing::Test {
 protected:
  void SetUp() override {
    if (!SY_COUNT_ALLOCATIONS) GTEST_SKIP() << "sanitizer builds intercept malloc themselves";
  }
};

TEST_F(AotAllocations, CountingSeesAllocations) {
  // The counter works: a plain op call allocates its result.
  const Tensor x = random_uniform({64, 64}, 9);
  CountAllocations count;
  const Tensor y = add(x, x);
  EXPECT_GT(count.count(), 0);
}

TEST_F(AotAllocations, BorrowedRunsAllocateNothingAfterWarmUp) {
  const Model model = mlp_model(32);
  const std::vector<Tensor> in = {random_uniform({32, 64}, 10)};
  model.run_borrowed(in);
  model.run_borrowed(in);
  CountAllocations count;
  for (int i = 0; i < 100; ++i) model.run_borrowed(in);
  EXPECT_EQ(count.count(), 0);
}

TEST_F(AotAllocations, RunsIntoBuffersAllocateNothingAfterWarmUp) {
  const Model model = mlp_model(32);
  const std::vector<Tensor> in = {random_uniform({32, 64}, 11)};
  const std::vector<Tensor> out = {empty({32, 10})};
  model.run_into(in, out);
  CountAllocations count;
  for (int i = 0; i < 100; ++i) model.run_into(in, out);
  EXPECT_EQ(count.count(), 0);
}

TEST_F(AotAllocations, SmallModelAllocatesNothingAfterWarmUp) {
  const Model model = small_model();
  const std::vector<Tensor> in = {random_uniform({4, 4}, 12)};
  model.run_borrowed(in);
  CountAllocations count;
  for (int i = 0; i < 100; ++i) model.run_borrowed(in);
  EXPECT_EQ(count.count(), 0);
}

TEST_F(AotAllocations, ShapesSeenBeforeAllocateNothing) {
  // The first dim varies; each shape is planned once, then alternating
  // between shapes seen allocates nothing.
  // One intra-op thread: OpenBLAS's threaded gemm (Debian's pthread build), which the
  // 50-row product is large enough to take with two, mallocs its job list on each call.
  const int threads = get_num_threads();
  set_num_threads(1);
  struct Restore {
    int n;
    ~Restore() { set_num_threads(n); }
  } restore{threads};
  const Model model = mlp_model(32);
  const std::vector<Tensor> a = {random_uniform({32, 64}, 13)}, b = {random_uniform({8, 64}, 14)},
                            c = {random_uniform({50, 64}, 15)};
  for (const auto* in : {&a, &b, &c}) model.run_borrowed(*in);
  CountAllocations count;
  for (int i = 0; i < 30; ++i) {
    for (const auto* in : {&a, &b, &c}) model.run_borrowed(*in);
  }
  EXPECT_EQ(count.count(), 0);
}

TEST_F(AotAllocations, CAbiRunsAllocateNothingAfterWarmUp) {
  const std::string path = testing::TempDir() + "/aot_allocation_test_mlp.sy";
  {
    const Tensor w1 = random_uniform({64, 128}, 1), b1 = random_uniform({128}, 2),
                 w2 = random_uniform({128, 10}, 3), b2 = random_uniform({10}, 4);
    trace(
        [&](const std::vector<Tensor>& in) {
          return std::vector<Tensor>{addmm(b2, relu(addmm(b1, in[0], w1)), w2)};
        },
        {random_uniform({32, 64}, 5)})
        .save(path);
  }
  sy_model* model = nullptr;
  ASSERT_EQ(sy_model_load(path.c_str(), &model), SY_OK) << sy_last_error();
  const Tensor x = random_uniform({32, 64}, 17);
  const int64_t sizes[2] = {32, 64};
  const sy_tensor_ref in = {x.raw_data(), SY_FLOAT32, 2, sizes, nullptr};
  float buffer[32 * 10];
  const int64_t out_sizes[2] = {32, 10};
  auto run = [&] {
    sy_tensor_ref borrowed = {nullptr, 0, 0, nullptr, nullptr};
    sy_tensor_ref into = {buffer, SY_FLOAT32, 2, out_sizes, nullptr};
    EXPECT_EQ(sy_model_run(model, &in, 1, &borrowed, 1), SY_OK);
    EXPECT_EQ(sy_model_run(model, &in, 1, &into, 1), SY_OK);
  };
  run();
  {
    CountAllocations count;
    for (int i = 0; i < 50; ++i) run();
    EXPECT_EQ(count.count(), 0);
  }
  sy_model_release(model);
  std::remove(path.c_str());
}

TEST_F(AotAllocations, OwnedOutputsAllocateOnlyTheOutputs) {
  // run() hands out new tensors: their storage, their impls and the vector.
  const Model model = mlp_model(32);
  const std::vector<Tensor> in = {random_uniform({32, 64}, 16)};
  model.run(in);
  CountAllocations count;
  for (int i = 0; i < 10; ++i) model.run(in);
  EXPECT_LE(count.count(), 10 * 3);
}

}  // namespace
}  // namespace sy::aot
