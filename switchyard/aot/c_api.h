/* switchyard's C ABI: load a model saved with sy::Graph::save (or Python's
 * sy.aot.compile) and run it from C, from any number of threads.
 *
 *   sy_model* model;
 *   if (sy_model_load("model.sy", &model) != SY_OK) { puts(sy_last_error()); ... }
 *   int64_t sizes[2] = {32, 64};
 *   sy_tensor_ref in = {x_data, SY_FLOAT32, 2, sizes, NULL};
 *   sy_tensor_ref out = {NULL};              (data NULL: borrow the thread's cached output)
 *   sy_model_run(model, &in, 1, &out, 1);    (out now points at the output, its sizes too)
 *   sy_model_release(model);
 *
 * Every function returns an int status, SY_OK (0) on success; on failure the
 * calling thread's sy_last_error() says what went wrong (a failed run may
 * have written some of its output buffers; the model is unchanged).
 * Tensors cross the boundary as sy_tensor_ref: non-owning views of memory the
 * other side owns. An input ref's memory must stay valid during the call.
 * An output ref whose data is non-NULL is written into: its dtype, ndim and
 * sizes must be the output's (strides NULL means contiguous). An output ref
 * whose data is NULL is pointed at the calling thread's cached output (data,
 * dtype, ndim, sizes, strides), valid until that thread's next run of the
 * model; outputs never share memory with each other or with an input.
 *
 * Threads: a model may be run from many threads at once; each thread has its
 * own cached outputs and buffers, and runs take no lock shared by threads.
 * sy_model_release must not race with runs of the same model.
 *
 * This header is plain C (C99), and the shared library exports no other C
 * symbols. docs/aot.md describes the runtime and the file format. */
#ifndef SWITCHYARD_AOT_C_API_H
#define SWITCHYARD_AOT_C_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SY_C_API __attribute__((visibility("default")))

/* The version of this ABI. A program compiled against this header should
 * check sy_abi_version() against it: a library with another version may lay
 * out sy_tensor_ref differently. */
#define SY_ABI_VERSION 1

/* Statuses. */
#define SY_OK 0
#define SY_ERROR_INVALID_ARGUMENT \
  1                         /* a null pointer, a malformed ref, inputs or outputs that do not fit */
#define SY_ERROR_LOAD 2     /* a missing, bad or incompatible model file */
#define SY_ERROR_RUN 3      /* the model refused the inputs' shapes, or an op failed */
#define SY_ERROR_INTERNAL 4 /* out of memory, or a bug: the message says which */

/* Element types. */
#define SY_BOOL 0
#define SY_UINT8 1
#define SY_INT32 2
#define SY_INT64 3
#define SY_FLOAT32 4
#define SY_FLOAT64 5
#define SY_FLOAT16 6  /* IEEE half, as uint16_t bits */
#define SY_BFLOAT16 7 /* bfloat16, as uint16_t bits */

/* A tensor the caller or the library owns, seen without owning it: `ndim`
 * sizes and strides (in elements; NULL strides: contiguous, row-major). */
typedef struct sy_tensor_ref {
  void* data;
  int32_t dtype;
  int32_t ndim;
  const int64_t* sizes;
  const int64_t* strides;
} sy_tensor_ref;

/* A loaded model. */
typedef struct sy_model sy_model;

/* Writes SY_ABI_VERSION of the library into *version. */
SY_C_API int sy_abi_version(int* version);

/* Loads the model saved at `path` into *out. */
SY_C_API int sy_model_load(const char* path, sy_model** out);

/* The number of inputs and outputs of `model`. */
SY_C_API int sy_model_num_inputs(const sy_model* model, size_t* out);
SY_C_API int sy_model_num_outputs(const sy_model* model, size_t* out);

/* Runs `model` on `inputs` and fills `outputs` (see above). */
SY_C_API int sy_model_run(sy_model* model, const sy_tensor_ref* inputs, size_t n_inputs,
                          sy_tensor_ref* outputs, size_t n_outputs);

/* Releases a model from sy_model_load; NULL is allowed. Borrowed outputs of its
 * runs are invalid afterwards. */
SY_C_API int sy_model_release(sy_model* model);

/* The calling thread's last error message ("" when there was none); valid
 * until the thread's next failing call. */
SY_C_API const char* sy_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* SWITCHYARD_AOT_C_API_H */
