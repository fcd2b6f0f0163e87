/* Runs a model exported from Python (examples/python/export_model.py) from a
 * plain C program: no C++ and no Python in this process.
 *
 *   usage: run_model MODEL_PATH */
#include <stdio.h>

#include "switchyard/aot/c_api.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL_PATH\n", argv[0]);
    return 2;
  }
  int version = 0;
  if (sy_abi_version(&version) != SY_OK || version != SY_ABI_VERSION) {
    fprintf(stderr, "libswitchyard has ABI version %d, this program was built for %d\n", version,
            SY_ABI_VERSION);
    return 1;
  }
  sy_model* model = NULL;
  if (sy_model_load(argv[1], &model) != SY_OK) {
    fprintf(stderr, "load failed: %s\n", sy_last_error());
    return 1;
  }

  /* Two rows of ones: the batch of the traced example was 8, and it may vary. */
  float x[2][4] = {{1, 1, 1, 1}, {1, 1, 1, 1}};
  const int64_t sizes[2] = {2, 4};
  sy_tensor_ref input = {x, SY_FLOAT32, 2, sizes, NULL};

  /* Borrowed: the library points the ref at this thread's cached output. */
  sy_tensor_ref scores = {NULL, 0, 0, NULL, NULL};
  if (sy_model_run(model, &input, 1, &scores, 1) != SY_OK) {
    fprintf(stderr, "run failed: %s\n", sy_last_error());
    sy_model_release(model);
    return 1;
  }
  const float* s = (const float*)scores.data;
  printf("C: for ones(2, 4) the model returns [[%g, %g], [%g, %g]] (shape [%lld, %lld])\n", s[0],
         s[1], s[2], s[3], (long long)scores.sizes[0], (long long)scores.sizes[1]);

  /* Into a buffer of the wrong shape: a status and a message, not a crash. */
  float small[2];
  const int64_t small_sizes[2] = {1, 2};
  sy_tensor_ref too_small = {small, SY_FLOAT32, 2, small_sizes, NULL};
  if (sy_model_run(model, &input, 1, &too_small, 1) == SY_ERROR_INVALID_ARGUMENT) {
    printf("C: a [1, 2] output buffer is refused: %s\n", sy_last_error());
  }

  sy_model_release(model);
  return 0;
}
