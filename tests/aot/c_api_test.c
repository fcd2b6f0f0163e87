/* The C ABI from a C program (no C++, no Python in this process): load a
 * model saved by another process, run it (borrowed outputs, caller buffers,
 * four threads at once), and get a status and a message for every kind of
 * bad input. Usage: aot_c_api_test MODELS_DIR (written by aot_make_models). */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switchyard/aot/c_api.h"

static int failures = 0;

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "%s:%d: CHECK(%s) failed; sy_last_error: %s\n",      \
              __FILE__, __LINE__, #cond, sy_last_error());                 \
      ++failures;                                                          \
    }                                                                      \
  } while (0)

#define CHECK_ERROR(call, status, text)                                   \
  do {                                                                     \
    int rc_ = (call);                                                      \
    CHECK(rc_ == (status));                                                \
    CHECK(strstr(sy_last_error(), (text)) != NULL);                        \
  } while (0)

static char dir[4096];
static float input[8 * 16];
static float expected[8 * 4];
static const int64_t in_sizes[2] = {8, 16};
static const int64_t out_sizes[2] = {8, 4};

static void read_floats(const char* name, float* out, size_t n) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE* f = fopen(path, "rb");
  if (f == NULL || fread(out, sizeof(float), n, f) != n) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(2);
  }
  fclose(f);
}

static sy_model* load(const char* name, int* status) {
  char path[4200];
  sy_model* model = NULL;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  *status = sy_model_load(path, &model);
  return model;
}

static int same(const float* a, const float* b, size_t n) { return memcmp(a, b, n * sizeof(float)) == 0; }

/* Within float32 rounding: a product of another shape may take another BLAS kernel (the
   small-matrix kernels of AVX-512 OpenBLAS), which sums in another order. */
static int close_to(const float* a, const float* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float scale = fabsf(b[i]) > 1.0f ? fabsf(b[i]) : 1.0f;
    if (!(fabsf(a[i] - b[i]) <= 1e-5f * scale)) return 0;
  }
  return 1;
}

static void* run_many(void* arg) {
  sy_model* model = (sy_model*)arg;
  for (int i = 0; i < 50; ++i) {
    sy_tensor_ref in = {input, SY_FLOAT32, 2, in_sizes, NULL};
    sy_tensor_ref out = {NULL, 0, 0, NULL, NULL};
    if (sy_model_run(model, &in, 1, &out, 1) != SY_OK || !same((const float*)out.data, expected, 32)) {
      return (void*)1;
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODELS_DIR\n", argv[0]);
    return 2;
  }
  snprintf(dir, sizeof dir, "%s", argv[1]);
  read_floats("mlp_input.bin", input, 8 * 16);
  read_floats("mlp_expected.bin", expected, 8 * 4);

  int version = 0;
  CHECK(sy_abi_version(&version) == SY_OK && version == SY_ABI_VERSION);
  CHECK(sy_abi_version(NULL) == SY_ERROR_INVALID_ARGUMENT);

  /* Loading. */
  int status;
  sy_model* model = NULL;
  CHECK_ERROR(sy_model_load(NULL, &model), SY_ERROR_INVALID_ARGUMENT, "path is NULL");
  CHECK_ERROR(sy_model_load("x.sy", NULL), SY_ERROR_INVALID_ARGUMENT, "out is NULL");
  CHECK(load("missing.sy", &status) == NULL && status == SY_ERROR_LOAD);
  CHECK(strstr(sy_last_error(), "cannot open") != NULL);
  CHECK(load("truncated.sy", &status) == NULL && status == SY_ERROR_LOAD);
  CHECK(strstr(sy_last_error(), "truncated") != NULL);
  CHECK(load("newer.sy", &status) == NULL && status == SY_ERROR_LOAD);
  CHECK(strstr(sy_last_error(), "newer than this library reads") != NULL);
  model = load("mlp.sy", &status);
  CHECK(status == SY_OK && model != NULL);
  if (model == NULL) return 1;
  size_t n = 0;
  CHECK(sy_model_num_inputs(model, &n) == SY_OK && n == 1);
  CHECK(sy_model_num_outputs(model, &n) == SY_OK && n == 1);

  /* Borrowed outputs: pointed at this thread's cache. */
  sy_tensor_ref in = {input, SY_FLOAT32, 2, in_sizes, NULL};
  sy_tensor_ref out = {NULL, 0, 0, NULL, NULL};
  CHECK(sy_model_run(model, &in, 1, &out, 1) == SY_OK);
  CHECK(out.dtype == SY_FLOAT32 && out.ndim == 2 && out.sizes[0] == 8 && out.sizes[1] == 4);
  CHECK(out.strides[0] == 4 && out.strides[1] == 1);
  CHECK(same((const float*)out.data, expected, 32));

  /* Caller buffers, contiguous and strided (a transposed 4x8 buffer). */
  float buffer[32] = {0};
  sy_tensor_ref into = {buffer, SY_FLOAT32, 2, out_sizes, NULL};
  CHECK(sy_model_run(model, &in, 1, &into, 1) == SY_OK);
  CHECK(same(buffer, expected, 32));
  float transposed[32] = {0};
  const int64_t t_strides[2] = {1, 8};
  sy_tensor_ref strided = {transposed, SY_FLOAT32, 2, out_sizes, t_strides};
  CHECK(sy_model_run(model, &in, 1, &strided, 1) == SY_OK);
  CHECK(transposed[8 * 1 + 3] == expected[3 * 4 + 1]);

  /* A batch of another size: the first dim may vary. */
  const int64_t two[2] = {2, 16};
  sy_tensor_ref in2 = {input, SY_FLOAT32, 2, two, NULL};
  out = (sy_tensor_ref){NULL, 0, 0, NULL, NULL};
  CHECK(sy_model_run(model, &in2, 1, &out, 1) == SY_OK && out.sizes[0] == 2);
  CHECK(close_to((const float*)out.data, expected, 8));

  /* Bad calls: a status and a message, never a crash. */
  out = (sy_tensor_ref){NULL, 0, 0, NULL, NULL};
  CHECK_ERROR(sy_model_run(NULL, &in, 1, &out, 1), SY_ERROR_INVALID_ARGUMENT, "model is NULL");
  CHECK_ERROR(sy_model_run(model, NULL, 1, &out, 1), SY_ERROR_INVALID_ARGUMENT, "NULL");
  CHECK_ERROR(sy_model_run(model, &in, 1, NULL, 1), SY_ERROR_INVALID_ARGUMENT, "NULL");
  CHECK_ERROR(sy_model_run(model, &in, 2, &out, 1), SY_ERROR_INVALID_ARGUMENT, "takes 1 inputs, got 2");
  CHECK_ERROR(sy_model_run(model, &in, 1, &out, 0), SY_ERROR_INVALID_ARGUMENT, "has 1 outputs");
  sy_tensor_ref bad = in;
  bad.dtype = 42;
  CHECK_ERROR(sy_model_run(model, &bad, 1, &out, 1), SY_ERROR_INVALID_ARGUMENT, "dtype code 42");
  bad = in;
  bad.dtype = SY_FLOAT64;
  CHECK_ERROR(sy_model_run(model, &bad, 1, &out, 1), SY_ERROR_RUN, "dtype float64");
  bad = in;
  bad.ndim = -1;
  CHECK_ERROR(sy_model_run(model, &bad, 1, &out, 1), SY_ERROR_INVALID_ARGUMENT, "ndim -1");
  bad = in;
  bad.sizes = NULL;
  CHECK_ERROR(sy_model_run(model, &bad, 1, &out, 1), SY_ERROR_INVALID_ARGUMENT, "NULL sizes");
  bad = in;
  bad.data = NULL;
  CHECK_ERROR(sy_model_run(model, &bad, 1, &out, 1), SY_ERROR_INVALID_ARGUMENT, "NULL data");
  const int64_t wrong[2] = {8, 15};
  bad = in;
  bad.sizes = wrong;
  CHECK_ERROR(sy_model_run(model, &bad, 1, &out, 1), SY_ERROR_RUN, "has shape [8, 15]");
  const int64_t small[2] = {8, 3};
  sy_tensor_ref too_small = {buffer, SY_FLOAT32, 2, small, NULL};
  CHECK_ERROR(sy_model_run(model, &in, 1, &too_small, 1), SY_ERROR_INVALID_ARGUMENT,
              "output 0 has shape [8, 3], but the model's output 0 has shape [8, 4]");
  sy_tensor_ref wrong_type = {buffer, SY_INT64, 2, out_sizes, NULL};
  CHECK_ERROR(sy_model_run(model, &in, 1, &wrong_type, 1), SY_ERROR_INVALID_ARGUMENT, "output 0 has dtype");
  CHECK_ERROR(sy_model_num_inputs(NULL, &n), SY_ERROR_INVALID_ARGUMENT, "NULL");

  /* Four threads at once, each result checked. */
  pthread_t threads[4];
  for (int i = 0; i < 4; ++i) pthread_create(&threads[i], NULL, run_many, model);
  for (int i = 0; i < 4; ++i) {
    void* result = NULL;
    pthread_join(threads[i], &result);
    CHECK(result == NULL);
  }

  CHECK(sy_model_release(model) == SY_OK);
  CHECK(sy_model_release(NULL) == SY_OK);
  if (failures == 0) printf("c_api_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
